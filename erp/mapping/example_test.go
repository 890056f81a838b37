package mapping_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/mapping"
)

// A mapping for Tryton that turns a Fenbeitong car order into a supplier
// invoice: money stays exact from the record's decimal text to the bare
// numbers of the document, and the description is cut visibly to fit.
func Example() {
	const file = `# erpbridge ERP mapping
erp: tryton
kinds:
  car_order: |
    .data as $d
    | {
        model: "account.invoice",
        values: {
          type: "in",
          reference: .number,
          invoice_date: .occurred_at[0:10],
          description: ("Car: " + $d.route | truncate(16)),
          total: ([$d.price_detail_info[].amount] | dec_sum),
          total_text: ([$d.price_detail_info[].amount] | dec_sum | dec_text),
          tax: (dec_mul($d.price_info.total_price; "0.06") | dec_round(2))
        },
        lines: [$d.price_detail_info[] | {description: .name, unit_price: (.amount | decimal)}]
      }
`
	set, err := mapping.Parse(erp.KindTryton, "example.yaml", []byte(file))
	if err != nil {
		fmt.Println(err)
		return
	}
	r := erp.Record{
		Source:     "fenbeitong",
		Kind:       "car_order",
		ExternalID: "6612c0ffee0000000000a611",
		Version:    1,
		OccurredAt: time.Date(2024, 5, 1, 9, 40, 0, 0, time.FixedZone("CST", 8*3600)),
		Data: json.RawMessage(`{
			"route": "Runcheng Centre to Capital Airport T3",
			"price_detail_info": [
				{"name": "distance", "amount": "98765432101234.5678"},
				{"name": "coupon", "amount": "-5"},
				{"name": "tip", "amount": "0.1"},
				{"name": "toll", "amount": "0.2"}
			],
			"price_info": {"total_price": "98765432101229.8678"}
		}`),
	}
	doc, err := set.Render(context.Background(), r)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(doc))

	r.Kind = "hotel_order"
	_, err = set.Render(context.Background(), r)
	fmt.Println(errors.Is(err, mapping.ErrNoMapping), err)
	// Output:
	// {"lines":[{"description":"distance","unit_price":98765432101234.5678},{"description":"coupon","unit_price":-5},{"description":"tip","unit_price":0.1},{"description":"toll","unit_price":0.2}],"model":"account.invoice","values":{"description":"Car: Runcheng C…","invoice_date":"2024-05-01","reference":"FBT-CAR-6612c0ffee0000000000a611","tax":5925925926073.79,"total":98765432101229.8678,"total_text":"98765432101229.8678","type":"in"}}
	// true mapping example.yaml: kind hotel_order: no mapping for this kind
}

// A program that does not compile is refused with the file, the kind, the
// line and column in the file, and gojq's message.
func ExampleParse_error() {
	const file = `erp: kingdee
kinds:
  car_order: |
    {
      formid: "AP_Payable",
      model: {FDATE: .occurred_at[0:10] FNOTE: "x"}
    }
`
	_, err := mapping.Parse(erp.KindKingdee, "kingdee.yaml", []byte(file))
	fmt.Println(err)
	// Output:
	// mapping kingdee.yaml: kind car_order: line 6, column 41: unexpected token "FNOTE"
}

package mapping

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/golden"
)

// FuzzDefaultMappings renders the golden records' kinds with any data
// through both default mappings: a render never panics, and gives either
// one JSON object with every decimal turned back into a bare number, or a
// mapping *Error that says what went wrong.
func FuzzDefaultMappings(f *testing.F) {
	records := golden.Records(f, "*.json")
	for i, r := range records {
		f.Add(uint8(i), []byte(r.Data))
	}
	for _, data := range []string{
		`{}`, `[]`, `null`, `"text"`, `{"order_info":null}`, `{"price_info":{"total_price":"1e999999"}}`,
		`{"price_detail_info":[{"amount":"-0.00"},{"amount":1e-7},{"amount":"NaN"}]}`,
		`{"carInfo":{"carNum":"\uDB7F\uDEC0 1"}}`, `{"a":` + strings.Repeat(`[`, 64) + strings.Repeat(`]`, 64) + `}`,
	} {
		f.Add(uint8(0), []byte(data))
	}
	var sets []*Set
	for _, kind := range []string{erp.KindKingdee, erp.KindTryton} {
		s, err := Default(kind)
		if err != nil {
			f.Fatal(err)
		}
		sets = append(sets, s)
	}

	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		r := records[int(which)%len(records)].Record
		r.Data = data
		for _, s := range sets {
			doc, err := s.Render(context.Background(), r)
			if err != nil {
				var me *Error
				if !errors.As(err, &me) || me.Reason == "" || me.Kind != r.Kind {
					t.Fatalf("%s: error %v (%T) is not a mapping error naming the kind", s.file, err, err)
				}
				continue
			}
			var obj map[string]any
			dec := json.NewDecoder(bytes.NewReader(doc))
			dec.UseNumber()
			if err := dec.Decode(&obj); err != nil || obj == nil || dec.More() {
				t.Fatalf("%s: document is not one JSON object: %v\n%s", s.file, err, doc)
			}
			if strings.Contains(string(doc), decimalMarker) {
				t.Fatalf("%s: a decimal marker left in the document:\n%s", s.file, doc)
			}
		}
	})
}

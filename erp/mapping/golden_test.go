package mapping

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/golden"
)

// goldenRecords are the records of the golden files: each file's
// "erp"."body" and each of its "parts"[]."erp"."body".
func goldenRecords(t *testing.T) map[string]erp.Record {
	t.Helper()
	records := make(map[string]erp.Record)
	for _, r := range golden.Records(t, "*.json") {
		records[r.Name] = r.Record
	}
	return records
}

func TestDefaultsRenderEveryGoldenRecord(t *testing.T) {
	t.Parallel()
	records := goldenRecords(t)
	require.GreaterOrEqual(t, len(records), 15)
	for _, kind := range []string{erp.KindKingdee, erp.KindTryton} {
		s, err := Default(kind)
		require.NoError(t, err)
		rendered := map[string]int{}
		for name, r := range records {
			doc, err := s.Render(context.Background(), r)
			if err != nil {
				assert.True(t, errors.Is(err, ErrNoMapping), "%s %s: %v", kind, name, err)
				assert.False(t, s.Has(r.Kind), "%s %s", kind, name)
				continue
			}
			var obj map[string]any
			require.NoError(t, json.Unmarshal(doc, &obj), "%s %s", kind, name)
			rendered[r.Kind]++
		}
		assert.Equal(t, 2, rendered["car_order"], kind)
		assert.Equal(t, 2, rendered["reception_order"], kind)
	}
}

// carOrder is the golden Fenbeitong car order with the largest amounts.
func carOrder(t *testing.T) (erp.Record, []string) {
	t.Helper()
	r := goldenRecords(t)["fenbeitong_car_full.json#0"]
	require.Equal(t, "car_order", r.Kind)
	var data struct {
		PriceDetailInfo []struct {
			Amount string `json:"amount"`
		} `json:"price_detail_info"`
	}
	require.NoError(t, json.Unmarshal(r.Data, &data))
	var amounts []string
	for _, p := range data.PriceDetailInfo {
		amounts = append(amounts, p.Amount)
	}
	require.Equal(t, []string{"14.1", "98765432101234.5678", "10.12345", "-5"}, amounts)
	return r, amounts
}

// renderDefault renders r with the default mapping of an ERP kind.
func renderDefault(t *testing.T, kind string, r erp.Record) []byte {
	t.Helper()
	s, err := Default(kind)
	require.NoError(t, err)
	doc, err := s.Render(context.Background(), r)
	require.NoError(t, err)
	return doc
}

// decodeExact decodes a document keeping numbers as written.
func decodeExact(t *testing.T, doc []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	require.NoError(t, dec.Decode(v))
}

// A car order's amounts reach both default documents exactly as written.
func TestDefaultCarOrderAmountsAreExact(t *testing.T) {
	t.Parallel()
	r, amounts := carOrder(t)

	doc := renderDefault(t, erp.KindKingdee, r)
	var kd struct {
		FormID string `json:"formid"`
		Submit bool   `json:"submit"`
		Audit  bool   `json:"audit"`
		Model  struct {
			Supplier struct{ FNumber string } `json:"FSUPPLIERID"`
			Lines    []struct {
				Price json.Number `json:"FTaxPrice"`
			} `json:"FEntityDetail"`
		} `json:"model"`
	}
	decodeExact(t, doc, &kd)
	assert.Equal(t, "AP_Payable", kd.FormID)
	assert.False(t, kd.Submit)
	assert.False(t, kd.Audit)
	assert.NotEmpty(t, kd.Model.Supplier.FNumber)
	// One line for what the company owes (total_price less what the
	// traveller paid): the price details need not add up to the total.
	require.Len(t, kd.Model.Lines, 1)
	assert.Equal(t, json.Number("98765432101234.5678"), kd.Model.Lines[0].Price)
	assert.NotEmpty(t, amounts)
	assert.Contains(t, string(doc), `"FTaxPrice":98765432101234.5678`)

	doc = renderDefault(t, erp.KindTryton, r)
	var td struct {
		Model  string `json:"model"`
		Values struct {
			Type      string `json:"type"`
			Reference string `json:"reference"`
		} `json:"values"`
		Refs struct {
			Party struct {
				Model string `json:"model"`
			} `json:"party"`
		} `json:"refs"`
		Lines struct {
			Field string `json:"field"`
			Model string `json:"model"`
			Items []struct {
				Values struct {
					UnitPrice json.Number `json:"unit_price"`
				} `json:"values"`
			} `json:"items"`
		} `json:"lines"`
	}
	decodeExact(t, doc, &td)
	assert.Equal(t, "account.invoice", td.Model)
	assert.Equal(t, "in", td.Values.Type)
	assert.Equal(t, erp.DocumentNumber(r), td.Values.Reference)
	assert.Equal(t, "party.party", td.Refs.Party.Model)
	assert.Equal(t, "lines", td.Lines.Field)
	assert.Equal(t, "account.invoice.line", td.Lines.Model)
	require.Len(t, td.Lines.Items, len(amounts))
	for i, it := range td.Lines.Items {
		assert.Equal(t, json.Number(amounts[i]), it.Values.UnitPrice)
	}
}

func TestDefaultReceptionOrders(t *testing.T) {
	t.Parallel()
	r := goldenRecords(t)["autox3_receivebase_create_full.json#0"]
	require.Equal(t, "reception_order", r.Kind)

	doc := renderDefault(t, erp.KindKingdee, r)
	var kd struct {
		FormID string `json:"formid"`
		Model  struct {
			Lines []struct {
				Note string `json:"FEntryNote"`
			} `json:"FSaleOrderEntry"`
		} `json:"model"`
	}
	decodeExact(t, doc, &kd)
	assert.Equal(t, "SAL_SaleOrder", kd.FormID)
	require.Len(t, kd.Model.Lines, 1)
	assert.Equal(t, "里程 12345.67 km", kd.Model.Lines[0].Note)

	doc = renderDefault(t, erp.KindTryton, r)
	var td struct {
		Model  string `json:"model"`
		Values struct {
			Reference string `json:"reference"`
		} `json:"values"`
		Refs struct {
			Party struct {
				Search [][]string `json:"search"`
			} `json:"party"`
		} `json:"refs"`
	}
	decodeExact(t, doc, &td)
	assert.Equal(t, "sale.sale", td.Model)
	assert.Equal(t, "AX3-RO-6483", td.Values.Reference)
	assert.Equal(t, [][]string{{"code", "=", "AX3-OWNER-6483"}}, td.Refs.Party.Search, "the owner's party is found by a code from AutoX3's ids, never by a phone number")
}

package golden

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/activities"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/store"
	"github.com/erpbridge/erpbridge/vendors"
)

// numericField is one numeric field of the vendors' documents: a body with
// the placeholders {{ID}} (the record's id) and {{N}} (the number, as JSON),
// and where the number sits in the record the ERP receives.
type numericField struct {
	name    string
	vendor  string
	body    string
	data    []any // path in the ERP's data
	percent bool  // AutoX3 also writes it as text ending in "%"
}

// autox3Body is a receivebase.create or report envelope around content.
func autox3Body(msgType, content string) string {
	return `{"msgId":"prop-{{ID}}","msgType":"` + msgType + `","createTime":1700000000000,` +
		`"msgSignature":"0000000000000000000000000000000000000000","staffInfo":{"staffId":380},"content":` + content + `}`
}

// numericFields are the documents' numeric fields, each in a body its
// vendor decodes.
func numericFields(t *testing.T) []numericField {
	t.Helper()
	sample, err := os.ReadFile("testdata/fixtures/fenbeitong_car_sample.json")
	if err != nil {
		t.Fatal(err)
	}
	car := func(old string) string {
		s := strings.Replace(string(sample), `"order_id": "5eaab72f23445f46685f8cc8"`, `"order_id": "prop{{ID}}"`, 1)
		if !strings.Contains(s, old) {
			t.Fatalf("%q is not in the car order sample", old)
		}
		key, _, _ := strings.Cut(old, ":")
		return strings.Replace(s, old, key+": {{N}}", 1)
	}
	const rc, rep = "event.autox3.order.receivebase.create", "event.autox3.order.detection.finish.report"
	return []numericField{
		{"odograph", vendors.AutoX3, autox3Body(rc, `{"receiveBaseId":{{ID}},"preCheckInfo":{"odograph":{{N}}}}`), []any{"pre_check", "odometer"}, false},
		{"oilGauge", vendors.AutoX3, autox3Body(rc, `{"receiveBaseId":{{ID}},"preCheckInfo":{"oilGauge":{{N}}}}`), []any{"pre_check", "oil_gauge"}, false},
		{"detectionPercentage", vendors.AutoX3, autox3Body(rep, `{"receiveBaseId":{{ID}},"detectionPercentage":{{N}}}`), []any{"detection_percentage"}, true},
		{"total_price", vendors.Fenbeitong, car(`"total_price": 14.16`), []any{"price_info", "total_price"}, false},
		{"personal_total_pay", vendors.Fenbeitong, car(`"personal_total_pay": 0`), []any{"price_info", "personal_total_pay"}, false},
		{"coupon_amount", vendors.Fenbeitong, car(`"coupon_amount": 0`), []any{"price_info", "coupon_amount"}, false},
		{"red_envelope", vendors.Fenbeitong, car(`"red_envelope": 0`), []any{"price_info", "red_envelope"}, false},
		{"actual_distance", vendors.Fenbeitong, car(`"actual_distance": 2.3`), []any{"actual_distance"}, false},
		{"price_detail_info amount", vendors.Fenbeitong, car(`"amount": "10"`), []any{"price_detail_info", 0, "amount"}, false},
		{"cost_attribution weight", vendors.Fenbeitong, car(`"weight":33.33`), []any{"saas_info", "cost_attribution", 0, "details", 0, "weight"}, false},
		{"cost_attribution amount", vendors.Fenbeitong, car(`"amount":7`), []any{"saas_info", "cost_attribution", 0, "details", 0, "amount"}, false},
		{"cost_info amount", vendors.Fenbeitong, car(`"amount": 0.0`), []any{"saas_info", "cost_info", 0, "amount"}, false},
		{"cost_info weight", vendors.Fenbeitong, car(`"weight": 100.0`), []any{"saas_info", "cost_info", 0, "cost_attribution_group_list", 0, "cost_attribution_list", 0, "weight"}, false},
		{"cost_info price", vendors.Fenbeitong, car(`"price": 0.0`), []any{"saas_info", "cost_info", 0, "cost_attribution_group_list", 0, "cost_attribution_list", 0, "price"}, false},
		{"hotel total_price", vendors.Fenbeitong, `{"order_info":{"order_id":"prop{{ID}}","order_category_type":11,"status":1800,` +
			`"create_time":"2024-05-01 10:00:00"},"price_info":{"total_price":{{N}}}}`, []any{"total_price"}, false},
	}
}

// decimalText is a random decimal as a vendor might write it, and its value.
// Values run to 35 digits before the point and 30 after (what the widest
// DECIMAL column holds), in plain and exponent form, as JSON numbers and as
// strings (with a sign, a bare point, spaces or leading zeros, which only a
// string can carry).
func decimalText(r *rand.Rand, percent bool) (jsonText string, value decimal.Decimal) {
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
		}
		return string(b)
	}
	sign := ""
	if r.IntN(4) == 0 {
		sign = "-"
	}
	var text string
	if r.IntN(5) == 0 { // exponent form: d.ddd e±x
		n := 1 + r.IntN(30)
		mant := string(byte('1'+r.IntN(9))) + digits(n-1)
		exp := -30 + r.IntN(36-n+30) // the value keeps ≤ 35 integer and ≤ 30 fractional digits
		text = sign + mant[:1]
		if len(mant) > 1 {
			text += "." + mant[1:]
		}
		text += []string{"e", "E"}[r.IntN(2)] + strconv.Itoa(exp+n-1)
	} else {
		intPart := strings.TrimLeft(digits(r.IntN(36)), "0")
		if intPart == "" {
			intPart = "0"
		}
		text = sign + intPart
		if f := r.IntN(31); f > 0 {
			text += "." + digits(f)
		}
	}
	value = decimal.RequireFromString(text)
	switch r.IntN(6) {
	case 0, 1, 2: // a JSON number
		return text, value
	case 3: // a plain string
	case 4: // a string with spaces, a plus sign or leading zeros
		switch {
		case sign == "" && r.IntN(2) == 0:
			text = "+" + text
		case strings.HasPrefix(text, "0.") && r.IntN(2) == 0:
			text = strings.TrimPrefix(text, "0")
		case !strings.ContainsAny(text, "eE"):
			text = strings.Replace(text, sign, sign+"00", 1)
		}
		text = " " + text + " "
	case 5:
		if percent {
			text += "%"
		}
	}
	b, _ := json.Marshal(text)
	return string(b), value
}

// Any decimal text in one of the documents' numeric fields reaches the ERP
// with the same value: decoded, persisted on the default store (SQLite) and
// sent as SyncRecord sends it (under -short, every 13th case is persisted,
// the others checked in the data the store would write). The generator is seeded; ERPBRIDGE_PROPERTY_SEED
// picks another sequence.
func TestDecimalsReachTheERPUnchanged(t *testing.T) {
	seed := uint64(20250101)
	if s := os.Getenv("ERPBRIDGE_PROPERTY_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("ERPBRIDGE_PROPERTY_SEED: %v", err)
		}
		seed = v
	}
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	fields := numericFields(t)
	db := testenv.SQLite(t)
	st := store.New(db)
	// Under -short one case in persistEvery is persisted, to keep unit tests quick.
	const perField, persistEvery = 20, 13
	for i := range perField * len(fields) {
		f := fields[i%len(fields)]
		text, want := decimalText(r, f.percent)
		id := strconv.Itoa(100000 + i)
		body := []byte(strings.NewReplacer("{{ID}}", id, "{{N}}", text).Replace(f.body))
		label := fmt.Sprintf("%s = %s (seed %d, case %d)", f.name, text, seed, i)

		decode := decoders[f.vendor]
		ev, err := decode(body)
		if err != nil {
			t.Fatalf("%s: refused: %v", label, err)
		}
		// The data as the store writes it (record_states.data); every few
		// cases (each case under full runs) it goes the whole way: persisted
		// on SQLite and encoded as SyncRecord sends it.
		request, err := json.Marshal(map[string]any{"data": ev.Data})
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		if !testing.Short() || i%persistEvery == 0 {
			in := store.Inbound{Vendor: f.vendor, EventKey: ev.EventKey, EventType: ev.EventType, Body: body,
				WorkflowID: flow.EventWorkflowID(f.vendor, ev.EventKey), ReceivedAt: time.Now()}
			if _, err := st.Receive(t.Context(), in); err != nil {
				t.Fatal(err)
			}
			if p, _, err := st.Persist(t.Context(), in, decode); err != nil || !p.Applied {
				t.Fatalf("%s: persist %+v, %v", label, p, err)
			}
			rs, err := st.Record(t.Context(), f.vendor, ev.Kind, ev.ExternalID)
			if err != nil {
				t.Fatal(err)
			}
			if request, err = activities.ERPRecord(rs).Encode(); err != nil {
				t.Fatalf("%s: %v", label, err)
			}
		}
		var sent struct {
			Data any `json:"data"`
		}
		dec := json.NewDecoder(bytes.NewReader(request))
		dec.UseNumber()
		if err := dec.Decode(&sent); err != nil {
			t.Fatal(err)
		}
		got, ok := testkit.Lookup(sent.Data, f.data...)
		s, isText := got.(string)
		if !ok || !isText {
			t.Fatalf("%s: the ERP receives %#v at %v, not decimal text", label, got, f.data)
		}
		d, err := decimal.NewFromString(s)
		if err != nil || !d.Equal(want) || strings.ContainsAny(s, "eE+ ") {
			t.Fatalf("%s: the ERP receives %q, want the value %s as plain decimal text", label, s, want)
		}
	}
}

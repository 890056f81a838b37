package fenbeitong

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/vendors"
)

// pageSample is the seed page's sample, verbatim.
func pageSample(t testing.TB) []byte {
	t.Helper()
	return testkit.ReadFile(t, "testdata/car_order_push.json")
}

func TestNormaliseJSONTrimsKeysAndKeepsNumbers(t *testing.T) {
	in := `{ " a ": {"b\t": [1.50, "x", true, null, {"  c": 1e3}]}, "d": -0.0 }`
	got, err := normaliseJSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"a":{"b":[1.50,"x",true,null,{"c":1e3}]},"d":-0.0}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	canon, err := canonicalJSON(got)
	if err != nil {
		t.Fatal(err)
	}
	if string(canon) != want { // already sorted
		t.Fatalf("canonical %s", canon)
	}
	sorted, _ := canonicalJSON([]byte(`{"z":1,"a":{"y":"<&>","b":2}}`))
	if string(sorted) != `{"a":{"b":2,"y":"<&>"},"z":1}` {
		t.Fatalf("sorted %s", sorted)
	}
}

func TestNormaliseJSONRefusals(t *testing.T) {
	cases := map[string]string{
		``:                "not JSON",
		`[]`:              "not a JSON object",
		`"x"`:             "not a JSON object",
		`{"a":1} {"b":2}`: "data after the JSON object",
		`{"a":1} x`:       "data after the JSON object",
		`{"a":1`:          "not JSON",
		`{"a" 1}`:         "not JSON",
		`{"a":1,}`:        "not JSON",
		`{"a":[1,2}`:      "not JSON",
		strings.Repeat(`{"a":`, 70) + `1` + strings.Repeat(`}`, 70):       "nested deeper than 64 levels",
		`{"a":` + strings.Repeat(`[`, 70) + strings.Repeat(`]`, 70) + `}`: "nested deeper than 64 levels",
	}
	for in, want := range cases {
		_, err := normaliseJSON([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.40q: got %v, want %q", in, err, want)
		}
	}
}

func TestParsePushSample(t *testing.T) {
	p, err := ParsePush(pageSample(t))
	if err != nil {
		t.Fatal(err)
	}
	if p.Category() != 3 || p.OrderID() != "5eaab72f23445f46685f8cc8" || p.CategoryName() != "car" || p.Kind() != "car_order" {
		t.Fatalf("got %d %q %q %q", p.Category(), p.OrderID(), p.CategoryName(), p.Kind())
	}
	if st, ok := p.status.Value, p.status.Valid; !ok || st != 700 {
		t.Fatalf("status %d %v", st, ok)
	}
	if !regexp.MustCompile(`^3:5eaab72f23445f46685f8cc8:700:[0-9a-f]{16}$`).MatchString(p.EventKey()) {
		t.Fatalf("event key %q", p.EventKey())
	}
	if string(p.body) != string(pageSample(t)) {
		t.Fatal("Body is not the body as received")
	}
}

func TestEventKeyStableAcrossKeyOrderAndWhiteSpace(t *testing.T) {
	sample := pageSample(t)
	base, err := ParsePush(sample)
	if err != nil {
		t.Fatal(err)
	}

	// Re-encode with sorted keys and no white space (Go maps sort keys);
	// numbers are kept as text so 14.16 and 0.0 stay as written.
	dec := json.NewDecoder(strings.NewReader(string(sample)))
	dec.UseNumber()
	var tree map[string]any
	if err := dec.Decode(&tree); err != nil {
		t.Fatal(err)
	}
	compact, _ := json.Marshal(tree)
	// The same body with the trailing space of the key moved and the
	// order_info members reversed.
	reordered := testkit.Replace(t, sample, `"departure_city_id ":""`, `  "departure_city_id"  :  ""  `)
	reordered = testkit.Replace(t, reordered, `"status_name": "已完成",`, `"status_name": "\u5df2\u5b8c\u6210",`)
	reordered = testkit.Replace(t, reordered, `"order_info": {`, `"order_info": {"sensitive": false, `)
	reordered = testkit.Replace(t, reordered, `"sensitive": false,
        "actual_distance"`, `"actual_distance"`)

	for name, body := range map[string][]byte{
		"compact sorted":             compact,
		"moved key space, escapes":   reordered,
		"CRLF and indentation":       []byte(strings.ReplaceAll(string(sample), "\n", "\r\n\t ")),
		"leading and trailing space": append(append([]byte(" \n"), sample...), '\n', ' '),
	} {
		p, err := ParsePush(body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p.EventKey() != base.EventKey() {
			t.Errorf("%s: key %s, want %s", name, p.EventKey(), base.EventKey())
		}
	}

	for name, body := range map[string][]byte{
		"status":       testkit.Replace(t, sample, `"status": "700"`, `"status": "610"`),
		"amount":       testkit.Replace(t, sample, `"amount": "10"`, `"amount": "11"`),
		"number text":  testkit.Replace(t, sample, `"total_price": 14.16`, `"total_price": 14.160`),
		"remark":       testkit.Replace(t, sample, `"remark": "加班"`, `"remark": "出差"`),
		"extra member": testkit.Replace(t, sample, `"third_info": {`, `"third_info": {"x": 1,`),
	} {
		p, err := ParsePush(body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p.EventKey() == base.EventKey() {
			t.Errorf("%s: changed body kept key %s", name, p.EventKey())
		}
	}
	p, _ := ParsePush(testkit.Replace(t, sample, `"status": "700"`, `"status": "610"`))
	if !strings.HasPrefix(p.EventKey(), "3:5eaab72f23445f46685f8cc8:610:") {
		t.Fatalf("status not in key: %s", p.EventKey())
	}
}

func TestEventKeyStatusForms(t *testing.T) {
	sample := pageSample(t)
	for body, want := range map[string]string{
		`"status": 700`:   "3:5eaab72f23445f46685f8cc8:700:",
		`"status": ""`:    "3:5eaab72f23445f46685f8cc8:-:",
		`"status": null`:  "3:5eaab72f23445f46685f8cc8:-:",
		`"status": "abc"`: "3:5eaab72f23445f46685f8cc8:-:",
		`"x": "700"`:      "3:5eaab72f23445f46685f8cc8:-:",
	} {
		p, err := ParsePush(testkit.Replace(t, sample, `"status": "700"`, body))
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if !strings.HasPrefix(p.EventKey(), want) {
			t.Errorf("%s: key %s, want prefix %s", body, p.EventKey(), want)
		}
	}
}

func TestParsePushRefusals(t *testing.T) {
	sample := pageSample(t)
	cases := []struct {
		name string
		body []byte
		want string
	}{
		{"empty", []byte(``), "fenbeitong push: body is not one JSON object (not JSON: EOF)"},
		{"array", []byte(`[{}]`), "fenbeitong push: body is not one JSON object (not a JSON object)"},
		{"two objects", append(append([]byte{}, sample...), sample...), "fenbeitong push: body is not one JSON object (data after the JSON object)"},
		{"truncated", sample[:len(sample)/2], "fenbeitong push: body is not one JSON object (not JSON: "},
		{"no order_info", []byte(`{"price_info":{}}`), "fenbeitong push: order_info is missing"},
		{"null order_info", []byte(`{"order_info":null}`), "fenbeitong push: order_info is missing"},
		{"order_info string", []byte(`{"order_info":"x"}`), "fenbeitong push: order_info is not an object"},
		{"order_info array", []byte(`{"order_info":[]}`), "fenbeitong push: order_info is not an object"},
		{"no order_id", testkit.Replace(t, sample, `"order_id": "5eaab72f23445f46685f8cc8",`, ``), "fenbeitong push: order_info.order_id is missing"},
		{"empty order_id", testkit.Replace(t, sample, `"5eaab72f23445f46685f8cc8"`, `""`), "fenbeitong push: order_info.order_id is missing"},
		{"null order_id", testkit.Replace(t, sample, `"5eaab72f23445f46685f8cc8"`, `null`), "fenbeitong push: order_info.order_id is missing"},
		{"object order_id", testkit.Replace(t, sample, `"5eaab72f23445f46685f8cc8"`, `{"id":1}`), "fenbeitong push: order_info.order_id is not a string"},
		{"bool order_id", testkit.Replace(t, sample, `"5eaab72f23445f46685f8cc8"`, `true`), "fenbeitong push: order_info.order_id is not a string"},
		{"long order_id", testkit.Replace(t, sample, `"5eaab72f23445f46685f8cc8"`, `"`+strings.Repeat("a", 65)+`"`), "fenbeitong push: order_info.order_id is longer than 64 characters"},
		{"order_id with space", testkit.Replace(t, sample, `"5eaab72f23445f46685f8cc8"`, `"5eaab72f 23445"`), "fenbeitong push: order_info.order_id must be printable ASCII without spaces"},
		{"order_id non-ASCII", testkit.Replace(t, sample, `"5eaab72f23445f46685f8cc8"`, `"订单1"`), "fenbeitong push: order_info.order_id must be printable ASCII without spaces"},
		{"order_id control", testkit.Replace(t, sample, `"5eaab72f23445f46685f8cc8"`, `"a\nb"`), "fenbeitong push: order_info.order_id must be printable ASCII without spaces"},
		{"no category", testkit.Replace(t, sample, `"order_category_type": 3,`, ``), "fenbeitong push: order_info.order_category_type is missing"},
		{"empty category", testkit.Replace(t, sample, `"order_category_type": 3`, `"order_category_type": ""`), "fenbeitong push: order_info.order_category_type is missing"},
		{"text category", testkit.Replace(t, sample, `"order_category_type": 3`, `"order_category_type": "car"`), "fenbeitong push: order_info.order_category_type is not an integer"},
		{"fraction category", testkit.Replace(t, sample, `"order_category_type": 3`, `"order_category_type": 3.5`), "fenbeitong push: order_info.order_category_type is not an integer"},
		{"negative category", testkit.Replace(t, sample, `"order_category_type": 3`, `"order_category_type": -3`), "fenbeitong push: order_info.order_category_type is out of range"},
		{"huge category", testkit.Replace(t, sample, `"order_category_type": 3`, `"order_category_type": 3000000000`), "fenbeitong push: order_info.order_category_type is out of range"},
	}
	for _, c := range cases {
		p, err := ParsePush(c.body)
		if err == nil {
			t.Errorf("%s: accepted (key %s)", c.name, p.EventKey())
			continue
		}
		if !errors.Is(err, vendors.ErrMalformed) {
			t.Errorf("%s: %v does not wrap ErrMalformed", c.name, err)
		}
		if !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: got %q, want prefix %q", c.name, err.Error(), c.want)
		}
	}
}

func TestParsePushLenientForms(t *testing.T) {
	sample := pageSample(t)
	for name, body := range map[string][]byte{
		"category as string": testkit.Replace(t, sample, `"order_category_type": 3`, `"order_category_type": "3"`),
		"numeric order_id":   testkit.Replace(t, sample, `"5eaab72f23445f46685f8cc8"`, `5001`),
		"spaced key":         testkit.Replace(t, sample, `"order_id":`, `" order_id ":`),
		"spaced order_info":  testkit.Replace(t, sample, `"order_info":`, `"order_info ":`),
	} {
		p, err := ParsePush(body)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if p.Category() != 3 {
			t.Errorf("%s: category %d", name, p.Category())
		}
	}
	p, err := ParsePush(testkit.Replace(t, sample, `"5eaab72f23445f46685f8cc8"`, `5001`))
	if err != nil || p.OrderID() != "5001" {
		t.Fatalf("numeric order id: %v %v", p, err)
	}
}

func TestCategories(t *testing.T) {
	cases := map[int][2]string{
		3:   {"car", "car_order"},
		7:   {"domestic_flight", "flight_order"},
		40:  {"intl_flight", "intl_flight_order"},
		11:  {"hotel", "hotel_order"},
		15:  {"train", "train_order"},
		130: {"courier", "courier_order"},
		131: {"express", "express_order"},
		912: {"fee_waiver", "fee_waiver_order"},
		5:   {"category_5", "order"},
		0:   {"category_0", "order"},
	}
	for c, want := range cases {
		if CategoryName(c) != want[0] || CategoryKind(c) != want[1] {
			t.Errorf("%d: got %s/%s, want %s/%s", c, CategoryName(c), CategoryKind(c), want[0], want[1])
		}
	}
}

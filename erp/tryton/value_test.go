package tryton

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestDecimalEncodesExactly(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"12.34":               "12.34",
		"98765432101234.5678": "98765432101234.5678",
		"-5":                  "-5",
		"14.10":               "14.10",
		"1e3":                 "1000",
		"1.5E-3":              "0.0015",
		"+7":                  "7",
	}
	for in, want := range cases {
		d, err := ParseDecimal(in)
		if err != nil {
			t.Errorf("ParseDecimal(%q): %v", in, err)
			continue
		}
		got, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		if wantJSON := `{"__class__":"Decimal","decimal":"` + want + `"}`; string(got) != wantJSON {
			t.Errorf("%q encodes as %s, want %s", in, got, wantJSON)
		}
	}
	for _, bad := range []string{"", "abc", "NaN", "Infinity", "1,5", "12.3.4", "0x10"} {
		if _, err := ParseDecimal(bad); err == nil {
			t.Errorf("ParseDecimal(%q) accepted", bad)
		}
	}
}

func TestDecodeTrytonObjects(t *testing.T) {
	t.Parallel()
	raw := json.RawMessage(`{
		"total": {"__class__": "Decimal", "decimal": "98765432113575.24"},
		"day": {"__class__": "date", "year": 2024, "month": 5, "day": 1},
		"at": {"__class__": "datetime", "year": 2024, "month": 5, "day": 1, "hour": 8, "minute": 30, "second": 5, "microsecond": 250000},
		"wait": {"__class__": "timedelta", "seconds": 90.5},
		"blob": {"__class__": "bytes", "base64": "aGVs\nbG8=\n"},
		"ids": [1, 2, 12345678901234567890],
		"nested": [{"price": {"__class__": "Decimal", "decimal": "-5"}}]
	}`)
	v, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	if d := m["total"].(Decimal); d.String() != "98765432113575.24" || d.Decimal().String() != "98765432113575.24" {
		t.Errorf("total %v", d)
	}
	if d := m["day"].(Date); d.String() != "2024-05-01" {
		t.Errorf("day %v", d)
	}
	if at := m["at"].(DateTime); !at.Equal(time.Date(2024, 5, 1, 8, 30, 5, 250000000, time.UTC)) {
		t.Errorf("at %v", at)
	}
	if w := m["wait"].(time.Duration); w != 90500*time.Millisecond {
		t.Errorf("wait %v", w)
	}
	if b := m["blob"].([]byte); string(b) != "hello" {
		t.Errorf("blob %q", b)
	}
	if id := m["ids"].([]any)[2].(json.Number); id.String() != "12345678901234567890" {
		t.Errorf("big id %v", id)
	}
	if p := m["nested"].([]any)[0].(map[string]any)["price"].(Decimal); p.String() != "-5" {
		t.Errorf("nested %v", p)
	}
	if _, err := Decode(json.RawMessage(`{"__class__": "Decimal", "decimal": "abc"}`)); err == nil {
		t.Error("a Decimal that is not a number decoded")
	}
}

func TestEncodeDateAndDateTime(t *testing.T) {
	t.Parallel()
	d, _ := json.Marshal(Date{Year: 2024, Month: 5, Day: 1})
	if string(d) != `{"__class__":"date","year":2024,"month":5,"day":1}` {
		t.Errorf("date %s", d)
	}
	at, _ := json.Marshal(DateTime{time.Date(2024, 5, 1, 16, 0, 0, 123456000, time.FixedZone("CST", 8*3600))})
	if string(at) != `{"__class__":"datetime","year":2024,"month":5,"day":1,"hour":8,"minute":0,"second":0,"microsecond":123456}` {
		t.Errorf("datetime %s, want UTC", at)
	}
}

func TestEncodeField(t *testing.T) {
	t.Parallel()
	enc := func(typ string, v any) string {
		t.Helper()
		out, err := encodeField(field{Type: typ}, v)
		if err != nil {
			return "error: " + err.Error()
		}
		b, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	cases := []struct {
		typ  string
		in   any
		want string
	}{
		{"numeric", json.Number("98765432101234.5678"), `{"__class__":"Decimal","decimal":"98765432101234.5678"}`},
		{"numeric", "14.10", `{"__class__":"Decimal","decimal":"14.10"}`},
		{"numeric", map[string]any{"__class__": "Decimal", "decimal": "1"}, `{"__class__":"Decimal","decimal":"1"}`},
		{"numeric", "十", "error: a numeric field needs a decimal number: not a decimal number"},
		{"numeric", true, "error: a numeric field needs a decimal number, got a boolean"},
		{"float", json.Number("1"), `1`},
		{"float", "2.5", `2.5`},
		{"date", "2024-05-01", `{"__class__":"date","year":2024,"month":5,"day":1}`},
		{"date", "2024-05-01T23:30:00+08:00", `{"__class__":"date","year":2024,"month":5,"day":1}`},
		{"date", "01/05/2024", `error: a date field needs "YYYY-MM-DD" or RFC 3339 text`},
		{"datetime", "2024-05-01T08:00:00+08:00", `{"__class__":"datetime","year":2024,"month":5,"day":1,"hour":0,"minute":0,"second":0,"microsecond":0}`},
		{"many2one", json.Number("7"), `7`},
		{"many2one", "7", "error: a many2one field needs an id (or a ref), got text"},
		{"char", "京A12345", `"京A12345"`},
		{"one2many", []any{[]any{"create", []any{map[string]any{}}}}, `[["create",[{}]]]`},
		{"numeric", nil, `null`},
	}
	for _, c := range cases {
		if got := enc(c.typ, c.in); got != c.want {
			t.Errorf("%s %#v: got %s, want %s", c.typ, c.in, got, c.want)
		}
	}
	// Errors never quote the value (it may be personal data).
	if got := enc("numeric", "Brown"); strings.Contains(got, "Brown") {
		t.Errorf("error quotes the value: %s", got)
	}
}

func TestParseDocument(t *testing.T) {
	t.Parallel()
	d, err := parseDocument([]byte(`{"model": "sale.sale", "values": {"unit_price": 98765432101234.5678},
		"lines": {"field": "lines", "items": [{"values": {"quantity": 1}}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if d.Key != "reference" {
		t.Errorf("key %q, want reference", d.Key)
	}
	if n, ok := d.Values["unit_price"].(json.Number); !ok || n.String() != "98765432101234.5678" {
		t.Errorf("unit_price %#v, want the exact json.Number", d.Values["unit_price"])
	}
	bad := map[string]string{
		`{"values": {}}`:                         `"model" must name`,
		`{"model": "m", "value": {}}`:            `unknown field "value"`,
		`{"model": "m", "lines": {"items": []}}`: `"lines" needs "field"`,
		`{"model": "m", "values": {"party": 1}, "refs": {"party": {"model": "p", "search": [["a","=",1]]}}}`: `given both`,
		`{"model": "m", "refs": {"party": {"model": "p"}}}`:                                                  `non-empty "search"`,
		`{"model": "m"} {}`: `data after the document`,
		`[]`:                `not a Tryton document`,
		`{"model": "m", "lines": {"field": "lines", "items": [{"refs": {"product": {"search": [1]}}}]}}`: `line 1: ref "product" needs "model"`,
	}
	for in, want := range bad {
		if _, err := parseDocument([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseDocument(%s): %v, want an error with %q", in, err, want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := Config{URL: "http://127.0.0.1:8000/", Database: "erp", User: "erpbridge", Password: "s3cret"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	if got := ok.endpoint(); got != "http://127.0.0.1:8000/erp/" {
		t.Errorf("endpoint %s", got)
	}
	if d := ok.withDefaults(); d.Timeout != DefaultTimeout || d.MaxConcurrent != DefaultMaxConcurrent {
		t.Errorf("defaults %+v", d)
	}
	cases := []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.URL = "" }, "TRYTON_URL: must be set"},
		{func(c *Config) { c.URL = "ftp://x/" }, "TRYTON_URL: scheme"},
		{func(c *Config) { c.URL = "http:///x" }, "TRYTON_URL: has no host"},
		{func(c *Config) { c.URL = "http://u:s3cret@h/" }, "TRYTON_URL: must not carry credentials"},
		{func(c *Config) { c.URL = "http://u:s3cret@h:port/" }, "TRYTON_URL: not a URL"},
		{func(c *Config) { c.Database = "" }, "TRYTON_DATABASE: must be set"},
		{func(c *Config) { c.Database = "a/b" }, "TRYTON_DATABASE: must not contain"},
		{func(c *Config) { c.User = " " }, "TRYTON_USER: must be set"},
		{func(c *Config) { c.Password = "" }, "TRYTON_PASSWORD: must be set"},
		{func(c *Config) { c.Timeout = -time.Second }, "TRYTON_TIMEOUT"},
		{func(c *Config) { c.MaxConcurrent = -1 }, "TRYTON_MAX_CONCURRENT"},
	}
	for _, c := range cases {
		cfg := ok
		c.edit(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("Validate: %v, want %q", err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("error quotes the password: %v", err)
		}
	}
}

package models

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func TestDecimalFits(t *testing.T) {
	cases := []struct {
		in   string
		p, s int
		want bool
	}{
		{"98765432101234.5678", 65, 30, true},
		{"99999999999999999999999999999999999", 65, 30, true},
		{"100000000000000000000000000000000000", 65, 30, false},
		{"-99999999999999999999999999999999999", 65, 30, true},
		{"0.000000000000000000000000000001", 65, 30, true},
		{"0.0000000000000000000000000000001", 65, 30, false},
		{"1.000000000000000000000000000000000000", 65, 30, true}, // trailing zeros do not count
		{"12345.67", 12, 1, false},
		{"12345.6", 12, 1, true},
		{"100000000000", 12, 1, false},
	}
	for _, c := range cases {
		if got := DecimalFits(decimal.RequireFromString(c.in), c.p, c.s); got != c.want {
			t.Errorf("DecimalFits(%s, %d, %d) = %v", c.in, c.p, c.s, got)
		}
	}
	for typ, want := range map[string][2]int{"decimal(65,30)": {65, 30}, "DECIMAL(12, 1)": {12, 1}, "numeric(10)": {10, 0}} {
		p, s, ok := DecimalSize(typ)
		if !ok || p != want[0] || s != want[1] {
			t.Errorf("DecimalSize(%s) = %d, %d, %v", typ, p, s, ok)
		}
	}
	if _, _, ok := DecimalSize("text"); ok {
		t.Error("text is a decimal")
	}
}

func TestDate(t *testing.T) {
	d := DateOf(time.Date(2012, 1, 1, 23, 59, 0, 0, time.FixedZone("CST", 8*3600)))
	if d.String() != "2012-01-01" {
		t.Fatalf("DateOf %v", d)
	}
	out, _ := json.Marshal([]Date{d, {}})
	if string(out) != `["2012-01-01",null]` {
		t.Fatalf("marshal %s", out)
	}
	var back []Date
	if err := json.Unmarshal(out, &back); err != nil || back[0] != d || back[1].Valid {
		t.Fatalf("unmarshal %v %v", back, err)
	}
	if err := json.Unmarshal([]byte(`"2012-13-01"`), &back[0]); err == nil {
		t.Fatal("month 13 accepted")
	}
	if v, _ := d.Value(); v != "2012-01-01" {
		t.Fatalf("value %v", v)
	}
	if v, _ := (Date{}).Value(); v != nil {
		t.Fatalf("absent value %v", v)
	}
	for _, src := range []any{time.Date(2012, 1, 1, 0, 0, 0, 0, time.UTC), "2012-01-01", []byte("2012-01-01"), "2012-01-01 00:00:00"} {
		var got Date
		if err := got.Scan(src); err != nil || got != d {
			t.Errorf("Scan(%v) = %v, %v", src, got, err)
		}
	}
	var null Date
	if err := null.Scan(nil); err != nil || null.Valid {
		t.Fatalf("Scan(nil) = %v %v", null, err)
	}
	if err := null.Scan(42); err == nil {
		t.Fatal("Scan(42) accepted")
	}
}

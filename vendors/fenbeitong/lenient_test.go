package fenbeitong

import (
	"encoding/json"
	"testing"
	"time"
)

func TestDecimalUnmarshal(t *testing.T) {
	cases := []struct {
		in    string
		valid bool
		want  string // decimal text
	}{
		{`"10"`, true, "10"},
		{`10`, true, "10"},
		{`14.16`, true, "14.16"},
		{`"14.16"`, true, "14.16"},
		{`" 14.16 "`, true, "14.16"},
		{`0.0`, true, "0"},
		{`-0.50`, true, "-0.5"},
		{`"+3"`, true, "3"},
		{`1e2`, true, "100"},
		{`1.5E-3`, true, "0.0015"},
		{`".5"`, true, "0.5"},
		{`12345678901234.9999`, true, "12345678901234.9999"},
		{`0.1000000000000000055511151231257827`, true, "0.1000000000000000055511151231257827"},
		{`""`, false, ""},
		{`"  "`, false, ""},
		{`null`, false, ""},
	}
	for _, c := range cases {
		var d Decimal
		if err := json.Unmarshal([]byte(c.in), &d); err != nil {
			t.Errorf("%s: unexpected error %v", c.in, err)
			continue
		}
		if d.Valid != c.valid || d.String() != c.want {
			t.Errorf("%s: got valid=%v %q, want valid=%v %q", c.in, d.Valid, d.String(), c.valid, c.want)
		}
	}
}

func TestDecimalNeverGoesThroughFloat(t *testing.T) {
	// 0.1 + 0.2 in float64 is 0.30000000000000004; exact decimals sum to 0.3.
	var a, b Decimal
	if err := json.Unmarshal([]byte(`0.1`), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`"0.2"`), &b); err != nil {
		t.Fatal(err)
	}
	if got := decimalText(a.Value.Add(b.Value)); got != "0.3" {
		t.Fatalf("0.1 + 0.2 = %s, want 0.3", got)
	}
	// A 17-significant-digit amount float64 cannot hold survives.
	var big Decimal
	if err := json.Unmarshal([]byte(`12345678901234.567`), &big); err != nil {
		t.Fatal(err)
	}
	if big.String() != "12345678901234.567" {
		t.Fatalf("got %s", big.String())
	}
}

func TestDecimalRefusals(t *testing.T) {
	cases := map[string]problem{
		`"abc"`:              errNotNumber,
		`"1,000"`:            errNotNumber,
		`"1e"`:               errNotNumber,
		`"."`:                errNotNumber,
		`"NaN"`:              errNotNumber,
		`"Infinity"`:         errNotNumber,
		`"0x10"`:             errNotNumber,
		`true`:               errNotNumber,
		`{"a":1}`:            errNotNumber,
		`[1]`:                errNotNumber,
		`1e1000000000`:       errTooLong,
		`"1e-50"`:            errTooLong,
		`"` + long(70) + `"`: errTooLong,
		`{`:                  errNotJSON,
		``:                   errNotJSON,
	}
	for in, want := range cases {
		var d Decimal
		err := d.UnmarshalJSON([]byte(in))
		if err == nil || problemOf(err) != string(want) {
			t.Errorf("%q: got %v, want %q", in, err, want)
		}
		if d.Valid {
			t.Errorf("%q: refused value left Valid", in)
		}
	}
}

func long(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '1'
	}
	return string(b)
}

func TestDecimalMarshal(t *testing.T) {
	var d Decimal
	if err := json.Unmarshal([]byte(`"14.1600"`), &d); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(struct {
		A Decimal `json:"a"`
		B Decimal `json:"b"`
	}{A: d})
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"a":"14.16","b":null}` {
		t.Fatalf("got %s", out)
	}
}

func TestIntUnmarshal(t *testing.T) {
	ok := map[string]Int{
		`700`:     {700, true},
		`"700"`:   {700, true},
		`" 700 "`: {700, true},
		`-5`:      {-5, true},
		`700.0`:   {700, true},
		`7e2`:     {700, true},
		`""`:      {},
		`null`:    {},
	}
	for in, want := range ok {
		var n Int
		if err := json.Unmarshal([]byte(in), &n); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if n != want {
			t.Errorf("%s: got %+v, want %+v", in, n, want)
		}
	}
	for _, in := range []string{`"abc"`, `7.5`, `"7.5"`, `true`, `{}`, `[]`, `99999999999999999999`} {
		var n Int
		err := n.UnmarshalJSON([]byte(in))
		if err == nil || problemOf(err) != string(errNotInteger) {
			t.Errorf("%s: got %v, want %q", in, err, errNotInteger)
		}
	}
	out, _ := json.Marshal([]Int{{700, true}, {}})
	if string(out) != `[700,null]` {
		t.Fatalf("marshal: %s", out)
	}
}

func TestBoolUnmarshal(t *testing.T) {
	ok := map[string]Bool{
		`true`:      {true, true},
		`false`:     {false, true},
		`"true"`:    {true, true},
		`"false"`:   {false, true},
		`"TRUE"`:    {true, true},
		`"1"`:       {true, true},
		`"0"`:       {false, true},
		`1`:         {true, true},
		`0`:         {false, true},
		`""`:        {},
		`null`:      {},
		`" false "`: {false, true},
	}
	for in, want := range ok {
		var b Bool
		if err := json.Unmarshal([]byte(in), &b); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if b != want {
			t.Errorf("%s: got %+v, want %+v", in, b, want)
		}
	}
	for _, in := range []string{`"yes"`, `2`, `{}`, `[]`} {
		var b Bool
		err := b.UnmarshalJSON([]byte(in))
		if err == nil || problemOf(err) != string(errNotBool) {
			t.Errorf("%s: got %v, want %q", in, err, errNotBool)
		}
	}
	out, _ := json.Marshal([]Bool{{true, true}, {false, true}, {}})
	if string(out) != `[true,false,null]` {
		t.Fatalf("marshal: %s", out)
	}
}

func TestTextUnmarshal(t *testing.T) {
	var s Text
	if err := json.Unmarshal([]byte(`"加班"`), &s); err != nil {
		t.Fatal(err)
	}
	if !s.Valid || s.Structured() || s.Value != "加班" {
		t.Fatalf("string: %+v", s)
	}
	var o Text
	if err := json.Unmarshal([]byte("{ \"remark\": \"加班\",\n \"remarkDetail\": \"x\" }"), &o); err != nil {
		t.Fatal(err)
	}
	if !o.Structured() || o.Value != `{"remark":"加班","remarkDetail":"x"}` {
		t.Fatalf("object: %+v", o)
	}
	var n Text
	if err := json.Unmarshal([]byte(`18310480640`), &n); err != nil {
		t.Fatal(err)
	}
	if n.Value != "18310480640" || n.Structured() {
		t.Fatalf("number: %+v", n)
	}
	var null Text
	if err := json.Unmarshal([]byte(`null`), &null); err != nil || null.Valid {
		t.Fatalf("null: %+v %v", null, err)
	}
	out, err := json.Marshal([]Text{s, o, n, null})
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `["加班",{"remark":"加班","remarkDetail":"x"},"18310480640",null]` {
		t.Fatalf("marshal: %s", out)
	}
	if err := new(Text).UnmarshalJSON([]byte(`{"a":`)); problemOf(err) != string(errNotJSON) {
		t.Fatalf("broken JSON: %v", err)
	}
}

func TestChinaTime(t *testing.T) {
	var c ChinaTime
	if err := json.Unmarshal([]byte(`"2020-04-30 19:32:01"`), &c); err != nil {
		t.Fatal(err)
	}
	want := time.Date(2020, 4, 30, 11, 32, 1, 0, time.UTC)
	if !c.Valid || !c.Time.Equal(want) {
		t.Fatalf("got %v, want %v", c.Time, want)
	}
	out, _ := json.Marshal(c)
	if string(out) != `"2020-04-30T19:32:01+08:00"` {
		t.Fatalf("marshal: %s", out)
	}
	if got := c.UTC(); got == nil || !got.Equal(want) || got.Location() != time.UTC {
		t.Fatalf("UTC: %v", got)
	}

	same := []string{`"2020-04-30T11:32:01Z"`, `"2020-04-30T19:32:01+08:00"`, `"2020-04-30T19:32:01"`, `"2020-04-30T12:32:01+01:00"`}
	for _, in := range same {
		var x ChinaTime
		if err := json.Unmarshal([]byte(in), &x); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if !x.Time.Equal(want) {
			t.Errorf("%s: got %v, want %v", in, x.Time, want)
		}
	}
	var frac ChinaTime
	if err := json.Unmarshal([]byte(`"2020-04-30 19:32:01.250"`), &frac); err != nil {
		t.Fatal(err)
	}
	if out, _ := json.Marshal(frac); string(out) != `"2020-04-30T19:32:01.25+08:00"` {
		t.Fatalf("fraction: %s", out)
	}

	for _, in := range []string{`""`, `null`, `" "`} {
		var x ChinaTime
		if err := json.Unmarshal([]byte(in), &x); err != nil || x.Valid {
			t.Errorf("%s: want absent, got %+v %v", in, x, err)
		}
	}
	if out, _ := json.Marshal(ChinaTime{}); string(out) != "null" {
		t.Fatalf("absent: %s", out)
	}
	refusals := map[string]problem{
		`"2020/04/30 19:32:01"`:  errNotTime,
		`"2020-04-30"`:           errNotTime,
		`"2020-13-01 00:00:00"`:  errNotTime,
		`"yesterday"`:            errNotTime,
		`1588246321000`:          errNotTime,
		`{}`:                     errNotTime,
		`"1969-12-31 23:00:00"`:  errTimeRange,
		`"0001-01-01T00:00:00Z"`: errTimeRange,
	}
	for in, want := range refusals {
		var x ChinaTime
		err := x.UnmarshalJSON([]byte(in))
		if err == nil || problemOf(err) != string(want) {
			t.Errorf("%s: got %v, want %q", in, err, want)
		}
	}
}

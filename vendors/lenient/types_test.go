package lenient

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"
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
	if got := Format(a.Value.Add(b.Value)); got != "0.3" {
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
	cases := map[string]Problem{
		`"abc"`:              NotNumber,
		`"1,000"`:            NotNumber,
		`"1e"`:               NotNumber,
		`"."`:                NotNumber,
		`"NaN"`:              NotNumber,
		`"Infinity"`:         NotNumber,
		`"0x10"`:             NotNumber,
		`true`:               NotNumber,
		`{"a":1}`:            NotNumber,
		`[1]`:                NotNumber,
		`1e1000000000`:       TooManyDigits,
		`"1e-50"`:            TooManyDigits,
		`"` + long(70) + `"`: TooManyDigits,
		`{`:                  NotJSON,
		``:                   NotJSON,
	}
	for in, want := range cases {
		var d Decimal
		err := d.UnmarshalJSON([]byte(in))
		if !errors.Is(err, want) {
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

// checkUnmarshal requires every JSON text of ok to unmarshal into its value
// and every one of bad to be refused with want.
func checkUnmarshal[T comparable, P interface {
	*T
	json.Unmarshaler
}](t *testing.T, ok map[string]T, bad []string, want error) {
	t.Helper()
	for in, w := range ok {
		var v T
		if err := json.Unmarshal([]byte(in), &v); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if v != w {
			t.Errorf("%s: got %+v, want %+v", in, v, w)
		}
	}
	for _, in := range bad {
		var v T
		if err := P(&v).UnmarshalJSON([]byte(in)); !errors.Is(err, want) {
			t.Errorf("%s: got %v, want %q", in, err, want)
		}
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
	checkUnmarshal(t, ok, []string{`"abc"`, `7.5`, `"7.5"`, `true`, `{}`, `[]`, `99999999999999999999`}, NotInteger)
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
	checkUnmarshal(t, ok, []string{`"yes"`, `2`, `{}`, `[]`}, NotBool)
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
	if err := new(Text).UnmarshalJSON([]byte(`{"a":`)); !errors.Is(err, NotJSON) {
		t.Fatalf("broken JSON: %v", err)
	}
}

// chinaTime reads raw as Fenbeitong's times are read: local text in China
// Standard Time or RFC 3339, from 1970 on.
func chinaTime(raw string) (Time, error) {
	d := Dialect{Zone: China, FirstYear: 1970}
	return d.ParseTime([]byte(raw), LocalTime|RFC3339)
}

func TestChinaTime(t *testing.T) {
	c, err := chinaTime(`"2020-04-30 19:32:01"`)
	if err != nil {
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
		x, err := chinaTime(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if !x.Time.Equal(want) {
			t.Errorf("%s: got %v, want %v", in, x.Time, want)
		}
		if out, _ := json.Marshal(x); string(out) != `"2020-04-30T19:32:01+08:00"` {
			t.Errorf("%s: marshal %s", in, out)
		}
	}
	frac, err := chinaTime(`"2020-04-30 19:32:01.250"`)
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := json.Marshal(frac); string(out) != `"2020-04-30T19:32:01.25+08:00"` {
		t.Fatalf("fraction: %s", out)
	}

	for _, in := range []string{`""`, `null`, `" "`} {
		if x, err := chinaTime(in); err != nil || x.Valid {
			t.Errorf("%s: want absent, got %+v %v", in, x, err)
		}
	}
	if out, _ := json.Marshal(Time{}); string(out) != "null" {
		t.Fatalf("absent: %s", out)
	}
	refusals := map[string]Problem{
		`"2020/04/30 19:32:01"`:  NotTime,
		`"2020-04-30"`:           NotTime,
		`"2020-13-01 00:00:00"`:  NotTime,
		`"yesterday"`:            NotTime,
		`1588246321000`:          NotTime,
		`{}`:                     NotTime,
		`"1969-12-31 23:00:00"`:  TimeRange,
		`"0001-01-01T00:00:00Z"`: TimeRange,
	}
	for in, want := range refusals {
		if _, err := chinaTime(in); !errors.Is(err, want) {
			t.Errorf("%s: got %v, want %q", in, err, want)
		}
	}
}

func TestDecimalKeepsWhatWasWritten(t *testing.T) {
	cases := []struct {
		in    string
		exact string // the value at its written scale
		text  string // String and MarshalJSON
	}{
		{`"14.1600"`, "14.1600", "14.16"},
		{`"  12.50 "`, "12.50", "12.5"},
		{`12.50`, "12.50", "12.5"},
		{`"0012.50"`, "12.50", "12.5"},
		{`"007"`, "7", "7"},
		{`-0.0`, "0.0", "0"},
		{`1.2e3`, "1200", "1200"},
		{`"-1E-2"`, "-0.01", "-0.01"},
		{`1e+2`, "100", "100"},
		{`"5."`, "5", "5"},
		{`1234567890123456789012345678901234567890`, "1234567890123456789012345678901234567890", "1234567890123456789012345678901234567890"},
		{`0.123456789012345678901234567890123456789`, "0.123456789012345678901234567890123456789", "0.123456789012345678901234567890123456789"},
		{`"9999999999999999.99"`, "9999999999999999.99", "9999999999999999.99"},
	}
	for _, c := range cases {
		var d Decimal
		if err := json.Unmarshal([]byte(c.in), &d); err != nil || !d.Valid {
			t.Errorf("%s: %+v %v", c.in, d, err)
			continue
		}
		if got := d.Value.StringFixed(max(-d.Value.Exponent(), 0)); got != c.exact {
			t.Errorf("%s: kept as %s, want %s", c.in, got, c.exact)
		}
		if d.String() != c.text {
			t.Errorf("%s: String %s, want %s", c.in, d.String(), c.text)
		}
		if out, _ := json.Marshal(d); string(out) != `"`+c.text+`"` {
			t.Errorf("%s: marshal %s", c.in, out)
		}
	}
	for _, in := range []string{`12345678901234567890123456789012345678901`, `1e40`, `"1e-41"`, `1e39999`} {
		if err := new(Decimal).UnmarshalJSON([]byte(in)); !errors.Is(err, TooManyDigits) {
			t.Errorf("%s: got %v, want %v", in, err, TooManyDigits)
		}
	}
	if d := (Decimal{}); d.String() != "" || d.NullDecimal().Valid {
		t.Fatalf("absent: %q %+v", d.String(), d.NullDecimal())
	}
	var d Decimal
	_ = json.Unmarshal([]byte(`"2.50"`), &d)
	if nd := d.NullDecimal(); !nd.Valid || nd.Decimal.Exponent() != -2 {
		t.Fatalf("NullDecimal lost the scale: %+v", nd)
	}
}

func TestFormatIgnoresGlobalOptions(t *testing.T) {
	trim, sci := decimal.TrimTrailingZeros, decimal.UseScientificNotation
	t.Cleanup(func() { decimal.TrimTrailingZeros, decimal.UseScientificNotation = trim, sci })
	decimal.TrimTrailingZeros, decimal.UseScientificNotation = false, true
	for in, want := range map[string]string{"1.500": "1.5", "1e3": "1000", "-0.000": "0", "0.05": "0.05"} {
		if got := Format(decimal.RequireFromString(in)); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

func TestIntEdgeCases(t *testing.T) {
	ok := map[string]Int{
		`"007"`:                 {7, true},
		`"+5"`:                  {5, true},
		`1e3`:                   {1000, true},
		`"1.0e3"`:               {1000, true},
		`9223372036854775807`:   {9223372036854775807, true},
		`-9223372036854775808`:  {-9223372036854775808, true},
		`"  "`:                  {},
		`"1588246321000"`:       {1588246321000, true},
		`" 1588246321000.000 "`: {1588246321000, true},
	}
	checkUnmarshal(t, ok, []string{`9223372036854775808`, `"12.50"`, `1e40`, `"0x1F"`, `"1 000"`}, NotInteger)
	if (Int{}).Ptr() != nil || *(Int{Value: 3, Valid: true}).Ptr() != 3 {
		t.Fatal("Ptr")
	}
}

func TestBoolEdgeCases(t *testing.T) {
	checkUnmarshal(t, map[string]Bool{`"True"`: {true, true}, `" 1 "`: {true, true}, `"  "`: {}}, []string{`1.0`, `"on"`, `-1`, `"t"`}, NotBool)
	if (Bool{}).Ptr() != nil || *(Bool{Value: true, Valid: true}).Ptr() != true {
		t.Fatal("Ptr")
	}
}

func TestTextLiterals(t *testing.T) {
	for in, want := range map[string]string{`true`: "true", `1.50`: "1.50", `""`: "", `[ 1, 2 ]`: "[1,2]"} {
		var x Text
		if err := json.Unmarshal([]byte(in), &x); err != nil || !x.Valid || x.Value != want || x.String() != want {
			t.Errorf("%s: got %+v %v, want %q", in, x, err, want)
		}
	}
}

func TestTimeForms(t *testing.T) {
	d := &Dialect{Zone: China}
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04:05.000", s, China)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	all := LocalTime | LocalDate | RFC3339 | EpochMillis
	cases := []struct {
		in    string
		forms Forms
		want  time.Time
	}{
		{`"2024-05-01 10:00:00"`, LocalTime, at("2024-05-01 10:00:00.000")},
		{`"2024-05-01 10:00"`, LocalTime, at("2024-05-01 10:00:00.000")},
		{`"2024-05-01T10:00"`, LocalTime, at("2024-05-01 10:00:00.000")},
		{`" 2024-05-01T10:00:00.5 "`, LocalTime, at("2024-05-01 10:00:00.500")},
		{`"2024-05-01"`, LocalDate, at("2024-05-01 00:00:00.000")},
		{`"2024-05-01T02:00:00Z"`, RFC3339, at("2024-05-01 10:00:00.000")},
		{`1714528800000`, EpochMillis, at("2024-05-01 10:00:00.000")},
		{`"1714528800000"`, EpochMillis, at("2024-05-01 10:00:00.000")},
		{`"1714528800000"`, all, at("2024-05-01 10:00:00.000")},
		{`1.7145288e12`, all, at("2024-05-01 10:00:00.000")},
		{`-1000`, EpochMillis, at("1970-01-01 07:59:59.000")},
		{`"2024-05-01 10:00:00"`, all, at("2024-05-01 10:00:00.000")},
	}
	for _, c := range cases {
		got, err := d.ParseTime([]byte(c.in), c.forms)
		if err != nil || !got.Valid || !got.Time.Equal(c.want) {
			t.Errorf("%s: got %v %v, want %v", c.in, got.Time, err, c.want)
			continue
		}
		if got.Time.Location() != China {
			t.Errorf("%s: in %v, want the dialect's zone", c.in, got.Time.Location())
		}
	}
	refusals := []struct {
		in    string
		forms Forms
		want  Problem
	}{
		{`"2024-05-01"`, LocalTime | RFC3339, NotTime},
		{`"2024-05-01 10:00:00"`, LocalDate, NotTime},
		{`"2024-05-01T02:00:00Z"`, LocalTime, NotTime},
		{`1714528800000`, LocalTime | RFC3339, NotTime},
		{`"1714528800000"`, LocalTime, NotTime},
		{`"soon"`, EpochMillis, NotEpoch},
		{`true`, all, NotEpoch},
		{`{}`, all, NotEpoch},
		{`1.5`, EpochMillis, NotEpoch},
		{`"soon"`, all, NotTime},
		{`"2024-05-01 10"`, all, NotTime},
		{`"2024-05-01 25:00:00"`, all, NotTime},
		{`253402300800000`, EpochMillis, TimeRange},
		{`"0999-12-31 23:59:59"`, LocalTime, TimeRange},
		{`{`, all, NotJSON},
	}
	for _, c := range refusals {
		if got, err := d.ParseTime([]byte(c.in), c.forms); !errors.Is(err, c.want) || got.Valid {
			t.Errorf("%s: got %+v %v, want %v", c.in, got, err, c.want)
		}
	}
	// The last millisecond a DATETIME holds is in range; UTC is the default zone.
	got, err := (&Dialect{}).ParseTime([]byte(`253402300799999`), EpochMillis)
	if err != nil || got.Time.Location() != time.UTC || got.Time.Year() != 9999 {
		t.Fatalf("end of range: %v %v", got.Time, err)
	}
	if (Time{}).UTC() != nil {
		t.Fatal("absent UTC")
	}
}

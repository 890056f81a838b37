package lenient

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/vendors"
)

// read returns a Reader in d and the JSON text body as the value "content".
func read(d *Dialect, body string) (*Reader, Value) {
	r := NewReader(d)
	return r, r.Value("content", json.RawMessage(body))
}

// problem returns the reader's problem, failing when there is none or it is
// not a ContentError.
func problem(t *testing.T, r *Reader) *vendors.ContentError {
	t.Helper()
	var ce *vendors.ContentError
	if !errors.As(r.Err(), &ce) {
		t.Fatalf("want a ContentError, got %v", r.Err())
	}
	return ce
}

func TestReaderReadsAMessage(t *testing.T) {
	r, v := read(&Dialect{Zone: China}, `{
		"id": " A-1 ", "n": "700", "amount": "12.50", "flag": 1, "when": "2024-05-01 10:00",
		"name": 18310480640, "remark": {"a": 1}, "items": [{"x": 1}, null, {"x": 2}],
		"nested": "{\"list\":[\"1_a\"]}", "empty": "", "none": null}`)
	c := v.Object()
	if got := c.Get("id").ID(10); got != "A-1" {
		t.Errorf("id %q", got)
	}
	if n := c.Get("n").Int(); !n.Valid || n.Value != 700 {
		t.Errorf("n %+v", n)
	}
	if d := c.Get("amount").Decimal(); d.String() != "12.5" || d.Value.Exponent() != -2 {
		t.Errorf("amount %+v", d)
	}
	if b := c.Get("flag").Bool(); !b.Valid || !b.Value {
		t.Errorf("flag %+v", b)
	}
	if w := c.Get("when").Time(LocalTime); !w.Valid || w.Time.Hour() != 10 || w.Time.Location() != China {
		t.Errorf("when %+v", w)
	}
	if s := c.Get("name").String(); s != "18310480640" {
		t.Errorf("name %q", s)
	}
	if x := c.Get("remark").RichText(); !x.Structured() || x.Value != `{"a":1}` || c.Get("remark").Text() != `{"a":1}` {
		t.Errorf("remark %+v", x)
	}
	items := c.Get("items").Objects()
	if len(items) != 2 || items[1].Get("x").Int().Value != 2 {
		t.Errorf("items %+v", items)
	}
	if got := c.Get("nested").Unwrap().Object().Get("list").Array(); len(got) != 1 || got[0].String() != "1_a" {
		t.Errorf("nested %+v", got)
	}
	if !c.Get("empty").Unwrap().Absent() || !c.Get("none").Object().Absent() || !c.Get("missing").Absent() {
		t.Error("empty, null and missing values are not absent")
	}
	if c.Get("missing").String() != "" || c.Get("missing").ID(5) != "" || c.Get("none").Int().Valid ||
		c.Get("none").Time(EpochMillis).Valid || c.Get("missing").Array() != nil {
		t.Error("absent values do not read as zero")
	}
	if !c.Has("id") || c.Has("none") || c.Has("missing") {
		t.Error("Has")
	}
	if r.Err() != nil {
		t.Fatalf("Err = %v", r.Err())
	}
}

func TestReaderKeys(t *testing.T) {
	_, v := read(&Dialect{}, `{"b":1,"a":2,"c":null}`)
	if got := strings.Join(v.Object().Keys(), ","); got != "a,b,c" {
		t.Fatalf("keys %q", got)
	}
}

func TestReaderNamesThePath(t *testing.T) {
	body := `{"a":{"b":[1,{"c":"x"}]},"s":"{\"d\":[true]}","lone":{"e":"y"}}`
	cases := []struct {
		name  string
		read  func(c Object)
		field string
	}{
		{"object in array", func(c Object) { c.Get("a").Object().Get("b").Array()[1].Object().Get("c").Int() }, "content.a.b[1].c"},
		{"array item", func(c Object) { c.Get("a").Object().Get("b").Objects() }, "content.a.b[0]"},
		{"inside a string", func(c Object) { _ = c.Get("s").Unwrap().Object().Get("d").Array()[0].String() }, "content.s.d[0]"},
		{"lone object as a list", func(c Object) { c.Get("lone").List()[0].Get("e").Decimal() }, "content.lone[0].e"},
		{"not an object", func(c Object) { c.Get("a").Object().Get("b").Object() }, "content.a.b"},
		{"own words", func(c Object) { c.Get("a").Invalid("is %s", "wrong") }, "content.a"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, v := read(&Dialect{}, body)
			c.read(v.Object())
			if ce := problem(t, r); ce.Field != c.field {
				t.Fatalf("field %q, want %q (%v)", ce.Field, c.field, ce)
			}
		})
	}
	// A root object with an empty path names its fields bare.
	r := NewReader(&Dialect{})
	r.Object("", map[string]json.RawMessage{"price_info": json.RawMessage(`7`)}).Get("price_info").Object()
	if ce := problem(t, r); ce.Field != "price_info" || ce.Problem != "must be a JSON object" {
		t.Fatalf("root field: %v", ce)
	}
}

func TestReaderKeepsTheFirstProblem(t *testing.T) {
	r, v := read(&Dialect{}, `{"a":"x","b":"y","c":3}`)
	c := v.Object()
	c.Get("a").Int()
	if got := c.Get("c").Int(); got.Valid {
		t.Fatalf("read after a problem returned %+v", got)
	}
	c.Get("b").Decimal()
	c.Get("c").Invalid("is wrong too")
	r.Fail("elsewhere", "also")
	if ce := problem(t, r); ce.Field != "content.a" || ce.Problem != "must be an integer" {
		t.Fatalf("got %v", ce)
	}
}

func TestReaderProblems(t *testing.T) {
	cases := []struct {
		body    string
		read    func(v Value)
		problem string
	}{
		{`"{oops"`, func(v Value) { v.Unwrap() }, "is a string that does not hold valid JSON"},
		{`[]`, func(v Value) { v.Object() }, "must be a JSON object"},
		{`{}`, func(v Value) { v.Array() }, "must be a JSON array"},
		{`[1]`, func(v Value) { v.Objects() }, "must be a JSON object"},
		{`true`, func(v Value) { _ = v.String() }, "must be a string"},
		{`{}`, func(v Value) { _ = v.String() }, "must be a string"},
		{`"长长长"`, func(v Value) { v.ID(2) }, "must be at most 2 characters"},
		{`"far"`, func(v Value) { v.Decimal() }, "must be a number"},
		{`1e99`, func(v Value) { v.Decimal() }, "has too many digits"},
		{`1.5`, func(v Value) { v.Int() }, "must be an integer"},
		{`"yes"`, func(v Value) { v.Bool() }, "must be a boolean"},
		{`1.5`, func(v Value) { v.ID(9) }, "must be an integer or a string"},
		{`true`, func(v Value) { v.ID(9) }, "must be an integer or a string"},
		{`"a\u0001b"`, func(v Value) { v.ID(9) }, "must not contain control characters"},
		{`"soon"`, func(v Value) { v.Time(LocalTime) }, "must be a time"},
		{`"soon"`, func(v Value) { v.Time(EpochMillis) }, "must be an epoch-milliseconds timestamp"},
		{`"0999-01-01"`, func(v Value) { v.Time(LocalDate) }, "is out of range"},
		{`1`, func(v Value) { v.Fail(NotObject) }, "must be a JSON object"},
	}
	for _, c := range cases {
		r, v := read(&Dialect{}, c.body)
		c.read(v)
		if ce := problem(t, r); !strings.HasPrefix(ce.Field, "content") || ce.Problem != c.problem {
			t.Errorf("%s: got %q, want %q", c.body, ce.Problem, c.problem)
		}
	}
}

func TestDialectWording(t *testing.T) {
	d := &Dialect{Wording: map[Problem]string{NotInteger: "is not an integer", TooLong: "is longer than %d characters"}}
	r, v := read(d, `{"a":"x","b":"long"}`)
	v.Object().Get("a").Int()
	if got := r.Err().Error(); got != "invalid content: content.a: is not an integer" {
		t.Fatalf("got %q", got)
	}
	r, v = read(d, `{"b":"long"}`)
	v.Object().Get("b").ID(2)
	if ce := problem(t, r); ce.Problem != "is longer than 2 characters" {
		t.Fatalf("got %q", ce.Problem)
	}
}

func TestProblemsNeverQuoteTheValue(t *testing.T) {
	secret := "13911112222"
	for _, read := range []func(v Value){
		func(v Value) { v.Int() }, func(v Value) { v.Decimal() }, func(v Value) { v.Bool() },
		func(v Value) { v.Time(LocalTime | EpochMillis) }, func(v Value) { v.ID(5) }, func(v Value) { v.Unwrap() },
	} {
		r := NewReader(&Dialect{})
		read(r.Value("f", json.RawMessage(`"`+secret+`x"`)))
		if r.Err() == nil || strings.Contains(r.Err().Error(), secret) {
			t.Errorf("error %v", r.Err())
		}
	}
}

func TestKindOf(t *testing.T) {
	for in, want := range map[string]Kind{
		``: KindAbsent, ` null`: KindAbsent, `"x"`: KindString, `-1`: KindNumber, `0`: KindNumber,
		`true`: KindBool, `false`: KindBool, "\n{}": KindObject, `[]`: KindArray,
	} {
		if got := KindOf([]byte(in)); got != want {
			t.Errorf("%q: %v, want %v", in, got, want)
		}
	}
}

func TestReaderExtra(t *testing.T) {
	r := NewReader(&Dialect{})
	root := r.Object("", map[string]json.RawMessage{
		"id": json.RawMessage(`1`), "sig": json.RawMessage(`"x"`), "new": json.RawMessage(`{"deep": 1.50}`),
		"body": json.RawMessage(`{"a": 1, "b": 2.000, "list": [{"k": 1, "u": "z"}, {"k": 2}], "kept": {"x": 1}, "raw": [{"y": 2}]}`),
	})
	root.Use("sig")
	if root.Get("id").Int().Value != 1 {
		t.Fatal("id")
	}
	body := root.Get("body").Object()
	body.Get("a").Int()
	for _, it := range body.Get("list").Objects() {
		it.Get("k").Int()
	}
	body.Get("kept").Object().Keep()
	_ = body.Get("raw").Raw()
	// The same object read again at the same path shares what was read.
	if root.Get("body").Object().Get("a").Int().Value != 1 {
		t.Fatal("a")
	}
	got, err := json.Marshal(r.Extra())
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"body.b":2.000,"body.list[0].u":"z","new":{"deep":1.50}}` {
		t.Fatalf("extra %s", got)
	}
	if got, _ := json.Marshal(NewReader(&Dialect{}).Extra()); string(got) != `{}` {
		t.Fatalf("empty extra %s", got)
	}
	if got, _ := json.Marshal(Extra(nil)); string(got) != `{}` {
		t.Fatalf("nil extra %s", got)
	}
}

func TestReaderWarnings(t *testing.T) {
	r, v := read(&Dialect{Zone: China}, `{"pct": 150, "when": "2024-05-01T10:00:00.123456+08:00", "day": 1325390400000, "midnight": 1325347200000}`)
	o := v.Object()
	o.Get("pct").Warn("is over %d", 100)
	w := o.Get("when").Time(RFC3339)
	if w.Time.Nanosecond() != 123e6 {
		t.Fatalf("time not cut to the millisecond: %v", w.Time)
	}
	if d := o.Get("day").Date(EpochMillis); d.String() != "2012-01-01" {
		t.Fatalf("day %v", d)
	}
	if d := o.Get("midnight").Date(EpochMillis); d.String() != "2012-01-01" {
		t.Fatalf("midnight %v", d)
	}
	want := []string{
		"content.pct: is over 100",
		"content.when: has digits finer than a millisecond; kept to the millisecond",
		"content.day: is a date with a time of day; the day in UTC+08:00 is kept",
	}
	if got := r.Warnings(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("warnings\n%q\nwant\n%q", got, want)
	}
	if r.Err() != nil {
		t.Fatalf("a warning is not a problem: %v", r.Err())
	}
}

func TestReaderDate(t *testing.T) {
	r, v := read(&Dialect{Zone: China}, `{"text": "2026-09-01", "zoned": "2026-08-31T16:00:00Z", "none": null, "bad": "soon"}`)
	o := v.Object()
	if d := o.Get("text").Date(LocalDate); d.String() != "2026-09-01" {
		t.Fatalf("text %v", d)
	}
	// An instant with its own offset is a day in the Dialect's zone.
	if d := o.Get("zoned").Date(RFC3339); d.String() != "2026-09-01" {
		t.Fatalf("zoned %v", d)
	}
	if d := o.Get("none").Date(LocalDate); d.Valid {
		t.Fatalf("null %v", d)
	}
	if len(r.Warnings()) != 0 {
		t.Fatalf("warnings %q", r.Warnings())
	}
	o.Get("bad").Date(LocalDate)
	if ce := problem(t, r); ce.Field != "content.bad" || ce.Problem != "must be a time" {
		t.Fatalf("problem %+v", ce)
	}
	out, _ := json.Marshal([]Date{o.Get("text").Date(LocalDate), {}})
	if string(out) != `[null,null]` { // reads after a problem give zero values
		t.Fatalf("after a problem: %s", out)
	}
}

// Extra values are written as the vendor sent them: markup is not escaped,
// so a record's size and text do not grow with it.
func TestExtraKeepsMarkupUnescaped(t *testing.T) {
	e := Extra{"note": json.RawMessage(`"<b>&</b>"`), "n": json.RawMessage(`1.50`)}
	raw, err := e.MarshalJSON()
	if err != nil || string(raw) != `{"n":1.50,"note":"<b>&</b>"}` {
		t.Fatalf("MarshalJSON = %s, %v", raw, err)
	}
}

// Free text of any length is read whole; only identifiers have a limit.
func TestFreeTextHasNoLimit(t *testing.T) {
	long := strings.Repeat("长", 200_000)
	r := NewReader(&Dialect{})
	obj := r.Value("content", json.RawMessage(`{"remark":"`+long+`","report":{"list":["`+long+`"]},"id":"`+long+`"}`)).Object()
	if got := obj.Get("remark").String(); got != long {
		t.Fatalf("String cut the text to %d characters", len([]rune(got)))
	}
	if got := obj.Get("report").Text(); !strings.Contains(got, long) {
		t.Fatalf("Text cut the report to %d bytes", len(got))
	}
	if r.Err() != nil {
		t.Fatalf("free text refused: %v", r.Err())
	}
	if obj.Get("id").ID(100) != "" || r.Err() == nil || !strings.Contains(r.Err().Error(), "content.id: must be at most 100 characters") {
		t.Fatalf("an identifier over its limit: %v", r.Err())
	}
}

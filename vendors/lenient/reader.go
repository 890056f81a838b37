package lenient

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/vendors"
)

// Reader reads the values of one message in a vendor's Dialect. It keeps
// the first problem it meets; every read after that is a no-op that returns
// a zero value, so a decoder reads as a plain list of fields and checks Err
// once at the end.
//
// A Reader also keeps what a decoder needs to say about values it accepts:
// warnings (Warn), and which keys of each object it read, so Extra can
// return every field the decoder did not map.
type Reader struct {
	d        *Dialect
	err      *vendors.ContentError
	warnings []string
	objects  map[string]*objectState // by path: every object read, and the keys read of it
	order    []string                // paths of objects in the order they were first read
}

// objectState is what the Reader knows of one object of the message.
type objectState struct {
	m    map[string]json.RawMessage
	read map[string]bool
	all  bool // kept whole: every key counts as mapped
}

// NewReader returns a Reader for a message in dialect d.
func NewReader(d *Dialect) *Reader { return &Reader{d: d} }

// Err returns the first problem, a *vendors.ContentError, or nil.
func (r *Reader) Err() error {
	if r.err == nil {
		return nil
	}
	return r.err
}

// Fail records a problem with the field at path unless one is already recorded.
func (r *Reader) Fail(path, format string, args ...any) {
	if r.err == nil {
		r.err = vendors.Invalid(path, format, args...)
	}
}

// Warn records a warning about the field at path: a value that is kept as
// sent although it breaks a rule the vendor's documents imply (a negative
// distance, a percentage over 100). Like a problem, a warning names the
// field and never quotes the value.
func (r *Reader) Warn(path, format string, args ...any) {
	r.warnings = append(r.warnings, path+": "+fmt.Sprintf(format, args...))
}

// Warnings returns the warnings recorded, in the order they were made.
func (r *Reader) Warnings() []string { return slices.Clone(r.warnings) }

// Extra returns every field of the objects read that the decoder did not
// read (Object.Get), mark as mapped (Object.Use) or keep whole
// (Object.Keep), keyed by its path as problems name it
// ("content.carInfo.carColor", "order_info.car_level",
// "saas_info.cost_info[0].new_field"), with its JSON text as received.
// Fields inside a value that was never read as an object (a list kept as
// received, an unmapped object) are not listed one by one: the value is,
// whole, or the record keeps it. The result is empty, never nil, so a record
// always carries its extra object.
func (r *Reader) Extra() Extra {
	out := Extra{}
	for _, path := range r.order {
		st := r.objects[path]
		if st.all {
			continue
		}
		for k, raw := range st.m {
			if !st.read[k] {
				out[joinPath(path, k)] = raw
			}
		}
	}
	return out
}

// track registers the object m at path and returns its state; an object
// read twice at one path shares one state.
func (r *Reader) track(path string, m map[string]json.RawMessage) *objectState {
	if m == nil {
		return nil
	}
	if r.objects == nil {
		r.objects = map[string]*objectState{}
	}
	if st, ok := r.objects[path]; ok {
		return st
	}
	st := &objectState{m: m, read: map[string]bool{}}
	r.objects[path] = st
	r.order = append(r.order, path)
	return st
}

// Extra is the fields of a message a decoder did not map, by path, as
// received: numbers keep their text, nothing is re-formatted but white space.
// It marshals as a JSON object with sorted keys, {} when empty.
type Extra map[string]json.RawMessage

// MarshalJSON writes the object; a nil Extra is {}.
func (e Extra) MarshalJSON() ([]byte, error) {
	if e == nil {
		return []byte("{}"), nil
	}
	// Without HTML escaping: the values stay the text the vendor sent.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]json.RawMessage(e)); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func joinPath(base, key string) string {
	if base == "" {
		return key
	}
	return base + "." + key
}

// Value returns the JSON text raw as the value at path; nil raw is absent.
func (r *Reader) Value(path string, raw json.RawMessage) Value {
	return Value{r: r, base: path, index: -1, raw: raw}
}

// Object returns an object already decoded into m as the object at path; a
// nil m is absent.
func (r *Reader) Object(path string, m map[string]json.RawMessage) Object {
	return Object{r: r, path: path, m: m, st: r.track(path, m)}
}

// Value is one JSON value of a message and where it sits. Its path is only
// built when a problem needs it.
type Value struct {
	r     *Reader
	base  string // the path of the containing object or array, or the whole path
	key   string // the key in the containing object
	index int    // the index in the containing array, or -1
	raw   json.RawMessage
}

// Path names the value: "content.carInfo.carNum", "order_info.price_detail_info[1]".
func (v Value) Path() string {
	switch {
	case v.index >= 0:
		return v.base + "[" + strconv.Itoa(v.index) + "]"
	case v.key == "":
		return v.base
	case v.base == "":
		return v.key
	default:
		return v.base + "." + v.key
	}
}

// Raw returns the JSON text of the value as received; nil when missing.
func (v Value) Raw() json.RawMessage { return v.raw }

// Kind returns the kind of the value.
func (v Value) Kind() Kind { return KindOf(v.raw) }

// Absent reports whether the value is missing or null.
func (v Value) Absent() bool { return v.Kind() == KindAbsent }

// Fail records problem p with the value, phrased in the Reader's dialect.
func (v Value) Fail(p Problem, args ...any) {
	if v.r.err == nil {
		v.r.Fail(v.Path(), v.r.d.phrase(p), args...)
	}
}

// Warn records a warning about the value in the caller's own words (see Reader.Warn).
func (v Value) Warn(format string, args ...any) {
	v.r.Warn(v.Path(), format, args...)
}

// Invalid records a problem with the value in the caller's own words.
func (v Value) Invalid(format string, args ...any) {
	if v.r.err == nil {
		v.r.Fail(v.Path(), format, args...)
	}
}

// failWith records err, a Problem, and reports whether there was one.
func (v Value) failWith(err error) bool {
	if err == nil {
		return false
	}
	var p Problem
	if !errors.As(err, &p) {
		p = NotJSON
	}
	v.Fail(p)
	return true
}

// read decodes a present value into u, recording its problem.
func (v Value) read(u json.Unmarshaler) {
	if v.r.err == nil && v.raw != nil {
		v.failWith(u.UnmarshalJSON(v.raw))
	}
}

// Unwrap returns the JSON a string value holds, for vendors that send some
// objects and arrays as JSON text inside a string; a value of another kind
// is returned as it is, and an empty string counts as absent.
func (v Value) Unwrap() Value {
	if v.r.err != nil || v.Kind() != KindString {
		return v
	}
	_, text, err := scalar(v.raw)
	if v.failWith(err) {
		return v
	}
	u := v
	switch {
	case strings.TrimSpace(text) == "":
		u.raw = nil
	case !json.Valid([]byte(text)):
		v.Fail(NotJSONText)
	default:
		u.raw = json.RawMessage(text)
	}
	return u
}

// Object reads an object; absent gives an empty object.
func (v Value) Object() Object {
	o := Object{r: v.r, path: v.Path()}
	if v.r.err == nil && !v.Absent() && (v.Kind() != KindObject || json.Unmarshal(v.raw, &o.m) != nil) {
		v.Fail(NotObject)
		o.m = nil
	}
	o.st = v.r.track(o.path, o.m)
	return o
}

// Array reads an array's items, null items included; absent gives none.
func (v Value) Array() []Value {
	if v.r.err != nil || v.Absent() {
		return nil
	}
	var items []json.RawMessage
	if v.Kind() != KindArray || json.Unmarshal(v.raw, &items) != nil {
		v.Fail(NotArray)
		return nil
	}
	out := make([]Value, len(items))
	path := v.Path()
	for i, raw := range items {
		out[i] = Value{r: v.r, base: path, index: i, raw: raw}
	}
	return out
}

// Objects reads an array of objects; null items are skipped and an item of
// another kind is NotObject.
func (v Value) Objects() []Object {
	var out []Object
	for _, it := range v.Array() {
		if !it.Absent() {
			out = append(out, it.Object())
		}
	}
	return out
}

// List is Objects for vendors that send a list of one as its lone item: an
// object counts as a one-item list, its path indexed [0].
func (v Value) List() []Object {
	if v.r.err == nil && v.Kind() == KindObject {
		item := Value{r: v.r, base: v.Path(), index: 0, raw: v.raw}
		return []Object{item.Object()}
	}
	return v.Objects()
}

// String reads a string, whatever its length: free text is never a reason
// to refuse a callback (identifiers that become keys are read with ID, which
// bounds them). A number counts as the text it was written as. Absent gives "".
func (v Value) String() string {
	if v.r.err != nil || v.Absent() {
		return ""
	}
	kind, text, err := scalar(v.raw)
	switch {
	case v.failWith(err):
		return ""
	case kind != KindString && kind != KindNumber:
		v.Fail(NotString)
		return ""
	}
	return text
}

// Text reads a value of any kind as text, whatever its length (see Text);
// absent gives "".
func (v Value) Text() string { return v.RichText().Value }

// RichText reads a value of any kind as a Text, whatever its length.
func (v Value) RichText() Text {
	var t Text
	v.read(&t)
	return t
}

// ID reads an identifier sent as an integer or as a string of at most max
// characters without control characters, and returns its text, trimmed;
// absent gives "". Identifiers become keys (of records, of rows), so a longer
// one is refused, naming the field and the limit.
func (v Value) ID(max int) string {
	if v.r.err != nil || v.Absent() {
		return ""
	}
	switch v.Kind() {
	case KindString:
		s := strings.TrimSpace(v.String())
		if utf8.RuneCountInString(s) > max {
			v.Fail(TooLong, max)
			return ""
		}
		if strings.IndexFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0 {
			v.Fail(ControlChars)
			return ""
		}
		return s
	case KindNumber:
		var n Int
		if n.UnmarshalJSON(v.raw) == nil && n.Valid {
			return strconv.FormatInt(n.Value, 10)
		}
	}
	v.Fail(NotID)
	return ""
}

// Int reads an integer (see Int).
func (v Value) Int() Int {
	var n Int
	v.read(&n)
	return n
}

// Decimal reads an exact number (see Decimal).
func (v Value) Decimal() Decimal {
	var d Decimal
	v.read(&d)
	return d
}

// Bool reads a boolean (see Bool).
func (v Value) Bool() Bool {
	var b Bool
	v.read(&b)
	return b
}

// Time reads a time sent in one of forms (see Dialect.ParseTime). Times are
// kept to the millisecond, the precision of every time column on every
// store; a time sent with finer digits is cut to the millisecond, with a
// warning.
func (v Value) Time(forms Forms) Time {
	if v.r.err != nil || v.raw == nil {
		return Time{}
	}
	t, err := v.r.d.ParseTime(v.raw, forms)
	if v.failWith(err) {
		return Time{}
	}
	if t.Valid && t.Time.Nanosecond()%int(time.Millisecond) != 0 {
		v.Warn("has digits finer than a millisecond; kept to the millisecond")
		t.Time = t.Time.Truncate(time.Millisecond)
	}
	return t
}

// Date reads a calendar date sent in one of forms (see Dialect.ParseTime):
// the day the time falls on in the Dialect's zone, so epoch milliseconds of
// midnight in China are that day, not the day before in UTC. A time with a
// time of day other than midnight keeps its day, with a warning.
func (v Value) Date(forms Forms) Date {
	if v.r.err != nil || v.raw == nil {
		return Date{}
	}
	t, err := v.r.d.ParseTime(v.raw, forms)
	if v.failWith(err) || !t.Valid {
		return Date{}
	}
	local := t.Time.In(v.r.d.zone())
	if h, m, s := local.Clock(); h != 0 || m != 0 || s != 0 || local.Nanosecond() != 0 {
		v.Warn("is a date with a time of day; the day in %s is kept", zoneName(v.r.d.zone()))
	}
	return models.DateOf(local)
}

// zoneName names a zone by its offset ("UTC+08:00"), or "UTC".
func zoneName(loc *time.Location) string {
	_, off := time.Date(2000, 1, 1, 0, 0, 0, 0, loc).Zone()
	if off == 0 {
		return "UTC"
	}
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	return fmt.Sprintf("UTC%s%02d:%02d", sign, off/3600, off%3600/60)
}

// Object is one JSON object of a message and where it sits.
type Object struct {
	r    *Reader
	path string
	m    map[string]json.RawMessage // nil when absent
	st   *objectState               // nil when absent
}

// Get returns the value under key, which counts as mapped (see
// Reader.Extra); a missing key gives an absent value.
func (o Object) Get(key string) Value {
	if o.st != nil {
		o.st.read[key] = true
	}
	return Value{r: o.r, base: o.path, key: key, index: -1, raw: o.m[key]}
}

// Use marks keys as mapped without reading them: fields the decoder reads
// elsewhere (an id the envelope parser took) or means to leave out of the
// record's extra (a signature).
func (o Object) Use(keys ...string) {
	if o.st != nil {
		for _, k := range keys {
			o.st.read[k] = true
		}
	}
}

// Keep marks every key of the object as mapped, for an object the record
// keeps whole as received, so none of its fields is listed again in extra.
func (o Object) Keep() {
	if o.st != nil {
		o.st.all = true
	}
}

// Path returns the object's path ("" for a message's top level).
func (o Object) Path() string { return o.path }

// Has reports whether key holds a value other than null.
func (o Object) Has(key string) bool { return KindOf(o.m[key]) != KindAbsent }

// Keys returns the object's keys in sorted order.
func (o Object) Keys() []string {
	keys := make([]string, 0, len(o.m))
	for k := range o.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Absent reports whether the object was missing or null (or could not be read).
func (o Object) Absent() bool { return o.m == nil }

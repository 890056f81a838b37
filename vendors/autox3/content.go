package autox3

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/vendors"
)

// node is one JSON value of a callback with its path, used to name the field
// in a ContentError. A nil raw means the field is absent.
type node struct {
	path string
	raw  json.RawMessage
}

// object is a decoded JSON object; a nil map stands for an absent or null one.
type object struct {
	path string
	m    map[string]json.RawMessage
}

func (o object) get(key string) node {
	return node{path: o.path + "." + key, raw: o.m[key]}
}

func (o object) has(key string) bool { return !o.get(key).absent() }

func (n node) absent() bool { k := kindOf(n.raw); return k == 0 || k == 'n' }

func (n node) kind() byte { return kindOf(n.raw) }

// unwrapString turns a JSON string that holds JSON text into that JSON, as
// AutoX3 double-encodes some values; other values are returned unchanged. An
// empty string counts as absent.
func (n node) unwrapString() (node, error) {
	if n.kind() != '"' {
		return n, nil
	}
	var text string
	if err := json.Unmarshal(n.raw, &text); err != nil {
		return n, vendors.Invalid(n.path, "is not a valid JSON string")
	}
	if strings.TrimSpace(text) == "" {
		return node{path: n.path}, nil
	}
	if !json.Valid([]byte(text)) {
		return n, vendors.Invalid(n.path, "is a string that does not hold valid JSON")
	}
	return node{path: n.path, raw: json.RawMessage(text)}, nil
}

// asObject decodes an object; absent or null gives an empty object.
func (n node) asObject() (object, error) {
	if n.absent() {
		return object{path: n.path}, nil
	}
	if n.kind() != '{' {
		return object{}, vendors.Invalid(n.path, "must be a JSON object")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(n.raw, &m); err != nil {
		return object{}, vendors.Invalid(n.path, "is not a valid JSON object")
	}
	return object{path: n.path, m: m}, nil
}

// asArray decodes an array; absent or null gives none.
func (n node) asArray() ([]node, error) {
	if n.absent() {
		return nil, nil
	}
	if n.kind() != '[' {
		return nil, vendors.Invalid(n.path, "must be a JSON array")
	}
	var items []json.RawMessage
	if err := json.Unmarshal(n.raw, &items); err != nil {
		return nil, vendors.Invalid(n.path, "is not a valid JSON array")
	}
	out := make([]node, len(items))
	for i, raw := range items {
		out[i] = node{path: fmt.Sprintf("%s[%d]", n.path, i), raw: raw}
	}
	return out, nil
}

// asObjects decodes an array whose items must be objects and returns their
// compact JSON text; absent or null gives an empty list.
func (n node) asObjects() ([]json.RawMessage, error) {
	items, err := n.asArray()
	if err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, 0, len(items))
	for _, it := range items {
		if it.kind() != '{' {
			return nil, vendors.Invalid(it.path, "must be a JSON object")
		}
		out = append(out, it.raw)
	}
	return out, nil
}

// asString reads text of at most max characters. A number is taken as its
// text, as AutoX3 is not consistent about which fields are strings.
func (n node) asString(max int) (string, error) {
	if n.absent() {
		return "", nil
	}
	var s string
	switch k := n.kind(); {
	case k == '"':
		if err := json.Unmarshal(n.raw, &s); err != nil {
			return "", vendors.Invalid(n.path, "is not a valid JSON string")
		}
	case k == '-' || ('0' <= k && k <= '9'):
		s = strings.TrimSpace(string(n.raw))
	default:
		return "", vendors.Invalid(n.path, "must be a string")
	}
	if utf8.RuneCountInString(s) > max {
		return "", vendors.Invalid(n.path, "must be at most %d characters", max)
	}
	return s, nil
}

// asDecimal reads a JSON number or a string holding one. Absent, null and
// the empty string give nil.
func (n node) asDecimal() (*decimal.Decimal, error) {
	if n.absent() {
		return nil, nil
	}
	text := strings.TrimSpace(string(n.raw))
	switch k := n.kind(); {
	case k == '"':
		if err := json.Unmarshal(n.raw, &text); err != nil {
			return nil, vendors.Invalid(n.path, "must be a number")
		}
		if text = strings.TrimSpace(text); text == "" {
			return nil, nil
		}
	case k == '-' || ('0' <= k && k <= '9'):
	default:
		return nil, vendors.Invalid(n.path, "must be a number")
	}
	d, ok := parseDecimal(text)
	if !ok {
		return nil, vendors.Invalid(n.path, "must be a number")
	}
	return &d, nil
}

// parseDecimal parses decimal text of sane size; the exponent bound keeps
// later arithmetic from building enormous numbers.
func parseDecimal(text string) (decimal.Decimal, bool) {
	if text == "" || len(text) > 64 {
		return decimal.Decimal{}, false
	}
	d, err := decimal.NewFromString(text)
	if err != nil || d.Exponent() < -30 || d.Exponent() > 30 {
		return decimal.Decimal{}, false
	}
	return d, true
}

// asInt reads a whole number, given as a JSON number or a string holding one.
func (n node) asInt() (*int64, error) {
	d, err := n.asDecimal()
	if err != nil {
		return nil, vendors.Invalid(n.path, "must be an integer")
	}
	if d == nil {
		return nil, nil
	}
	if !d.IsInteger() || !d.BigInt().IsInt64() {
		return nil, vendors.Invalid(n.path, "must be an integer")
	}
	v := d.IntPart()
	return &v, nil
}

// asID reads an identifier sent either as an integer or as a string and
// returns its text ("" when absent).
func (n node) asID(max int) (string, error) {
	if n.absent() {
		return "", nil
	}
	switch k := n.kind(); {
	case k == '"':
		s, err := n.asString(max)
		if err != nil {
			return "", err
		}
		s = strings.TrimSpace(s)
		if strings.IndexFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0 {
			return "", vendors.Invalid(n.path, "must not contain control characters")
		}
		return s, nil
	case k == '-' || ('0' <= k && k <= '9'):
		v, err := n.asInt()
		if err != nil {
			return "", vendors.Invalid(n.path, "must be an integer or a string")
		}
		return fmt.Sprint(*v), nil
	default:
		return "", vendors.Invalid(n.path, "must be an integer or a string")
	}
}

// Range of a MySQL DATETIME, in epoch milliseconds.
const (
	minEpochMs = -30610224000000 // 1000-01-01T00:00:00Z
	maxEpochMs = maxCreateTime
)

// asEpochMs reads a time sent as epoch milliseconds (a number or a string of digits).
func (n node) asEpochMs() (*time.Time, error) {
	v, err := n.asInt()
	if err != nil {
		return nil, vendors.Invalid(n.path, "must be an epoch-milliseconds timestamp")
	}
	if v == nil {
		return nil, nil
	}
	if *v < minEpochMs || *v > maxEpochMs {
		return nil, vendors.Invalid(n.path, "is out of range (years 1000 to 9999)")
	}
	t := time.UnixMilli(*v).UTC()
	return &t, nil
}

// vendorZone is the zone of AutoX3's servers: the seed sample's production
// date 1325347200000 is midnight of 2012-01-01 at UTC+8. Dates sent as text
// without a zone are read in it.
func vendorZone() *time.Location { return time.FixedZone("UTC+8", 8*3600) }

// asTime reads a time sent as epoch milliseconds or as date text
// ("2006-01-02", "2006-01-02 15:04:05" or RFC 3339).
func (n node) asTime() (*time.Time, error) {
	if n.kind() != '"' {
		return n.asEpochMs()
	}
	var text string
	if err := json.Unmarshal(n.raw, &text); err != nil {
		return nil, vendors.Invalid(n.path, "is not a valid JSON string")
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, nil
	}
	if strings.IndexFunc(text, func(r rune) bool { return r < '0' || r > '9' }) < 0 {
		return n.asEpochMs()
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02"} {
		zone := vendorZone()
		if layout == time.RFC3339Nano {
			zone = time.UTC
		}
		if t, err := time.ParseInLocation(layout, text, zone); err == nil {
			t = t.UTC()
			if ms := t.UnixMilli(); ms < minEpochMs || ms > maxEpochMs {
				return nil, vendors.Invalid(n.path, "is out of range (years 1000 to 9999)")
			}
			return &t, nil
		}
	}
	return nil, vendors.Invalid(n.path, "must be an epoch-milliseconds timestamp or a date (YYYY-MM-DD[ hh:mm:ss] or RFC 3339)")
}

// decimalText renders a decimal for the ERP payload; nil stays null.
func decimalText(d *decimal.Decimal) *string {
	if d == nil {
		return nil
	}
	s := d.String()
	return &s
}

// compactJSON returns the compact text of a list of JSON values ("[]" for none).
func compactJSON(items []json.RawMessage) string {
	if items == nil {
		items = []json.RawMessage{}
	}
	b, err := json.Marshal(items)
	if err != nil { // items were validated as JSON when decoded
		return "[]"
	}
	return string(b)
}

// compactOne returns the compact text of one JSON value.
func compactOne(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil { // raw was validated when decoded
		return string(raw)
	}
	return b.String()
}

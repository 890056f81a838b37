package lenient

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/models"
)

// maxNumberText bounds the length of a number's text, and maxDigits the
// digits either side of the point, so no input can make arithmetic or
// formatting costly. Both are above what the widest DECIMAL column holds (35
// digits before the point, 30 after), so every value a column can keep is
// read, and a wider one is kept exactly in the record's data.
const (
	maxNumberText = 100
	maxDigits     = 40
)

// numericText returns the text of a JSON number or of a string holding one;
// present is false for null and "" (absent). Any other kind is wrongKind.
func numericText(b []byte, wrongKind Problem) (text string, present bool, err error) {
	kind, text, err := scalar(b)
	switch {
	case err != nil:
		return "", false, err
	case kind == KindAbsent:
		return "", false, nil
	case kind == KindString:
		text = strings.TrimSpace(text)
		return text, text != "", nil
	case kind == KindNumber:
		return text, true, nil
	default:
		return "", false, wrongKind
	}
}

// isNumberText reports whether s is a decimal number written as text: an
// optional sign, digits with an optional fraction (".5" and "5." included),
// and an optional exponent.
func isNumberText(s string) bool {
	i, digits := 0, 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		}
		if i == start {
			return false
		}
	}
	return i == len(s)
}

// parseNumber parses the text of a number exactly, keeping its scale.
func parseNumber(s string) (decimal.Decimal, error) {
	if len(s) > maxNumberText {
		return decimal.Decimal{}, TooManyDigits
	}
	if !isNumberText(s) {
		return decimal.Decimal{}, NotNumber
	}
	d, err := decimal.NewFromString(strings.TrimPrefix(s, "+"))
	if err != nil { // well-formed text fails only on an exponent out of range
		return decimal.Decimal{}, TooManyDigits
	}
	if exp := int(d.Exponent()); exp < -maxDigits || d.NumDigits()+exp > maxDigits {
		return decimal.Decimal{}, TooManyDigits
	}
	return d, nil
}

// Format writes d as plain decimal text with no exponent and no trailing
// fractional zeros ("14.16", "10", "-0.5"), whatever the decimal package's
// global formatting options are.
func Format(d decimal.Decimal) string {
	if d.Exponent() >= 0 {
		return d.StringFixed(0)
	}
	s := strings.TrimRight(d.StringFixed(-d.Exponent()), "0")
	s = strings.TrimSuffix(s, ".")
	if s == "-0" {
		return "0"
	}
	return s
}

// Decimal is an exact number sent as a JSON number (14.16) or as a string
// holding one (" 14.16 ", "1e2"). Value keeps the digits and the scale as
// written ("14.1600" keeps four places) and is never rounded here. Null, ""
// and white space mean absent.
type Decimal struct {
	Value decimal.Decimal
	Valid bool // false when absent
}

// UnmarshalJSON reads a number, a numeric string, "" or null.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	v, ok, err := numericValue(b, NotNumber, parseNumber)
	*d = Decimal{Value: v, Valid: ok}
	return err
}

// MarshalJSON writes the number as a string in the form of Format ("14.16"), or null.
func (d Decimal) MarshalJSON() ([]byte, error) {
	if !d.Valid {
		return []byte("null"), nil
	}
	return []byte(`"` + Format(d.Value) + `"`), nil
}

// String returns the number in the form of Format, or "" when absent.
func (d Decimal) String() string {
	if !d.Valid {
		return ""
	}
	return Format(d.Value)
}

// NullDecimal converts d for a nullable DECIMAL column.
func (d Decimal) NullDecimal() decimal.NullDecimal {
	return decimal.NullDecimal{Decimal: d.Value, Valid: d.Valid}
}

// Int is an integer sent as a number (700, 7e2, 700.0) or as a string
// holding one ("700"). Null, "" and white space mean absent.
type Int struct {
	Value int64
	Valid bool // false when absent
}

// UnmarshalJSON reads an integral number, a string holding one, "" or null.
func (n *Int) UnmarshalJSON(b []byte) error {
	v, ok, err := numericValue(b, NotInteger, parseInteger)
	*n = Int{Value: v, Valid: ok}
	return err
}

// numericValue parses a JSON number, or a string holding one, with parse;
// ok is false, and v zero, when it is absent (null, "") or does not parse.
// Any other kind of value is wrongKind.
func numericValue[T any](b []byte, wrongKind Problem, parse func(string) (T, error)) (v T, ok bool, err error) {
	text, present, err := numericText(b, wrongKind)
	if err != nil || !present {
		return v, false, err
	}
	parsed, err := parse(text)
	if err != nil {
		return v, false, err
	}
	return parsed, true, nil
}

// parseInteger parses integer text, allowing an integral decimal form.
func parseInteger(s string) (int64, error) {
	if v, err := strconv.ParseInt(strings.TrimPrefix(s, "+"), 10, 64); err == nil {
		return v, nil
	}
	d, err := parseNumber(s)
	if err != nil || !d.IsInteger() || !d.BigInt().IsInt64() {
		return 0, NotInteger
	}
	return d.BigInt().Int64(), nil
}

// MarshalJSON writes the integer as a JSON number, or null.
func (n Int) MarshalJSON() ([]byte, error) {
	if !n.Valid {
		return []byte("null"), nil
	}
	return strconv.AppendInt(nil, n.Value, 10), nil
}

// Ptr returns a pointer to the value, or nil when absent.
func (n Int) Ptr() *int64 { return ptr(n.Value, n.Valid) }

// Bool is a boolean sent as true/false, as their text in any case, or as
// 1/0 (a number or text). Null, "" and white space mean absent.
type Bool struct {
	Value bool
	Valid bool // false when absent
}

// UnmarshalJSON reads the forms listed on Bool.
func (v *Bool) UnmarshalJSON(b []byte) error {
	*v = Bool{}
	kind, text, err := scalar(b)
	switch {
	case err != nil:
		return err
	case kind == KindAbsent:
		return nil
	case kind == KindObject || kind == KindArray:
		return NotBool
	}
	switch strings.ToLower(strings.TrimSpace(text)) {
	case "":
	case "true", "1":
		*v = Bool{Value: true, Valid: true}
	case "false", "0":
		*v = Bool{Value: false, Valid: true}
	default:
		return NotBool
	}
	return nil
}

// MarshalJSON writes true or false, or null.
func (v Bool) MarshalJSON() ([]byte, error) {
	if !v.Valid {
		return []byte("null"), nil
	}
	return strconv.AppendBool(nil, v.Value), nil
}

// Ptr returns a pointer to the value, or nil when absent.
func (v Bool) Ptr() *bool { return ptr(v.Value, v.Valid) }

// ptr is a pointer to a copy of v, or nil when v is not valid (absent).
func ptr[T any](v T, valid bool) *T {
	if !valid {
		return nil
	}
	return &v
}

// Text is a field documented as a string that may arrive as a string, as a
// number or boolean literal (a phone number sent as 18310480640), or as an
// object or array (a remark sent as {"remark":"加班","remarkDetail":"..."}).
type Text struct {
	// Value is the string, the literal's text, or the compact JSON of an
	// object or array.
	Value string
	// JSON holds the compact JSON of an object or array as received (key
	// order kept); nil for the other kinds.
	JSON  json.RawMessage
	Valid bool // false when absent (null)
}

// UnmarshalJSON reads any JSON value; null means absent.
func (t *Text) UnmarshalJSON(b []byte) error {
	*t = Text{}
	kind, text, err := scalar(b)
	switch {
	case err != nil:
		return err
	case kind == KindAbsent:
	case kind == KindObject || kind == KindArray:
		var buf bytes.Buffer
		if err := json.Compact(&buf, b); err != nil {
			return NotJSON
		}
		*t = Text{Value: buf.String(), JSON: json.RawMessage(buf.Bytes()), Valid: true}
	default:
		*t = Text{Value: text, Valid: true}
	}
	return nil
}

// Structured reports whether the value arrived as an object or array.
func (t Text) Structured() bool { return t.JSON != nil }

// MarshalJSON writes the string, the object or array as received, or null.
func (t Text) MarshalJSON() ([]byte, error) {
	switch {
	case !t.Valid:
		return []byte("null"), nil
	case t.JSON != nil:
		return t.JSON, nil
	default:
		return json.Marshal(t.Value)
	}
}

// String returns Value.
func (t Text) String() string { return t.Value }

// Forms is a set of ways a vendor writes times.
type Forms uint8

// Forms of times. A local form is read in the Dialect's zone.
const (
	// LocalTime is "2006-01-02 15:04:05" or "2006-01-02T15:04:05"; the
	// seconds may be left out and may carry a fraction.
	LocalTime Forms = 1 << iota
	// LocalDate is "2006-01-02", read as midnight.
	LocalDate
	// RFC3339 is "2006-01-02T15:04:05Z07:00" with its own offset and an
	// optional fraction of a second.
	RFC3339
	// EpochMillis is milliseconds since the Unix epoch as a number or a
	// string of digits.
	EpochMillis
)

var timeLayouts = [...]struct {
	layout string
	form   Forms
}{
	{"2006-01-02 15:04:05", LocalTime},
	{time.RFC3339Nano, RFC3339},
	{"2006-01-02T15:04:05", LocalTime},
	{"2006-01-02 15:04", LocalTime},
	{"2006-01-02T15:04", LocalTime},
	{"2006-01-02", LocalDate},
}

// Time is a time a vendor sent, held in the zone of the Dialect that read
// it, whatever offset it was sent with.
type Time struct {
	Time  time.Time
	Valid bool // false when absent
}

// ParseTime reads a time sent in one of forms. Null, "" and white space
// mean absent. A value that is not a string can only be epoch milliseconds,
// and with EpochMillis alone every value is read as epoch milliseconds.
func (d *Dialect) ParseTime(raw []byte, forms Forms) (Time, error) {
	kind, text, err := scalar(raw)
	if err != nil {
		return Time{}, err
	}
	text = strings.TrimSpace(text)
	if kind == KindAbsent || kind == KindString && text == "" {
		return Time{}, nil
	}
	var t time.Time
	switch {
	case forms&EpochMillis != 0 && (forms == EpochMillis || kind != KindString || isDigits(text)):
		ms, err := parseInteger(text)
		if err != nil {
			return Time{}, NotEpoch
		}
		t = time.UnixMilli(ms)
	case kind != KindString:
		return Time{}, NotTime
	default:
		if t, err = d.parseTimeText(text, forms); err != nil {
			return Time{}, err
		}
	}
	if first, last := d.years(); t.UTC().Year() < first || t.UTC().Year() > last {
		return Time{}, TimeRange
	}
	return Time{Time: t.In(d.zone()), Valid: true}, nil
}

func (d *Dialect) parseTimeText(text string, forms Forms) (time.Time, error) {
	for _, l := range timeLayouts {
		if forms&l.form == 0 {
			continue
		}
		if t, err := time.ParseInLocation(l.layout, text, d.zone()); err == nil {
			return t, nil
		}
	}
	return time.Time{}, NotTime
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// MarshalJSON writes RFC 3339 at the time's own offset
// ("2020-04-30T19:32:01+08:00"), or null.
func (t Time) MarshalJSON() ([]byte, error) {
	if !t.Valid {
		return []byte("null"), nil
	}
	return []byte(`"` + t.Time.Format(time.RFC3339Nano) + `"`), nil
}

// Date is a calendar date (see models.Date): "2012-01-01" in JSON, a DATE
// column on MySQL. Read one with Value.Date.
type Date = models.Date

// UTC returns a pointer to the time in UTC for a nullable column, or nil when absent.
func (t Time) UTC() *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

package fenbeitong

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Fenbeitong's documents and samples disagree on scalar types (a status that
// is a string, amounts that are strings, a boolean that is the text "false").
// The types below accept every form seen and refuse the rest with a problem
// that names no value, since values may be personal data.

// problem is a value-free description of why a JSON value cannot be read,
// phrased to follow a field name ("order_info.status is not an integer").
type problem string

func (p problem) Error() string { return string(p) }

// problemOf returns the value-free description carried by err.
func problemOf(err error) string {
	var p problem
	if errors.As(err, &p) {
		return string(p)
	}
	return "cannot be read"
}

// Problems the lenient types report.
const (
	errNotJSON    problem = "is not valid JSON"
	errNotNumber  problem = "is not a number"
	errNotInteger problem = "is not an integer"
	errNotBool    problem = "is not a boolean"
	errNotTime    problem = "is not a time (2006-01-02 15:04:05 or RFC 3339)"
	errTimeRange  problem = "is a time outside 1970 to 9999"
	errTooLong    problem = "has too many digits"
)

// jsonKind is the kind of one JSON value.
type jsonKind int

const (
	kindNull jsonKind = iota
	kindString
	kindNumber
	kindBool
	kindObject
	kindArray
)

// classify returns the kind of the JSON value b and, for scalars, its text:
// the decoded string, the number text, or "true"/"false".
func classify(b []byte) (jsonKind, string, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || !json.Valid(b) {
		return kindNull, "", errNotJSON
	}
	switch b[0] {
	case 'n':
		return kindNull, "", nil
	case 't', 'f':
		return kindBool, string(b), nil
	case '{':
		return kindObject, "", nil
	case '[':
		return kindArray, "", nil
	case '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return kindNull, "", errNotJSON
		}
		return kindString, s, nil
	default:
		return kindNumber, string(b), nil
	}
}

// isNumberText reports whether s is a decimal number written as text: an
// optional sign, digits with an optional fraction (".5" and "5." included),
// and an optional exponent.
func isNumberText(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
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
		exp := 0
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// maxNumberText bounds the length of a number's text, and maxDigits the
// digits either side of the point, so no input can make formatting costly.
const (
	maxNumberText = 64
	maxDigits     = 40
)

// parseNumber parses the text of a number (from a JSON number or a string)
// exactly, without float64.
func parseNumber(s string) (decimal.Decimal, error) {
	if len(s) > maxNumberText {
		return decimal.Decimal{}, errTooLong
	}
	if !isNumberText(s) {
		return decimal.Decimal{}, errNotNumber
	}
	d, err := decimal.NewFromString(strings.TrimPrefix(s, "+"))
	if err != nil { // well-formed text fails only on an exponent out of range
		return decimal.Decimal{}, errTooLong
	}
	if exp := int(d.Exponent()); exp < -maxDigits || d.NumDigits()+exp > maxDigits {
		return decimal.Decimal{}, errTooLong
	}
	return d, nil
}

// decimalText formats d as plain decimal text with no exponent and no
// trailing fractional zeros ("14.16", "10", "-0.5"), whatever the decimal
// package's global formatting options are.
func decimalText(d decimal.Decimal) string {
	if d.Exponent() >= 0 {
		return d.StringFixed(0)
	}
	s := d.StringFixed(-d.Exponent())
	s = strings.TrimRight(s, "0")
	s = strings.TrimSuffix(s, ".")
	if s == "-0" {
		return "0"
	}
	return s
}

// numericText returns the text of a JSON number or of a string holding one;
// present is false for null and "" (absent). Any other JSON kind is wrongKind.
func numericText(b []byte, wrongKind error) (text string, present bool, err error) {
	kind, text, err := classify(b)
	if err != nil {
		return "", false, err
	}
	switch kind {
	case kindNull:
		return "", false, nil
	case kindString:
		text = strings.TrimSpace(text)
		if text == "" {
			return "", false, nil
		}
	case kindNumber:
	default:
		return "", false, wrongKind
	}
	return text, true, nil
}

// Decimal is an exact amount that Fenbeitong may send as a JSON number
// (10, 14.16) or as a string ("10", "14.16"). An empty string or null means
// absent. The number text is parsed directly, never through float64.
type Decimal struct {
	Value decimal.Decimal
	Valid bool // false when absent
}

// UnmarshalJSON reads a number, a numeric string, "" or null.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	*d = Decimal{}
	text, present, err := numericText(b, errNotNumber)
	if err != nil || !present {
		return err
	}
	v, err := parseNumber(text)
	if err != nil {
		return err
	}
	*d = Decimal{Value: v, Valid: true}
	return nil
}

// MarshalJSON writes the amount as a decimal string ("14.16"), or null when absent.
func (d Decimal) MarshalJSON() ([]byte, error) {
	if !d.Valid {
		return []byte("null"), nil
	}
	return []byte(`"` + decimalText(d.Value) + `"`), nil
}

// String returns the decimal text, or "" when absent.
func (d Decimal) String() string {
	if !d.Valid {
		return ""
	}
	return decimalText(d.Value)
}

// NullDecimal converts d for a nullable DECIMAL column.
func (d Decimal) NullDecimal() decimal.NullDecimal {
	return decimal.NullDecimal{Decimal: d.Value, Valid: d.Valid}
}

// Int is an integer that Fenbeitong may send as a number (700) or a string
// ("700"). An empty string or null means absent.
type Int struct {
	Value int64
	Valid bool // false when absent
}

// UnmarshalJSON reads an integer number, an integer string, "" or null.
// An integral number written with a fraction or exponent ("700.0") is accepted.
func (n *Int) UnmarshalJSON(b []byte) error {
	*n = Int{}
	text, present, err := numericText(b, errNotInteger)
	if err != nil || !present {
		return err
	}
	v, err := parseInteger(text)
	if err != nil {
		return err
	}
	*n = Int{Value: v, Valid: true}
	return nil
}

// parseInteger parses integer text, allowing an integral decimal form.
func parseInteger(s string) (int64, error) {
	if v, err := strconv.ParseInt(strings.TrimPrefix(s, "+"), 10, 64); err == nil {
		return v, nil
	}
	d, err := parseNumber(s)
	if err != nil || !d.IsInteger() {
		return 0, errNotInteger
	}
	bi := d.BigInt()
	if !bi.IsInt64() {
		return 0, errNotInteger
	}
	return bi.Int64(), nil
}

// MarshalJSON writes the integer as a JSON number, or null when absent.
func (n Int) MarshalJSON() ([]byte, error) {
	if !n.Valid {
		return []byte("null"), nil
	}
	return strconv.AppendInt(nil, n.Value, 10), nil
}

// Ptr returns a pointer to the value, or nil when absent.
func (n Int) Ptr() *int64 {
	if !n.Valid {
		return nil
	}
	v := n.Value
	return &v
}

// Bool is a boolean that Fenbeitong may send as true/false, as the text
// "true"/"false" (any case), or as 1/0 ("1"/"0"). An empty string or null
// means absent.
type Bool struct {
	Value bool
	Valid bool // false when absent
}

// UnmarshalJSON reads the forms listed on Bool.
func (v *Bool) UnmarshalJSON(b []byte) error {
	*v = Bool{}
	kind, text, err := classify(b)
	if err != nil {
		return err
	}
	switch kind {
	case kindNull:
		return nil
	case kindBool, kindString, kindNumber:
	default:
		return errNotBool
	}
	switch strings.ToLower(strings.TrimSpace(text)) {
	case "":
		return nil
	case "true", "1":
		*v = Bool{Value: true, Valid: true}
	case "false", "0":
		*v = Bool{Value: false, Valid: true}
	default:
		return errNotBool
	}
	return nil
}

// MarshalJSON writes true or false, or null when absent.
func (v Bool) MarshalJSON() ([]byte, error) {
	if !v.Valid {
		return []byte("null"), nil
	}
	return strconv.AppendBool(nil, v.Value), nil
}

// Ptr returns a pointer to the value, or nil when absent.
func (v Bool) Ptr() *bool {
	if !v.Valid {
		return nil
	}
	b := v.Value
	return &b
}

// Text is a field documented as a string that may arrive as a string, a
// number or boolean literal (a phone number sent as 18310480640), or an
// object or array (saas_info.remark sent as {"remark":"加班","remarkDetail":"..."}).
type Text struct {
	// Value is the string, the literal's text, or the compact JSON of an
	// object or array.
	Value string
	// JSON holds the compact JSON of an object or array as received (key
	// order kept); nil for scalars.
	JSON  json.RawMessage
	Valid bool // false when absent (null)
}

// UnmarshalJSON reads any JSON value; null means absent.
func (t *Text) UnmarshalJSON(b []byte) error {
	*t = Text{}
	kind, text, err := classify(b)
	if err != nil {
		return err
	}
	switch kind {
	case kindNull:
		return nil
	case kindObject, kindArray:
		var buf bytes.Buffer
		if err := json.Compact(&buf, b); err != nil {
			return errNotJSON
		}
		*t = Text{Value: buf.String(), JSON: json.RawMessage(buf.Bytes()), Valid: true}
	default:
		*t = Text{Value: text, Valid: true}
	}
	return nil
}

// Structured reports whether the value arrived as an object or array.
func (t Text) Structured() bool { return t.JSON != nil }

// MarshalJSON writes the string, or the object or array as received, or null when absent.
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

// ChinaLayout is the layout of Fenbeitong's times, read in China Standard Time.
const ChinaLayout = "2006-01-02 15:04:05"

// ChinaZone returns China Standard Time (UTC+8, no daylight saving), the zone
// of Fenbeitong's times that carry no offset.
func ChinaZone() *time.Location { return time.FixedZone("CST", 8*3600) }

// ChinaTime is a Fenbeitong time: "2006-01-02 15:04:05" in China Standard
// Time (a fraction of a second is allowed), or RFC 3339 with its own offset.
// An empty string or null means absent. Times before 1970 are refused.
type ChinaTime struct {
	Time  time.Time
	Valid bool // false when absent
}

// UnmarshalJSON reads the forms listed on ChinaTime.
func (c *ChinaTime) UnmarshalJSON(b []byte) error {
	*c = ChinaTime{}
	kind, text, err := classify(b)
	if err != nil {
		return err
	}
	switch kind {
	case kindNull:
		return nil
	case kindString:
	default:
		return errNotTime
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return nil
	}
	t, err := parseChinaTime(text)
	if err != nil {
		return err
	}
	*c = ChinaTime{Time: t, Valid: true}
	return nil
}

// parseChinaTime parses the forms listed on ChinaTime.
func parseChinaTime(s string) (time.Time, error) {
	var t time.Time
	var err error
	switch {
	case len(s) > 10 && s[10] == ' ':
		t, err = time.ParseInLocation(ChinaLayout, s, ChinaZone())
	case strings.HasSuffix(s, "Z") || strings.LastIndexAny(s, "+-") > 10:
		t, err = time.Parse(time.RFC3339Nano, s)
	default:
		t, err = time.ParseInLocation("2006-01-02T15:04:05", s, ChinaZone())
	}
	if err != nil {
		return time.Time{}, errNotTime
	}
	if y := t.UTC().Year(); y < 1970 || y > 9999 {
		return time.Time{}, errTimeRange
	}
	return t, nil
}

// MarshalJSON writes RFC 3339 in China Standard Time ("2020-04-30T19:32:01+08:00"),
// or null when absent.
func (c ChinaTime) MarshalJSON() ([]byte, error) {
	if !c.Valid {
		return []byte("null"), nil
	}
	return []byte(`"` + c.Time.In(ChinaZone()).Format(time.RFC3339Nano) + `"`), nil
}

// UTC returns a pointer to the time in UTC for a nullable column, or nil when absent.
func (c ChinaTime) UTC() *time.Time {
	if !c.Valid {
		return nil
	}
	t := c.Time.UTC()
	return &t
}

package tryton

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Decimal is an exact decimal number as Tryton's JSON-RPC carries it:
// {"__class__": "Decimal", "decimal": "12.34"}. Its text is kept digit for
// digit; it never passes through float64.
type Decimal struct{ text string }

// plainDecimal is decimal text without exponent: what Tryton's Decimal()
// reads and what a mapping's decimal values render as.
var plainDecimal = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// ParseDecimal reads decimal text ("12.34", "-5", "1e3"); text with an
// exponent or a leading "+" is rewritten in plain digits. It refuses
// anything that is not a finite number.
func ParseDecimal(s string) (Decimal, error) {
	if plainDecimal.MatchString(s) {
		return Decimal{text: s}, nil
	}
	d, err := decimal.NewFromString(s)
	if err != nil || strings.ContainsAny(s, "nNiI") {
		return Decimal{}, errors.New("not a decimal number")
	}
	return Decimal{text: d.String()}, nil
}

// String is the decimal's text.
func (d Decimal) String() string { return d.text }

// Decimal is the value as a shopspring decimal, for arithmetic and
// comparisons.
func (d Decimal) Decimal() decimal.Decimal {
	v, _ := decimal.NewFromString(d.text)
	return v
}

// MarshalJSON writes Tryton's Decimal object.
func (d Decimal) MarshalJSON() ([]byte, error) {
	if d.text == "" {
		return nil, errors.New("tryton: empty Decimal")
	}
	return json.Marshal(map[string]string{"__class__": "Decimal", "decimal": d.text})
}

// Date is a calendar date, {"__class__": "date", "year", "month", "day"}.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// MarshalJSON writes Tryton's date object.
func (d Date) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf(`{"__class__":"date","year":%d,"month":%d,"day":%d}`, d.Year, int(d.Month), d.Day)), nil
}

// String is the date as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// DateTime is an instant; Tryton keeps datetimes naive in UTC, so it is sent
// and read as UTC: {"__class__": "datetime", "year", ..., "microsecond"}.
type DateTime struct{ time.Time }

// MarshalJSON writes Tryton's datetime object, in UTC.
func (t DateTime) MarshalJSON() ([]byte, error) {
	u := t.UTC()
	return []byte(fmt.Sprintf(`{"__class__":"datetime","year":%d,"month":%d,"day":%d,"hour":%d,"minute":%d,"second":%d,"microsecond":%d}`,
		u.Year(), int(u.Month()), u.Day(), u.Hour(), u.Minute(), u.Second(), u.Nanosecond()/1000)), nil
}

// Decode reads a value of a Tryton answer: objects marked "__class__"
// become Decimal, Date, DateTime (UTC) or time.Duration (timedelta); bytes
// become []byte; other numbers stay json.Number (never float64); objects and
// arrays are decoded recursively.
func Decode(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode Tryton value: %w", err)
	}
	return decodeTree(v)
}

// decodeTree decodes the "__class__" objects in v at any depth, replacing
// the elements of its objects and arrays in place.
func decodeTree(v any) (any, error) {
	var err error
	switch x := v.(type) {
	case map[string]any:
		if class, ok := x["__class__"].(string); ok {
			return decodeObject(class, x)
		}
		for k, e := range x {
			if x[k], err = decodeTree(e); err != nil {
				return nil, err
			}
		}
	case []any:
		for i, e := range x {
			if x[i], err = decodeTree(e); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

func decodeObject(class string, o map[string]any) (any, error) {
	ints := func(names ...string) ([]int, error) {
		out := make([]int, len(names))
		for i, n := range names {
			num, ok := o[n].(json.Number)
			if !ok {
				return nil, fmt.Errorf("decode Tryton %s: %s is not a number", class, n)
			}
			v, err := strconv.Atoi(num.String())
			if err != nil {
				return nil, fmt.Errorf("decode Tryton %s: %s is not an integer", class, n)
			}
			out[i] = v
		}
		return out, nil
	}
	switch class {
	case "Decimal":
		s, ok := o["decimal"].(string)
		if !ok {
			return nil, errors.New("decode Tryton Decimal: no decimal text")
		}
		d, err := ParseDecimal(s)
		if err != nil {
			return nil, fmt.Errorf("decode Tryton Decimal: %w", err)
		}
		return d, nil
	case "date":
		v, err := ints("year", "month", "day")
		if err != nil {
			return nil, err
		}
		return Date{Year: v[0], Month: time.Month(v[1]), Day: v[2]}, nil
	case "datetime":
		v, err := ints("year", "month", "day", "hour", "minute", "second", "microsecond")
		if err != nil {
			return nil, err
		}
		return DateTime{time.Date(v[0], time.Month(v[1]), v[2], v[3], v[4], v[5], v[6]*1000, time.UTC)}, nil
	case "timedelta":
		num, ok := o["seconds"].(json.Number)
		if !ok {
			return nil, errors.New("decode Tryton timedelta: seconds is not a number")
		}
		d, err := decimal.NewFromString(num.String())
		if err != nil {
			return nil, fmt.Errorf("decode Tryton timedelta: %w", err)
		}
		return time.Duration(d.Mul(decimal.NewFromInt(int64(time.Second))).IntPart()), nil
	case "bytes":
		s, ok := o["base64"].(string)
		if !ok {
			return nil, errors.New("decode Tryton bytes: no base64 text")
		}
		// Python's encodebytes breaks lines every 76 characters.
		b, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\n", "", "\r", "").Replace(s))
		if err != nil {
			return nil, fmt.Errorf("decode Tryton bytes: %w", err)
		}
		return b, nil
	default:
		return o, nil
	}
}

// encodeField turns a mapping's value for one field into what Tryton reads
// for that field's type: decimal text or numbers into Decimal for numeric
// fields, "YYYY-MM-DD" (or RFC 3339, its own date) into Date, RFC 3339 into
// DateTime; values already in Tryton's form (an object with "__class__",
// json.RawMessage) and every other type pass unchanged. Errors name the
// type, never the value (it may be personal data).
func encodeField(f field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if m, ok := v.(map[string]any); ok {
		if _, tagged := m["__class__"]; tagged {
			return v, nil
		}
	}
	if _, ok := v.(json.RawMessage); ok {
		return v, nil
	}
	switch f.Type {
	case "numeric":
		var text string
		switch x := v.(type) {
		case json.Number:
			text = x.String()
		case string:
			text = strings.TrimSpace(x)
		case Decimal:
			return x, nil
		default:
			return nil, fmt.Errorf("a numeric field needs a decimal number, got %s", jsonType(v))
		}
		d, err := ParseDecimal(text)
		if err != nil {
			return nil, fmt.Errorf("a numeric field needs a decimal number: %w", err)
		}
		return d, nil
	case "float", "integer", "biginteger":
		switch x := v.(type) {
		case json.Number:
			return x, nil
		case string:
			if _, err := ParseDecimal(strings.TrimSpace(x)); err != nil {
				return nil, fmt.Errorf("a %s field needs a number: %w", f.Type, err)
			}
			return json.Number(strings.TrimSpace(x)), nil
		default:
			return nil, fmt.Errorf("a %s field needs a number, got %s", f.Type, jsonType(v))
		}
	case "date":
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("a date field needs \"YYYY-MM-DD\" text, got %s", jsonType(v))
		}
		if t, err := time.Parse(time.DateOnly, s); err == nil {
			return Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}, nil
		}
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}, nil
		}
		return nil, errors.New("a date field needs \"YYYY-MM-DD\" or RFC 3339 text")
	case "datetime", "timestamp":
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("a %s field needs RFC 3339 text, got %s", f.Type, jsonType(v))
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, fmt.Errorf("a %s field needs RFC 3339 text with an offset", f.Type)
		}
		return DateTime{t}, nil
	case "many2one", "one2one":
		n, ok := v.(json.Number)
		if !ok {
			return nil, fmt.Errorf("a %s field needs an id (or a ref), got %s", f.Type, jsonType(v))
		}
		if _, err := strconv.ParseInt(n.String(), 10, 64); err != nil {
			return nil, fmt.Errorf("a %s field needs an integer id", f.Type)
		}
		return n, nil
	}
	return v, nil
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "text"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("%T", v)
	}
}

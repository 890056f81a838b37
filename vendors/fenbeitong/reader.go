package fenbeitong

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/erpbridge/erpbridge/vendors"
	"github.com/shopspring/decimal"
)

// object is one decoded JSON object of a normalised push, its values still raw.
type object map[string]json.RawMessage

// Column limits the normalised rows must respect, checked before Save so a
// value that cannot be stored is a content error rather than a failed write.
const (
	idLen    = 128   // ids and codes: VARCHAR(128)
	nameLen  = 255   // names: VARCHAR(255)
	phoneLen = 64    // phone numbers: VARCHAR(64)
	textLen  = 16000 // free text: TEXT holds 65,535 bytes, 4 per character at most
	// Money is DECIMAL(18,4): 14 integer digits and 4 fractional.
	moneyScale     = 4
	moneyIntDigits = 14
	// Weights (percentages) are stored rounded to DECIMAL(18,6).
	weightIntDigits = 12
)

// reader reads fields of a normalised push, remembering the first problem as
// a content error that names the field by its path ("order_info.status",
// "order_info.price_detail_info[1].amount").
type reader struct {
	err *vendors.ContentError
}

func (r *reader) fail(field, format string, args ...any) {
	if r.err == nil {
		r.err = vendors.Invalid(field, format, args...)
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// decode reads obj[key] into v (a lenient type), reporting a problem under
// path.key. It reports whether the key was present.
func (r *reader) decode(obj object, path, key string, v json.Unmarshaler) bool {
	raw, ok := obj[key]
	if !ok {
		return false
	}
	if err := v.UnmarshalJSON(raw); err != nil {
		r.fail(join(path, key), "%s", problemOf(err))
	}
	return true
}

// object reads obj[key] as an object; absent or null gives nil.
func (r *reader) object(obj object, path, key string) object {
	raw, ok := obj[key]
	if !ok {
		return nil
	}
	kind, _, _ := classify(raw)
	switch kind {
	case kindNull:
		return nil
	case kindObject:
		var out object
		if err := json.Unmarshal(raw, &out); err == nil {
			return out
		}
	}
	r.fail(join(path, key), "is not an object")
	return nil
}

// list reads obj[key] as an array of objects. A single object counts as a
// one-item list (the sample's cost_info is an object where the table says
// array); absent or null gives nil; null items are skipped.
func (r *reader) list(obj object, path, key string) []object {
	raw, ok := obj[key]
	if !ok {
		return nil
	}
	kind, _, _ := classify(raw)
	switch kind {
	case kindNull:
		return nil
	case kindObject:
		if o := r.object(obj, path, key); o != nil {
			return []object{o}
		}
		return nil
	case kindArray:
	default:
		r.fail(join(path, key), "is not an array")
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		r.fail(join(path, key), "is not an array")
		return nil
	}
	out := make([]object, 0, len(items))
	for i, item := range items {
		at := join(path, key) + "[" + strconv.Itoa(i) + "]"
		kind, _, _ := classify(item)
		switch kind {
		case kindNull:
			continue
		case kindObject:
			var o object
			if err := json.Unmarshal(item, &o); err == nil {
				out = append(out, o)
				continue
			}
		}
		r.fail(at, "is not an object")
		return nil
	}
	return out
}

// text reads a string field of at most limit characters. A number or
// boolean gives its literal text and an object or array its compact JSON.
func (r *reader) text(obj object, path, key string, limit int) string {
	return r.richText(obj, path, key, limit).Value
}

// richText reads a field that may be a string or an object, of at most
// limit characters as text.
func (r *reader) richText(obj object, path, key string, limit int) Text {
	var t Text
	if !r.decode(obj, path, key, &t) {
		return Text{}
	}
	if utf8.RuneCountInString(t.Value) > limit {
		r.fail(join(path, key), "is longer than %d characters", limit)
		return Text{}
	}
	return t
}

// integer reads an integer field.
func (r *reader) integer(obj object, path, key string) Int {
	var n Int
	r.decode(obj, path, key, &n)
	return n
}

// boolean reads a boolean field.
func (r *reader) boolean(obj object, path, key string) Bool {
	var b Bool
	r.decode(obj, path, key, &b)
	return b
}

// time reads a time field.
func (r *reader) time(obj object, path, key string) ChinaTime {
	var t ChinaTime
	r.decode(obj, path, key, &t)
	return t
}

// money reads an amount for a DECIMAL(18,4) column. Negative amounts are
// refused unless allowNegative.
func (r *reader) money(obj object, path, key string, allowNegative bool) Decimal {
	var d Decimal
	r.decode(obj, path, key, &d)
	if !d.Valid {
		return d
	}
	field := join(path, key)
	switch {
	case d.Value.IsNegative() && !allowNegative:
		r.fail(field, "is negative")
	case !d.Value.Equal(d.Value.Truncate(moneyScale)):
		r.fail(field, "has more than %d decimal places", moneyScale)
	case d.Value.Abs().GreaterThanOrEqual(decimal.New(1, moneyIntDigits)):
		r.fail(field, "is too large")
	default:
		return d
	}
	return Decimal{}
}

// weight reads a non-negative percentage; it is stored rounded to 6 places.
func (r *reader) weight(obj object, path, key string) Decimal {
	var d Decimal
	r.decode(obj, path, key, &d)
	if !d.Valid {
		return d
	}
	field := join(path, key)
	switch {
	case d.Value.IsNegative():
		r.fail(field, "is negative")
	case d.Value.GreaterThanOrEqual(decimal.New(1, weightIntDigits)):
		r.fail(field, "is too large")
	default:
		return d
	}
	return Decimal{}
}

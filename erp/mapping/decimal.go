package mapping

import (
	"encoding/json"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"github.com/itchyny/gojq"
	"github.com/shopspring/decimal"
)

// decimalMarker starts the text of a decimal value inside a program: a
// character of Unicode's Supplementary Private Use Area-A that no vendor
// text is expected to hold. Render refuses a record whose data holds it
// anywhere, so a decimal value can never be vendor text, and turns every
// output text that starts with it back into a bare JSON number.
const decimalMarker = "\U000FDEC0"

// MaxDecimalDigits bounds a decimal value: its plain text holds at most this
// many digits before and after the point together. A program whose numbers
// outgrow it (a multiplication in a loop) fails instead of eating memory.
const MaxDecimalDigits = 1000

// numberGrammar is a number in JSON's grammar, with an exponent of at most
// six digits, so that the text is checked before a huge exponent is parsed.
var numberGrammar = regexp.MustCompile(`^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]{1,6})?$`)

// validNumber reports whether s is a number in JSON's grammar (numberGrammar).
func validNumber(s string) bool { return numberGrammar.MatchString(s) }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// parseNumberText parses a number in JSON's grammar into an exact decimal,
// keeping its scale ("14.10" has two places). ok is false for anything else
// and for a number beyond MaxDecimalDigits.
func parseNumberText(s string) (decimal.Decimal, bool) {
	if !validNumber(s) {
		return decimal.Decimal{}, false
	}
	d, err := decimal.NewFromString(s)
	if err != nil || !withinBounds(d) {
		return decimal.Decimal{}, false
	}
	return d, true
}

// withinBounds reports whether d's plain text has at most MaxDecimalDigits
// digits.
func withinBounds(d decimal.Decimal) bool {
	exp := int64(d.Exponent())
	digits := int64(d.NumDigits())
	if exp >= 0 {
		return digits+exp <= MaxDecimalDigits
	}
	return max(digits, -exp) <= MaxDecimalDigits
}

// plainText is d as plain decimal text with exactly its scale: "14.10",
// "-5", "0.000000000000000001"; a positive exponent is written out ("1e3"
// is "1000"). Zero has no sign.
func plainText(d decimal.Decimal) string {
	if exp := d.Exponent(); exp < 0 {
		return d.StringFixed(-exp)
	}
	return d.String()
}

// decimalValue is d as a program sees it: the marker and d's plain text.
func decimalValue(d decimal.Decimal) string {
	return decimalMarker + plainText(d)
}

// decimalFromValue reads a decimal value (marker and text); ok is false when
// s is not one.
func decimalFromValue(s string) (decimal.Decimal, bool) {
	text, found := strings.CutPrefix(s, decimalMarker)
	if !found {
		return decimal.Decimal{}, false
	}
	return parseNumberText(text)
}

// maxExactFloat is the largest magnitude below which every integral float64
// is also an exact int64 in the plain sense a mapping author expects.
const maxExactFloat = 1 << 53

// toDecimal reads a program value as an exact decimal for function fn:
// integers, decimal values and decimal text; a float only when it is an
// integer (a fraction in a float is binary, not exact). null is reported
// through isNull.
func toDecimal(fn string, v any) (d decimal.Decimal, isNull bool, err error) {
	switch v := v.(type) {
	case nil:
		return decimal.Decimal{}, true, nil
	case int:
		return decimal.NewFromInt(int64(v)), false, nil
	case *big.Int:
		d := decimal.NewFromBigInt(v, 0)
		if !withinBounds(d) {
			return decimal.Decimal{}, false, &funcError{reason: fn + ": an integer of more than " + strconv.Itoa(MaxDecimalDigits) + " digits is too large"}
		}
		return d, false, nil
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < maxExactFloat {
			return decimal.NewFromInt(int64(v)), false, nil
		}
		return decimal.Decimal{}, false, &funcError{
			reason: fn + `: a binary floating-point number with a fraction is not exact; write the number as text, e.g. "0.06", or use decimal on the record's text`,
			detail: gojq.Preview(v),
		}
	case json.Number:
		if d, ok := parseNumberText(v.String()); ok {
			return d, false, nil
		}
		return decimal.Decimal{}, false, &funcError{reason: fn + ": number out of range", detail: v.String()}
	case string:
		if strings.HasPrefix(v, decimalMarker) {
			if d, ok := decimalFromValue(v); ok {
				return d, false, nil
			}
			return decimal.Decimal{}, false, &funcError{reason: fn + ": a damaged decimal value (a decimal value was changed as text: use dec_text to get its text)"}
		}
		if d, ok := parseNumberText(v); ok {
			return d, false, nil
		}
		return decimal.Decimal{}, false, &funcError{reason: fn + ": text is not a number", detail: quote(v)}
	default:
		return decimal.Decimal{}, false, &funcError{reason: fn + ": expected a number, decimal text or a decimal value, got " + typeName(v)}
	}
}

// typeName is jq's name of v's type ("object", "array", "boolean", ...).
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case int, float64, *big.Int, json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	default:
		return "an unknown type"
	}
}

// quote is s as a JSON string, cut to 64 characters.
func quote(s string) string {
	b, err := json.Marshal(truncateText(s, 64))
	if err != nil {
		return "(text)"
	}
	return string(b)
}

// checked returns d as a decimal value, or an error when it outgrew
// MaxDecimalDigits.
func checked(fn string, d decimal.Decimal) any {
	if !withinBounds(d) {
		return &funcError{reason: fn + ": result has more than " + strconv.Itoa(MaxDecimalDigits) + " digits"}
	}
	return decimalValue(d)
}

package mapping

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// inputError is a record's data that a program cannot be given: reason
// holds no record content, detail says where.
type inputError struct {
	reason string
	detail string
}

func (e *inputError) Error() string { return e.reason }

// decodeData is the record's data as a program sees it: integers as int (or
// *big.Int beyond int), numbers with a fraction or an exponent as exact
// decimal values, everything else as JSON decodes it. It refuses text that
// holds the decimal marker, so no vendor text can pass for a decimal value.
func decodeData(raw json.RawMessage) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not a JSON object")
	}
	out, err := convertInput(m, nil)
	if err != nil {
		return nil, err
	}
	return out.(map[string]any), nil
}

// convertInput converts one decoded JSON value; path is where it is, for
// errors.
func convertInput(v any, path []any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			p := append(path, k)
			if strings.Contains(k, decimalMarker) {
				return nil, &inputError{reason: "a key holds U+FDEC0, the mapping's decimal marker", detail: "at " + pathText(p)}
			}
			y, err := convertInput(x, p)
			if err != nil {
				return nil, err
			}
			v[k] = y
		}
		return v, nil
	case []any:
		for i, x := range v {
			y, err := convertInput(x, append(path, i))
			if err != nil {
				return nil, err
			}
			v[i] = y
		}
		return v, nil
	case json.Number:
		s := v.String()
		if strings.ContainsAny(s, ".eE") {
			d, ok := parseNumberText(s)
			if !ok {
				return nil, &inputError{reason: "a number has more than " + strconv.Itoa(MaxDecimalDigits) + " digits", detail: "at " + pathText(path)}
			}
			return decimalValue(d), nil
		}
		if i, err := strconv.ParseInt(s, 10, 64); err == nil && int64(int(i)) == i {
			return int(i), nil
		}
		if len(strings.TrimPrefix(s, "-")) > MaxDecimalDigits {
			return nil, &inputError{reason: "an integer has more than " + strconv.Itoa(MaxDecimalDigits) + " digits", detail: "at " + pathText(path)}
		}
		b, ok := new(big.Int).SetString(s, 10)
		if !ok {
			return nil, &inputError{reason: "a number is not an integer", detail: "at " + pathText(path)}
		}
		return b, nil
	case string:
		if strings.Contains(v, decimalMarker) {
			return nil, &inputError{reason: "text holds U+FDEC0, the mapping's decimal marker", detail: "at " + pathText(path)}
		}
		return v, nil
	default:
		return v, nil
	}
}

// outputError is a program's output that cannot be sent: reason holds no
// record content, detail says where and what.
type outputError struct {
	reason string
	detail string
}

func (e *outputError) Error() string { return e.reason }

// encodeOutput writes a program's output as compact JSON: keys sorted, no
// HTML escaping, decimal values as bare numbers with exactly their digits,
// integers exactly. It refuses a float with a fraction (binary, not exact),
// text that holds a decimal value, and output beyond MaxOutputBytes.
func encodeOutput(v any) (json.RawMessage, error) {
	e := &encoder{}
	if err := e.value(v, nil); err != nil {
		return nil, err
	}
	return json.RawMessage(e.buf.Bytes()), nil
}

type encoder struct {
	buf bytes.Buffer
}

func (e *encoder) value(v any, path []any) error {
	switch v := v.(type) {
	case nil:
		e.buf.WriteString("null")
	case bool:
		e.buf.WriteString(strconv.FormatBool(v))
	case int:
		e.buf.WriteString(strconv.Itoa(v))
	case *big.Int:
		e.buf.WriteString(v.String())
	case float64:
		if v != math.Trunc(v) || math.Abs(v) >= maxExactFloat {
			return &outputError{
				reason: "a binary floating-point number that is not an integer is not exact (from a number literal with a fraction, /, tonumber or a math function); use decimal and the dec_ functions",
				detail: "at " + pathText(path) + ": " + strconv.FormatFloat(v, 'g', -1, 64),
			}
		}
		e.buf.WriteString(strconv.FormatInt(int64(v), 10))
	case json.Number:
		if !validNumber(v.String()) {
			return &outputError{reason: "a malformed number", detail: "at " + pathText(path)}
		}
		e.buf.WriteString(v.String())
	case string:
		if strings.HasPrefix(v, decimalMarker) {
			d, ok := decimalFromValue(v)
			if !ok {
				return &outputError{reason: "a damaged decimal value (a decimal value was changed as text: + on decimal values joins text, use dec_add)", detail: "at " + pathText(path)}
			}
			e.buf.WriteString(plainText(d))
			break
		}
		if strings.Contains(v, decimalMarker) {
			return &outputError{reason: "text holds a decimal value (string interpolation, tostring or tojson of a decimal value); use dec_text to make text of it", detail: "at " + pathText(path)}
		}
		writeString(&e.buf, v)
	case []any:
		e.buf.WriteByte('[')
		for i, x := range v {
			if i > 0 {
				e.buf.WriteByte(',')
			}
			if err := e.value(x, append(path, i)); err != nil {
				return err
			}
		}
		e.buf.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		e.buf.WriteByte('{')
		for i, k := range keys {
			if strings.Contains(k, decimalMarker) {
				return &outputError{reason: "an object key holds a decimal value; use dec_text to make text of it", detail: "at " + pathText(path)}
			}
			if i > 0 {
				e.buf.WriteByte(',')
			}
			writeString(&e.buf, k)
			e.buf.WriteByte(':')
			if err := e.value(v[k], append(path, k)); err != nil {
				return err
			}
		}
		e.buf.WriteByte('}')
	default:
		return &outputError{reason: fmt.Sprintf("a value of Go type %T is not JSON", v), detail: "at " + pathText(path)}
	}
	if e.buf.Len() > MaxOutputBytes {
		return &outputError{reason: "larger than " + strconv.Itoa(MaxOutputBytes) + " bytes"}
	}
	return nil
}

// writeString writes s as a JSON string: quotes, backslashes and control
// characters escaped, U+2028 and U+2029 escaped, invalid UTF-8 replaced by
// U+FFFD, and nothing else (no HTML escaping).
func writeString(buf *bytes.Buffer, s string) {
	const hexDigits = "0123456789abcdef"
	buf.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				buf.WriteByte('\\')
				buf.WriteByte(c)
			case c == '\n':
				buf.WriteString(`\n`)
			case c == '\r':
				buf.WriteString(`\r`)
			case c == '\t':
				buf.WriteString(`\t`)
			case c < 0x20:
				buf.WriteString(`\u00`)
				buf.WriteByte(hexDigits[c>>4])
				buf.WriteByte(hexDigits[c&0xf])
			default:
				buf.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			buf.WriteString(`\ufffd`)
		case r == '\u2028':
			buf.WriteString(`\u2028`)
		case r == '\u2029':
			buf.WriteString(`\u2029`)
		default:
			buf.WriteString(s[i : i+size])
		}
		i += size
	}
	buf.WriteByte('"')
}

// pathText is a path in jq's syntax: .price_info.total_price, .lines[2].
func pathText(path []any) string {
	if len(path) == 0 {
		return "."
	}
	var b strings.Builder
	for _, p := range path {
		switch p := p.(type) {
		case int:
			b.WriteString("[" + strconv.Itoa(p) + "]")
		case string:
			if p != "" && strings.IndexFunc(p, func(r rune) bool {
				return !(r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
			}) < 0 && !isDigit(p[0]) {
				b.WriteString("." + p)
			} else {
				b.WriteString("[" + strconv.Quote(p) + "]")
			}
		}
	}
	return b.String()
}

// bigInt is v as a *big.Int.
func bigInt(v int64) *big.Int { return big.NewInt(v) }

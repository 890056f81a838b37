package autox3

import (
	"bytes"
	"encoding/json"
	"iter"
	"unicode/utf16"
	"unicode/utf8"
)

// Signature variants. AutoX3 documents what it signs but not how staffInfo
// and content become text, so a signature is checked against this small,
// fixed set of canonical texts of the two received fields, in this order,
// and the first that verifies names the callback's variant. Every variant
// still needs the app secret. A string content counts as its decoded value
// in every variant.
const (
	// VariantReceived is the exact text of the fields as received.
	VariantReceived = "received"
	// VariantCompact is that text with the white space outside strings
	// removed (key order, numbers and string literals kept byte for byte):
	// a body pretty-printed, or re-spaced by a proxy, after it was signed.
	VariantCompact = "compact"
	// VariantCompactUTF8 is the compact text with every string literal
	// (keys too) decoded and written again with only the escapes JSON
	// requires: \" \\ \b \f \n \r \t, and \u00XX (upper-case hex) for the
	// other characters below U+0020. Everything else is raw UTF-8,
	// including / (a received \/ becomes /), <, >, &, U+2028 and U+2029.
	// It is what Jackson and fastjson write by default, and Gson or Go's
	// encoding/json with HTML escaping off, for text without U+2028/U+2029.
	VariantCompactUTF8 = "compact_utf8"
	// VariantCompactASCII is VariantCompactUTF8 with every non-ASCII
	// character written \uXXXX in upper-case hex (a UTF-16 surrogate pair
	// beyond U+FFFF), as Jackson's ESCAPE_NON_ASCII writes it.
	VariantCompactASCII = "compact_ascii"

	// staffEmptySuffix marks a variant in which an absent or null staffInfo
	// was signed as the empty string rather than the text null.
	staffEmptySuffix = "_staff_empty"
)

// form is how the signed fields are turned into text.
type form int

const (
	formReceived form = iota
	formCompact
	formUTF8
	formASCII
	numForms
)

var formNames = [numForms]string{VariantReceived, VariantCompact, VariantCompactUTF8, VariantCompactASCII}

// Variants lists every variant name Verify can report, in the order tried.
// With staffInfo absent or null each form is tried twice: first with the
// text null (what Java's string concatenation gives for a null field), then
// with the empty string, named with the suffix _staff_empty.
func Variants() []string {
	out := make([]string, 0, 2*numForms)
	for _, n := range formNames {
		out = append(out, n, n+staffEmptySuffix)
	}
	return out
}

// candidate is one canonical text of the signed fields.
type candidate struct {
	variant        string
	staff, content string
}

// candidates yields the distinct canonical texts of the envelope's signed
// fields in variant order. Each form is computed only when it is reached,
// so a callback that verifies as received costs nothing more, and a text
// equal to one already yielded (a body that was compact already) is skipped.
func (e *Envelope) candidates() iter.Seq[candidate] {
	return func(yield func(candidate) bool) {
		var seen []candidate
		var staffCompact, contentCompact string
		for f := range numForms {
			staff := inForm(f, e.staffInfoText, !e.staffNull, &staffCompact)
			content := inForm(f, e.contentText, !e.contentIsString, &contentCompact)
			options := []candidate{{formNames[f], staff, content}}
			if e.staffNull {
				options = append(options, candidate{formNames[f] + staffEmptySuffix, "", content})
			}
			for _, c := range options {
				if tried(seen, c) {
					continue
				}
				seen = append(seen, c)
				if !yield(c) {
					return
				}
			}
		}
	}
}

// inForm returns a signed field's text in form f. Only JSON text changes
// with the form: a string content's decoded value and the null of an
// absent staffInfo are the same in every form. *compact caches the compact
// text, from which the escaped forms are made.
func inForm(f form, text string, isJSON bool, compact *string) string {
	if !isJSON || f == formReceived {
		return text
	}
	if *compact == "" {
		*compact = compactText(text)
	}
	if f == formCompact {
		return *compact
	}
	return reescape(*compact, f == formASCII)
}

func tried(seen []candidate, c candidate) bool {
	for _, s := range seen {
		if s.staff == c.staff && s.content == c.content {
			return true
		}
	}
	return false
}

// compactText is raw JSON without the white space outside its strings.
// raw was parsed as JSON already, so compacting cannot fail; if it did, the
// text is kept as received.
func compactText(raw string) string {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(raw)); err != nil {
		return raw
	}
	return b.String()
}

// reescape writes every string literal of compact JSON text again with the
// escapes of VariantCompactUTF8, or with ascii those of VariantCompactASCII,
// in one pass without decoding literals separately. Text outside string
// literals is copied as it is. text is valid JSON and valid UTF-8.
func reescape(text string, ascii bool) string {
	out := make([]byte, 0, len(text)+len(text)/8)
	inString := false
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case !inString:
			out = append(out, c)
			inString = c == '"'
			i++
		case c == '"':
			out = append(out, c)
			inString = false
			i++
		case c == '\\':
			r, n := unescape(text[i:])
			out = appendRune(out, r, ascii)
			i += n
		case c < utf8.RuneSelf:
			// Raw ASCII in a valid JSON string is never " \ or a control character.
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(text[i:])
			if ascii {
				out = appendRune(out, r, true)
			} else {
				out = append(out, text[i:i+size]...)
			}
			i += size
		}
	}
	return string(out)
}

// unescape decodes the escape at the start of s and returns the character
// and the escape's length. A \u escape of a lone UTF-16 surrogate is
// U+FFFD, as encoding/json decodes it.
func unescape(s string) (rune, int) {
	if len(s) < 2 {
		return '\\', 1
	}
	switch s[1] {
	case '"', '\\', '/':
		return rune(s[1]), 2
	case 'b':
		return '\b', 2
	case 'f':
		return '\f', 2
	case 'n':
		return '\n', 2
	case 'r':
		return '\r', 2
	case 't':
		return '\t', 2
	case 'u':
		r, ok := hex4(s[2:])
		if !ok {
			break
		}
		if !utf16.IsSurrogate(r) {
			return r, 6
		}
		if len(s) >= 12 && s[6] == '\\' && s[7] == 'u' {
			if lo, ok := hex4(s[8:]); ok {
				if pair := utf16.DecodeRune(r, lo); pair != utf8.RuneError {
					return pair, 12
				}
			}
		}
		return utf8.RuneError, 6
	}
	return '\\', 1 // not an escape: cannot happen in valid JSON
}

// hex4 reads four hexadecimal digits, either case.
func hex4(s string) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for i := range 4 {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

const upperHex = "0123456789ABCDEF"

// appendRune appends one character of a string literal with the escapes of
// VariantCompactUTF8, or with ascii those of VariantCompactASCII.
func appendRune(out []byte, r rune, ascii bool) []byte {
	switch {
	case r == '"' || r == '\\':
		return append(out, '\\', byte(r))
	case r == '\b':
		return append(out, '\\', 'b')
	case r == '\f':
		return append(out, '\\', 'f')
	case r == '\n':
		return append(out, '\\', 'n')
	case r == '\r':
		return append(out, '\\', 'r')
	case r == '\t':
		return append(out, '\\', 't')
	case r < 0x20:
		return appendU(out, r)
	case r < utf8.RuneSelf:
		return append(out, byte(r))
	case !ascii:
		return utf8.AppendRune(out, r)
	case r > 0xFFFF:
		hi, lo := utf16.EncodeRune(r)
		return appendU(appendU(out, hi), lo)
	default:
		return appendU(out, r)
	}
}

// appendU appends \uXXXX for a UTF-16 code unit, upper-case hex.
func appendU(out []byte, r rune) []byte {
	return append(out, '\\', 'u', upperHex[r>>12&0xF], upperHex[r>>8&0xF], upperHex[r>>4&0xF], upperHex[r&0xF])
}

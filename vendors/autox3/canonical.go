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
// escapes of VariantCompactUTF8, or with ascii those of VariantCompactASCII.
// Text outside string literals is copied as it is.
func reescape(text string, ascii bool) string {
	out := make([]byte, 0, len(text)+len(text)/8)
	for i := 0; i < len(text); {
		if text[i] != '"' {
			out = append(out, text[i])
			i++
			continue
		}
		end := literalEnd(text, i)
		lit := text[i:end]
		var s string
		if !needsDecoding(lit) {
			if !ascii || isASCII(lit) {
				// No escape and nothing to escape: JSON allows no raw control characters.
				out = append(out, lit...)
				i = end
				continue
			}
			s = lit[1 : len(lit)-1]
		} else if err := json.Unmarshal([]byte(lit), &s); err != nil {
			out = append(out, lit...) // cannot happen for parsed JSON; keep the text
			i = end
			continue
		}
		out = appendString(out, s, ascii)
		i = end
	}
	return string(out)
}

// literalEnd returns the index just past the string literal opening at text[start].
func literalEnd(text string, start int) int {
	for i := start + 1; i < len(text); i++ {
		switch text[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(text)
}

// needsDecoding reports a literal with an escape in it; one without is its
// own value between the quotes.
func needsDecoding(lit string) bool {
	for i := 1; i < len(lit)-1; i++ {
		if lit[i] == '\\' {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

const upperHex = "0123456789ABCDEF"

// appendString appends s as a JSON string literal with the escapes of
// VariantCompactUTF8, or with ascii those of VariantCompactASCII.
func appendString(out []byte, s string, ascii bool) []byte {
	out = append(out, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				out = append(out, '\\', c)
			case '\b':
				out = append(out, '\\', 'b')
			case '\f':
				out = append(out, '\\', 'f')
			case '\n':
				out = append(out, '\\', 'n')
			case '\r':
				out = append(out, '\\', 'r')
			case '\t':
				out = append(out, '\\', 't')
			default:
				if c < 0x20 {
					out = appendU(out, rune(c))
				} else {
					out = append(out, c)
				}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case !ascii:
			out = append(out, s[i:i+size]...)
		case r > 0xFFFF:
			hi, lo := utf16.EncodeRune(r)
			out = appendU(appendU(out, hi), lo)
		default:
			out = appendU(out, r)
		}
		i += size
	}
	return append(out, '"')
}

// appendU appends \uXXXX for a UTF-16 code unit, upper-case hex.
func appendU(out []byte, r rune) []byte {
	return append(out, '\\', 'u', upperHex[r>>12&0xF], upperHex[r>>8&0xF], upperHex[r>>4&0xF], upperHex[r&0xF])
}

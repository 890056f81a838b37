package mapping

import (
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"
)

// ErrNoMapping is the cause of Render's error for a record kind that has no
// program in the Set and no "*" program either; errors.Is finds it.
var ErrNoMapping = errors.New("no mapping for this kind")

// Error is a record that a Set could not render. Error() names the file, the
// kind and what went wrong and never holds record content, so it can reach
// logs; Detail() adds what the failure involved (a value, a path in the
// output, the jq error with its values), which may hold record content.
type Error struct {
	// File is the mapping file, e.g. "defaults/tryton.yaml".
	File string
	// Kind is the record kind whose program ran (or was missing).
	Kind string
	// Reason says what went wrong, without record content.
	Reason string
	// Err is the cause, when there is one to test with errors.Is:
	// ErrNoMapping, context.DeadlineExceeded, context.Canceled.
	Err error

	detail string
}

// Error names file, kind and reason, e.g.
// "mapping defaults/tryton.yaml: kind hotel_order: no mapping for this kind".
func (e *Error) Error() string {
	return "mapping " + e.File + ": kind " + e.Kind + ": " + e.Reason
}

// Detail is Error() followed by what the failure involved, which may be
// record content; it is Error() alone when there is nothing more to say.
func (e *Error) Detail() string {
	if e.detail == "" {
		return e.Error()
	}
	return e.Error() + ": " + e.detail
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// funcError is the error of a function this package gives programs: reason
// holds no value of the record, detail adds the value.
type funcError struct {
	reason string
	detail string
}

// Error is the full message, as try/catch in a program sees it.
func (e *funcError) Error() string {
	if e.detail == "" {
		return e.reason
	}
	return e.reason + ": " + e.detail
}

// redact removes the values from one of gojq's error messages: they may be
// record content. A quoted literal becomes "…", and so does a number of two
// digits or more; a quote that is never closed, or a quoted run that spans a
// truncated preview (gojq cuts arrays and objects with " ...]" and " ...}",
// which can leave a quote open), cuts the message there, so what follows
// cannot leak either.
func redact(msg string) string {
	var b strings.Builder
	for i := 0; i < len(msg); {
		c := msg[i]
		switch {
		case c == '"':
			end := closing(msg, i+1, '"')
			if end < 0 || strings.Contains(msg[i:end], " ...]") || strings.Contains(msg[i:end], " ...}") {
				b.WriteString("…")
				return b.String()
			}
			b.WriteString(`"…"`)
			i = end + 1
			continue
		case c == '\'':
			// Go's quoted characters ('x'); an apostrophe stays.
			if end := closing(msg, i+1, '\''); end > 0 && utf8.RuneCountInString(msg[i+1:end]) <= 2 {
				b.WriteString(`'…'`)
				i = end + 1
				continue
			}
		case isDigit(c) && (i == 0 || !isIdentByte(msg[i-1]) && msg[i-1] != '/'):
			end, digits := numberEnd(msg, i)
			if digits >= 2 {
				b.WriteString("…")
			} else {
				b.WriteString(msg[i:end])
			}
			i = end
			continue
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

// numberEnd is the end of the number that starts at msg[i] and how many
// digits it has.
func numberEnd(msg string, i int) (end, digits int) {
	for end = i; end < len(msg); end++ {
		switch c := msg[end]; {
		case isDigit(c):
			digits++
		case strings.IndexByte(".eE+-", c) >= 0 && end+1 < len(msg) && isDigit(msg[end+1]):
		default:
			return end, digits
		}
	}
	return end, digits
}

// closing is the index of the quote that closes a literal starting at from,
// skipping backslash escapes, or -1.
func closing(s string, from int, quote byte) int {
	for i := from; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case quote:
			return i
		}
	}
	return -1
}

// valueText is the text of an error(...) value for Detail.
func valueText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "(a value that is not JSON)"
	}
	return string(b)
}

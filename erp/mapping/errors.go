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

// redact removes the quoted values from one of gojq's error messages (JSON
// string literals, truncated previews ending in ` ..."`, and Go's quoted
// characters such as 'x'): they may be record content.
func redact(msg string) string {
	var b strings.Builder
	for i := 0; i < len(msg); {
		switch c := msg[i]; c {
		case '"':
			if end := closing(msg, i+1, '"'); end > 0 {
				b.WriteString(`"…"`)
				i = end + 1
				continue
			}
		case '\'':
			if end := closing(msg, i+1, '\''); end > 0 && utf8.RuneCountInString(msg[i+1:end]) <= 2 {
				b.WriteString(`'…'`)
				i = end + 1
				continue
			}
		}
		b.WriteByte(msg[i])
		i++
	}
	return b.String()
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

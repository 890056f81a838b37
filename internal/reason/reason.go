// Package reason makes text quoted from another system's answer (an ERP's
// message, a vendor API's error) safe to put in a reason, an error or a log
// line: on one line, and bounded. RedactURL does the same for a configured
// URL, which may carry a password; Tail for the end of a process's output.
package reason

import (
	"bytes"
	"errors"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// OneLine collapses control characters and runs of white space into single
// spaces, so that an ERP's text quoted in a reason or a log line cannot
// forge lines of its own.
func OneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
}

// Clip cuts s to at most n bytes, on a character boundary, and marks a cut
// with "…".
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Tail is the end of a process's output fit to quote in an error or a log:
// at most its last n bytes, from a line start, without the final newlines;
// "(no output)" when it holds nothing but white space.
func Tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return "(no output)"
	}
	return strings.TrimRight(string(b), "\n")
}

// RedactURL is raw fit to show: a URL that parses as url.URL.Redacted
// writes it (a password in its user information becomes "xxxxx"); one that
// does not parse loses everything before its last "@", where a user and
// password would be, to "***", and is otherwise kept as written.
func RedactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	if at := strings.LastIndex(raw, "@"); at >= 0 {
		return "***" + raw[at:]
	}
	return raw
}

// URLError is url.Parse's complaint without the URL it quotes, which may
// hold a password.
func URLError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return "unparsable"
}

// Package lenient reads vendor JSON that does not keep to its documented
// types: numbers sent as strings, booleans as 0/1 or "true", objects sent as
// JSON text inside a string, local times without an offset. Its types keep a
// value exactly as the vendor wrote it (never through float64, never
// rounded), and its Reader walks a message keeping the first problem as a
// *vendors.ContentError that names the field by its path. No problem ever
// quotes the value: values may be personal data.
package lenient

import (
	"bytes"
	"encoding/json"
	"time"
)

// Kind is the kind of a JSON value.
type Kind uint8

// Kinds of JSON values. KindAbsent stands for both a missing value and null.
const (
	KindAbsent Kind = iota
	KindString
	KindNumber
	KindBool
	KindObject
	KindArray
)

// KindOf returns the kind of the JSON value raw, judged by its first byte;
// raw must be valid JSON, or empty for a missing value.
func KindOf(raw []byte) Kind {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return KindAbsent
	}
	switch raw[0] {
	case 'n':
		return KindAbsent
	case '"':
		return KindString
	case 't', 'f':
		return KindBool
	case '{':
		return KindObject
	case '[':
		return KindArray
	default:
		return KindNumber
	}
}

// scalar returns the kind of the JSON value b and, for a string, number or
// boolean, its text: the decoded string, the number as written, or
// true/false. b must be one whole JSON value.
func scalar(b []byte) (Kind, string, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || !json.Valid(b) {
		return KindAbsent, "", NotJSON
	}
	switch k := KindOf(b); k {
	case KindString:
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return KindAbsent, "", NotJSON
		}
		return k, s, nil
	case KindNumber, KindBool:
		return k, string(b), nil
	default:
		return k, "", nil
	}
}

// Problem is what is wrong with a value, never the value itself. As an
// error it reads as its default phrase, which follows a field name.
type Problem uint8

// Problems the types and the Reader report.
const (
	NotJSON       Problem = iota + 1 // not one valid JSON value
	NotJSONText                      // a string that should hold JSON text and does not
	NotObject                        // not an object
	NotArray                         // not an array
	NotString                        // not a string or a number
	NotNumber                        // not a number or numeric text
	TooManyDigits                    // a number with too many digits to handle safely
	NotInteger                       // not a whole number that fits 64 bits
	NotBool                          // not a boolean, 0/1 or their text
	NotID                            // not an integer or a string
	ControlChars                     // text with control characters where none may be
	TooLong                          // text over its limit; the phrase formats the limit
	NotTime                          // not a time in any of the accepted forms
	NotEpoch                         // not epoch milliseconds
	TimeRange                        // a time outside the Dialect's years
)

var defaultPhrases = [...]string{
	NotJSON:       "is not valid JSON",
	NotJSONText:   "is a string that does not hold valid JSON",
	NotObject:     "must be a JSON object",
	NotArray:      "must be a JSON array",
	NotString:     "must be a string",
	NotNumber:     "must be a number",
	TooManyDigits: "has too many digits",
	NotInteger:    "must be an integer",
	NotBool:       "must be a boolean",
	NotID:         "must be an integer or a string",
	ControlChars:  "must not contain control characters",
	TooLong:       "must be at most %d characters",
	NotTime:       "must be a time",
	NotEpoch:      "must be an epoch-milliseconds timestamp",
	TimeRange:     "is out of range",
}

// Error returns the default phrase of p.
func (p Problem) Error() string {
	if int(p) >= len(defaultPhrases) {
		return "cannot be read"
	}
	return defaultPhrases[p]
}

// China is China Standard Time: UTC+8 all year, no daylight saving.
var China = time.FixedZone("CST", 8*60*60)

// Dialect is how one vendor writes its values and words its problems.
type Dialect struct {
	// Zone is the zone of times sent without an offset; nil means UTC.
	Zone *time.Location
	// FirstYear and LastYear bound the year (in UTC) of a time; zero means
	// 1000 and 9999, the range of a DATETIME column.
	FirstYear, LastYear int
	// Wording holds the vendor's phrase for a problem where it differs from
	// the default; TooLong's phrase formats the limit with %d.
	Wording map[Problem]string
}

func (d *Dialect) phrase(p Problem) string {
	if s, ok := d.Wording[p]; ok {
		return s
	}
	return p.Error()
}

func (d *Dialect) zone() *time.Location {
	if d.Zone == nil {
		return time.UTC
	}
	return d.Zone
}

func (d *Dialect) years() (first, last int) {
	first, last = d.FirstYear, d.LastYear
	if first == 0 {
		first = 1000
	}
	if last == 0 {
		last = 9999
	}
	return first, last
}

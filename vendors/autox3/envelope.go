// Package autox3 reads AutoX3 callbacks: it parses and authenticates the
// signed envelope, validates the content of each message type and writes the
// normalised rows of the record it describes.
package autox3

import (
	"bytes"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/vendors/lenient"
)

// Limits of envelope fields. The msgId becomes part of a Temporal workflow id
// and the deduplication key, so it is kept short and plain.
const (
	MaxMsgIDLen   = 128
	MaxMsgTypeLen = 128
	// maxCreateTime is 9999-12-31T23:59:59.999Z, the end of a MySQL DATETIME.
	maxCreateTime = 253402300799999
)

// Envelope is the signed outer part every AutoX3 callback shares.
type Envelope struct {
	MsgID      string
	MsgType    string
	CreateTime int64 // epoch milliseconds
	// StaffInfo is the exact JSON text of staffInfo as received ("null"
	// when null, nil when absent).
	StaffInfo json.RawMessage
	// Content is the exact JSON text of content as received; for types that
	// send content as a JSON string it is that string literal, quotes included.
	Content   json.RawMessage
	Signature string // msgSignature as received (40 hex digits, any case)

	createTimeText  string // createTime's digits as received
	staffInfoText   string // the signed text of staffInfo as received: the raw JSON, or null when absent
	staffNull       bool   // staffInfo is absent or null
	contentText     string // the signed text of content as received: the raw JSON, or a string's decoded value
	contentIsString bool
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("AutoX3 envelope: %s: %w", fmt.Sprintf(format, args...), vendors.ErrMalformed)
}

// ParseEnvelope reads a callback body into its envelope, keeping the exact
// text of every signed field. It checks form only, not the signature: call
// Verify for that. Every error wraps vendors.ErrMalformed.
func ParseEnvelope(body []byte) (*Envelope, error) {
	fields, err := topLevel(body)
	if err != nil {
		return nil, err
	}
	e := &Envelope{}

	s, err := stringField(fields, "msgId", "must be a string")
	if err != nil {
		return nil, err
	}
	switch {
	case s == "":
		return nil, malformed("field msgId must not be empty")
	case len(s) > MaxMsgIDLen:
		return nil, malformed("field msgId must be at most %d characters", MaxMsgIDLen)
	case strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0:
		return nil, malformed("field msgId must contain only printable ASCII characters without spaces")
	}
	e.MsgID = s

	if s, err = stringField(fields, "msgType", "must be a string"); err != nil {
		return nil, err
	}
	switch {
	case s == "":
		return nil, malformed("field msgType must not be empty")
	case utf8.RuneCountInString(s) > MaxMsgTypeLen:
		return nil, malformed("field msgType must be at most %d characters", MaxMsgTypeLen)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return nil, malformed("field msgType must not contain control characters")
	}
	e.MsgType = s

	if e.CreateTime, e.createTimeText, err = parseCreateTime(fields); err != nil {
		return nil, err
	}

	const sigForm = "must be a string of 40 hexadecimal characters"
	if s, err = stringField(fields, "msgSignature", sigForm); err != nil {
		return nil, err
	}
	if len(s) != sha1.Size*2 || !isHex(s) {
		return nil, malformed("field msgSignature %s", sigForm)
	}
	e.Signature = s

	// A Java serialiser that drops nulls sends no staffInfo at all: absent
	// is null (see Verify for the texts it may have been signed as).
	raw, ok := fields["staffInfo"]
	switch k := lenient.KindOf(raw); {
	case !ok || k == lenient.KindAbsent:
		e.StaffInfo, e.staffInfoText, e.staffNull = raw, "null", true
	case k != lenient.KindObject:
		return nil, malformed("field staffInfo must be a JSON object or null")
	default:
		e.StaffInfo, e.staffInfoText = raw, string(raw)
	}

	raw, ok = fields["content"]
	if !ok || lenient.KindOf(raw) == lenient.KindAbsent {
		return nil, malformed("missing field content")
	}
	switch lenient.KindOf(raw) {
	case lenient.KindObject, lenient.KindArray:
		e.contentText = string(raw)
	case lenient.KindString:
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return nil, malformed("field content is not a valid JSON string")
		}
		e.contentText, e.contentIsString = text, true
	default:
		return nil, malformed("field content must be a JSON object, array or string")
	}
	e.Content = raw
	return e, nil
}

// stringField returns the decoded string value of a top-level field, or an
// error naming the field when it is missing or not a string.
func stringField(fields map[string]json.RawMessage, key, notString string) (string, error) {
	raw, ok := fields[key]
	if !ok || lenient.KindOf(raw) == lenient.KindAbsent {
		return "", malformed("missing field %s", key)
	}
	var s string
	if lenient.KindOf(raw) != lenient.KindString || json.Unmarshal(raw, &s) != nil {
		return "", malformed("field %s %s", key, notString)
	}
	return s, nil
}

// parseCreateTime accepts a JSON integer or a string of digits and returns
// the value and the digits, which are what AutoX3 signs.
func parseCreateTime(fields map[string]json.RawMessage) (int64, string, error) {
	raw, ok := fields["createTime"]
	if !ok || lenient.KindOf(raw) == lenient.KindAbsent {
		return 0, "", malformed("missing field createTime")
	}
	text := string(raw)
	if lenient.KindOf(raw) == lenient.KindString {
		if err := json.Unmarshal(raw, &text); err != nil {
			text = ""
		}
	}
	if text == "" || strings.IndexFunc(text, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return 0, "", malformed("field createTime must be an integer epoch-milliseconds timestamp")
	}
	v, err := strconv.ParseInt(text, 10, 64)
	if err != nil || v < 1 || v > maxCreateTime {
		return 0, "", malformed("field createTime is out of range (1 to %d epoch milliseconds)", int64(maxCreateTime))
	}
	return v, text, nil
}

// topLevel splits a body that must be exactly one JSON object into the exact
// text of each member's value, refusing duplicate keys: with two values for a
// signed field, which one was signed would be ambiguous.
func topLevel(body []byte) (map[string]json.RawMessage, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, malformed("body is empty")
	}
	if !utf8.Valid(body) {
		return nil, malformed("body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return nil, syntaxProblem(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, malformed("body must be a JSON object")
	}
	fields := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, syntaxProblem(err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, malformed("body is not valid JSON (object key expected)")
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, syntaxProblem(err)
		}
		if _, dup := fields[key]; dup {
			return nil, malformed("duplicate top-level key %s", quoteKey(key))
		}
		fields[key] = raw
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, syntaxProblem(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed("body has data after the JSON object")
	}
	return fields, nil
}

// syntaxProblem describes a JSON error by position only: the body may hold personal data.
func syntaxProblem(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return malformed("body is not valid JSON (syntax error at byte %d)", se.Offset)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return malformed("body is not valid JSON (unexpected end of input)")
	default:
		return malformed("body is not valid JSON")
	}
}

// quoteKey quotes a key for an error message, shortened: keys are not data,
// but nothing stops a sender from putting anything in one.
func quoteKey(k string) string {
	if utf8.RuneCountInString(k) > 40 {
		k = string([]rune(k)[:40]) + "…"
	}
	return strconv.Quote(k)
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// Match says how a signature verified.
type Match struct {
	// Secret is the position of the secret in the list given to Verify (0
	// is the first, the newest), never the secret itself.
	Secret int
	// Variant is the canonical text that verified: one of Variants().
	Variant string
}

// Verify checks msgSignature against the envelope's signed text and each
// non-empty secret, in constant time and whatever the case of the hex
// digits. The signed text is tried in the fixed variants of Variants(), one
// at a time and only until one verifies, so a callback signed over the text
// as received costs one digest. Secrets are given newest first (rotation);
// the Match names the variant and the secret's position. Every error wraps
// vendors.ErrUnauthorized.
func (e *Envelope) Verify(secrets ...string) (Match, error) {
	if !slices.ContainsFunc(secrets, func(s string) bool { return s != "" }) {
		return Match{}, fmt.Errorf("no AutoX3 app secret configured: %w", vendors.ErrUnauthorized)
	}
	got, err := hex.DecodeString(e.Signature)
	if err != nil || len(got) != sha1.Size {
		return Match{}, fmt.Errorf("msgSignature is not 40 hexadecimal characters: %w", vendors.ErrUnauthorized)
	}
	var want [sha1.Size]byte
	for c := range e.candidates() {
		// Everything but the secret is hashed once per variant; each secret
		// continues a copy of that state.
		prefix := sha1.New()
		for _, s := range []string{e.MsgID, e.MsgType, c.staff, e.createTimeText, c.content} {
			_, _ = io.WriteString(prefix, s)
		}
		for i, secret := range secrets {
			if secret == "" {
				continue
			}
			h, err := prefix.(hash.Cloner).Clone()
			if err != nil {
				return Match{}, fmt.Errorf("hash state: %v: %w", err, vendors.ErrUnauthorized)
			}
			_, _ = io.WriteString(h, secret)
			if subtle.ConstantTimeCompare(got, h.Sum(want[:0])) == 1 {
				return Match{Secret: i, Variant: c.variant}, nil
			}
		}
	}
	return Match{}, fmt.Errorf("msgSignature does not match: %w", vendors.ErrUnauthorized)
}

// Sign returns AutoX3's signature, upper-case hex as in the vendor's demo:
// sha1(msgId + msgType + staffInfo + createTime + content + appSecret) over
// UTF-8, where staffInfo and content are the JSON text as sent (a string
// content counts as its decoded value) and createTime its digits.
func Sign(msgID, msgType, staffInfo, createTime, content, secret string) string {
	sum := digest(msgID, msgType, staffInfo, createTime, content, secret)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

func digest(msgID, msgType, staffInfo, createTime, content, secret string) [sha1.Size]byte {
	h := sha1.New()
	for _, s := range []string{msgID, msgType, staffInfo, createTime, content, secret} {
		_, _ = io.WriteString(h, s)
	}
	var out [sha1.Size]byte
	h.Sum(out[:0])
	return out
}

// BuildBody returns a correctly signed callback body with its keys in
// alphabetical order, as AutoX3 sends them. staffInfo and content are
// embedded as given ("null" when empty); with contentAsString, content is
// sent as a JSON string holding that text, as the maintenance.v2 type does.
func BuildBody(msgID, msgType string, createTimeMs int64, staffInfo json.RawMessage, content json.RawMessage, contentAsString bool, secret string) []byte {
	staff := trimJSONSpace(staffInfo)
	if staff == "" {
		staff = "null"
	}
	contentText := trimJSONSpace(content)
	contentJSON := contentText
	if contentAsString {
		contentJSON = jsonString(string(content))
		contentText = string(content)
	} else if contentJSON == "" {
		contentJSON = "null"
	}
	createTime := strconv.FormatInt(createTimeMs, 10)
	sig := Sign(msgID, msgType, staff, createTime, contentText, secret)

	var b bytes.Buffer
	b.WriteString(`{"content":`)
	b.WriteString(contentJSON)
	b.WriteString(`,"createTime":`)
	b.WriteString(createTime)
	b.WriteString(`,"msgId":`)
	b.WriteString(jsonString(msgID))
	b.WriteString(`,"msgSignature":`)
	b.WriteString(jsonString(sig))
	b.WriteString(`,"msgType":`)
	b.WriteString(jsonString(msgType))
	b.WriteString(`,"staffInfo":`)
	b.WriteString(staff)
	b.WriteString(`}`)
	return b.Bytes()
}

func trimJSONSpace(raw []byte) string { return strings.Trim(string(raw), " \t\r\n") }

// jsonString encodes s as a JSON string literal without HTML escaping.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // encoding a string cannot fail
	return strings.TrimSuffix(b.String(), "\n")
}

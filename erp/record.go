// Package erp sends normalised records to the company's ERP and classifies
// every answer as done, retryable or rejected.
//
// The contract: POST ${ERP_URL}/records with "Authorization: Bearer ${ERP_TOKEN}",
// an Idempotency-Key that is stable for one state of one record, and the JSON
// body {"source","kind","external_id","version","occurred_at","data"}.
// 2xx or 409 means done; 408, 429, 5xx, timeouts and network errors are
// retried; any other 4xx is a permanent rejection.
package erp

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Record is one state of one vendor record, as the ERP receives it.
type Record struct {
	// Source names the vendor, e.g. "autox3".
	Source string `json:"source"`
	// Kind is the record kind, e.g. "reception_order".
	Kind string `json:"kind"`
	// ExternalID is the vendor's id of the record (never personal data).
	ExternalID string `json:"external_id"`
	// Version grows with every newer state of the same record.
	Version int64 `json:"version"`
	// OccurredAt is when the vendor says this state arose; it is sent as
	// RFC 3339 with the time's own offset.
	OccurredAt time.Time `json:"occurred_at"`
	// Data is the normalised record, a JSON object sent as it is (money as
	// decimal text stays byte-exact; only insignificant whitespace is removed).
	Data json.RawMessage `json:"data"`
}

// Validate reports the first field that breaks the contract, naming the field
// and never its value.
func (r Record) Validate() error {
	switch {
	case r.Source == "":
		return errors.New("source: must not be empty")
	case r.Kind == "":
		return errors.New("kind: must not be empty")
	case r.ExternalID == "":
		return errors.New("external_id: must not be empty")
	case r.Version <= 0:
		return errors.New("version: must be greater than 0")
	case r.OccurredAt.IsZero():
		return errors.New("occurred_at: must be set")
	case r.OccurredAt.Year() < 0 || r.OccurredAt.Year() > 9999:
		return errors.New("occurred_at: year outside 0000-9999 cannot be written as RFC 3339")
	}
	data := bytes.TrimSpace(r.Data)
	if len(data) == 0 || data[0] != '{' || !json.Valid(data) {
		return errors.New("data: must be a JSON object")
	}
	return nil
}

// Encode returns the request body: compact JSON without HTML escaping, with
// occurred_at as RFC 3339 in the time's own offset and data byte-for-byte as
// given apart from insignificant whitespace.
func (r Record) Encode() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("encode record %s: %w", r.Label(), err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("encode record %s: %w", r.Label(), err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Label names the record in logs and errors, e.g.
// "autox3/reception_order/6482 v1616502610117". It holds only vendor ids.
func (r Record) Label() string {
	return r.Source + "/" + r.Kind + "/" + r.ExternalID + " v" + strconv.FormatInt(r.Version, 10)
}

// IdempotencyKey is the deterministic key of one state of one record:
// "<source>:<kind>:<external_id>:v<version>:<first 12 hex of sha256(data)>".
// A resend of the same state reuses the key; two different states that share
// a version get different keys. The key holds vendor ids and a digest only,
// never record content. Characters outside [A-Za-z0-9._~-] in the three names
// are percent-escaped so the key is an unambiguous, valid header value.
func IdempotencyKey(r Record) string {
	sum := sha256.Sum256(canonicalData(r.Data))
	return escapeKeyPart(r.Source) + ":" + escapeKeyPart(r.Kind) + ":" + escapeKeyPart(r.ExternalID) +
		":v" + strconv.FormatInt(r.Version, 10) + ":" + hex.EncodeToString(sum[:])[:12]
}

// canonicalData is data without insignificant whitespace, the same bytes the
// body carries, so formatting alone never changes the key.
func canonicalData(data json.RawMessage) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		return data
	}
	return buf.Bytes()
}

func escapeKeyPart(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '.', c == '_', c == '~', c == '-':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// Package vendors holds what every vendor integration shares: the normalised
// event a parser produces and the error kinds the API and the workflow map to
// HTTP answers and Temporal failures.
package vendors

import (
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Vendor names, used in workflow ids, search attributes, tables and the ERP's source field.
const (
	AutoX3     = "autox3"
	Fenbeitong = "fenbeitong"
)

// ErrMalformed marks a callback whose body or envelope cannot be used (HTTP 400).
var ErrMalformed = errors.New("malformed callback")

// ErrUnauthorized marks a callback whose authenticity could not be established (HTTP 401).
var ErrUnauthorized = errors.New("unauthorized callback")

// ContentError says which field of an authentic callback's content is invalid.
// The workflow turns it into a non-retryable failure an operator can read.
type ContentError struct {
	Field   string
	Problem string
}

func (e *ContentError) Error() string {
	if e.Field == "" {
		return "invalid content: " + e.Problem
	}
	return fmt.Sprintf("invalid content: %s: %s", e.Field, e.Problem)
}

// Invalid builds a ContentError.
func Invalid(field, format string, args ...any) *ContentError {
	return &ContentError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// Event is one verified vendor event, normalised. It is the newest-state
// candidate for the record (Vendor, Kind, ExternalID).
type Event struct {
	Vendor     string    // AutoX3 or Fenbeitong
	EventKey   string    // the deduplication key: AutoX3 msgId, Fenbeitong derived key
	EventType  string    // msgType, or the push category name
	Kind       string    // ERP record kind, e.g. "reception_order", "car_order"
	ExternalID string    // vendor id of the record: receiveBaseId, order_id, ...
	Version    int64     // grows with newer state of the same record
	OccurredAt time.Time // when the vendor says the state arose
	// Data is the normalised record sent as the ERP's "data". It must marshal
	// to JSON exactly: money as decimal text, times as RFC 3339 with offset.
	Data any
	// Save writes the normalised rows of this record inside tx, replacing the
	// rows of any older state. It is called only when this event is the newest
	// state of its record. Nil for generic events (raw storage only).
	Save func(tx *gorm.DB) error `json:"-"`
}

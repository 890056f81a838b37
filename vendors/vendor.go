// Package vendors is what every vendor integration shares: the Vendor
// interface the API and the activities are driven by, the registry that lists
// the vendors, the normalised event a decoder produces, and the error kinds
// the edge and the workflows map to HTTP answers and Temporal failures.
//
// A vendor is one package under vendors/ that implements Vendor and is added
// to the registry with one line (see vendors/registry). Vendor packages parse
// and return plain values; they never touch the database.
package vendors

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"sort"
	"time"
)

// Vendor names, used in workflow ids, search attributes, tables and the ERP's source field.
const (
	AutoX3     = "autox3"
	Fenbeitong = "fenbeitong"
)

// Vendor is one integration: how the edge authenticates and keys a callback,
// how an activity decodes it, and how the vendor wants to be answered.
type Vendor interface {
	// Name names the vendor in workflow ids, tables, metrics and the ERP's
	// source field; its webhook is served at /webhooks/<Name>.
	Name() string
	// Accept authenticates a callback whose raw body was read and derives its
	// deduplication key and event type. It runs on the request path, so it
	// does the least that establishes authenticity and the key. Errors wrap
	// ErrUnauthorized (401), ErrForbidden (403) or ErrMalformed (400).
	Accept(req *Request) (Meta, error)
	// Decode parses and validates an accepted body into a normalised event.
	// Content problems are a *ContentError naming the field; decoding the
	// same body always gives the same event.
	Decode(body []byte) (*Event, error)
	// Reply is the JSON body of the answer for an HTTP status (200 when the
	// callback was taken, a duplicate included) and a message for the sender.
	Reply(status int, msg string) any
}

// Request is a callback as the edge received it.
type Request struct {
	Header http.Header
	Query  url.Values
	// Source is the sender's address as resolved through the trusted proxies.
	Source netip.Addr
	// Body is the raw body, at most the configured limit, valid UTF-8.
	Body []byte
}

// Meta is what the edge learns of an authentic callback.
type Meta struct {
	// EventKey deduplicates the callback (AutoX3 msgId, Fenbeitong derived key).
	EventKey string
	// EventType is the message type, or the push category name.
	EventType string
	// Auth is how the callback proved authentic.
	Auth Auth
}

// Auth says how a callback proved authentic, in values the service chose,
// never text from the request: the edge counts it in a metric, so operators
// see which secret of a rotation and which signed-text variant are in use.
type Auth struct {
	// Secret is the position of the configured secret or token that
	// verified, 0 for the first (newest) of the list. Never the secret.
	Secret int
	// Variant is the vendor's fixed name for the form that verified, e.g.
	// an AutoX3 signature variant; empty when the vendor has only one.
	Variant string
}

// ErrMalformed marks a callback whose body or envelope cannot be used (HTTP 400).
var ErrMalformed = errors.New("malformed callback")

// ErrUnauthorized marks a callback whose authenticity could not be established (HTTP 401).
var ErrUnauthorized = errors.New("unauthorized callback")

// ErrForbidden marks an authentic-looking callback from a source that is not allowed (HTTP 403).
var ErrForbidden = errors.New("forbidden callback source")

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
	Vendor     string // the Vendor's Name
	EventKey   string // the deduplication key, as Accept derived it
	EventType  string // msgType, or the push category name
	Kind       string // ERP record kind, e.g. "reception_order", "car_order"
	ExternalID string // vendor id of the record: receiveBaseId, order_id, ...
	Version    int64  // grows with newer state of the same record
	// OccurredAt is when the vendor says the state arose, in the zone the
	// vendor reports it in (the ERP receives that offset); zero when unknown.
	OccurredAt time.Time
	// Generic marks a message of a type the vendor package does not know,
	// kept raw: its external id is the message's, not an order's.
	Generic bool
	// Data is the normalised record sent as the ERP's "data". It must marshal
	// to JSON exactly: money as decimal text, times as RFC 3339 with offset.
	Data any
	// Tables are the normalised rows of this state, written only when it is
	// the newest state of its record; nil keeps the event raw only.
	Tables []Table
	// Parts, when set, are the records a message changes one by one (an
	// AutoX3 maintenance message: one per plan). Each part becomes an event
	// of its own, keyed PartKey(EventKey, part.Key), with its own workflow
	// and its own newest-state record, so every record converges whatever
	// order the messages arrive in. The fields above then describe the
	// message, which is kept raw and applied to no record itself.
	Parts []Part
	// Warnings say what in an accepted callback breaks a rule the vendor's
	// documents imply but do not state (an oil gauge over 100, a negative
	// distance, a fifth decimal of money): the values are kept exactly as
	// sent and the event is never refused for them. Each names the field
	// ("content.preCheckInfo.oilGauge: ...") and never quotes a value. The
	// store keeps them with the event (inbound_events.warnings).
	Warnings []string
}

// Part is one record state carried by a message that changes several records.
type Part struct {
	Key        string // unique within the message; part of the part's event key
	Kind       string
	ExternalID string
	Version    int64
	OccurredAt time.Time
	Data       any
	Tables     []Table
}

// partSeparator joins a message's event key and a part's key.
const partSeparator = "#"

// maxEventKey is the size of the event key column.
const maxEventKey = 191

// PartKey is the event key of one part of a message; a part key that would
// make it longer than an event key may be is replaced by a digest of it.
func PartKey(eventKey, partKey string) string {
	if k := eventKey + partSeparator + partKey; len(k) <= maxEventKey {
		return k
	}
	sum := sha256.Sum256([]byte(partKey))
	return eventKey + partSeparator + "~" + hex.EncodeToString(sum[:16])
}

// Part returns the event of one part of e, found by its event key
// (PartKey(e.EventKey, part.Key)); ok is false when e has no such part.
func (e *Event) Part(eventKey string) (*Event, bool) {
	for i, p := range e.Parts {
		if PartKey(e.EventKey, p.Key) == eventKey {
			return e.PartEvent(i), true
		}
	}
	return nil, false
}

// PartEvent returns the event of e's i-th part.
func (e *Event) PartEvent(i int) *Event {
	p := e.Parts[i]
	return &Event{Vendor: e.Vendor, EventKey: PartKey(e.EventKey, p.Key), EventType: e.EventType, Kind: p.Kind, ExternalID: p.ExternalID,
		Version: p.Version, OccurredAt: p.OccurredAt, Data: p.Data, Tables: p.Tables}
}

// PartKeys lists the event keys of e's parts, in order.
func (e *Event) PartKeys() []string {
	keys := make([]string, len(e.Parts))
	for i, p := range e.Parts {
		keys[i] = PartKey(e.EventKey, p.Key)
	}
	return keys
}

// Table is the rows one record state owns in one table: the store deletes
// every row that Match selects, then inserts Rows, so the rows of an older
// state never survive and writing the same state twice changes nothing.
type Table struct {
	// Model is a pointer to the table's model, e.g. &models.AutoX3WarningLight{}.
	Model any
	// Match selects the record's rows by column (a slice value means IN).
	Match map[string]any
	// Rows is a slice of Model's type; it may be empty.
	Rows any
}

// Registry is the set of vendors the service takes callbacks from.
type Registry struct {
	byName map[string]Vendor
}

// NewRegistry builds a registry; two vendors with one name are an error.
func NewRegistry(vs ...Vendor) (*Registry, error) {
	r := &Registry{byName: make(map[string]Vendor, len(vs))}
	for _, v := range vs {
		if _, dup := r.byName[v.Name()]; dup {
			return nil, fmt.Errorf("vendor %q registered twice", v.Name())
		}
		r.byName[v.Name()] = v
	}
	return r, nil
}

// Get returns the vendor called name.
func (r *Registry) Get(name string) (Vendor, bool) {
	v, ok := r.byName[name]
	return v, ok
}

// Names lists the registered vendors, sorted.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.byName))
	for n := range r.byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Decode decodes a body with the named vendor's decoder.
func (r *Registry) Decode(vendor string, body []byte) (*Event, error) {
	v, ok := r.Get(vendor)
	if !ok {
		return nil, Invalid("vendor", "unknown vendor %q", vendor)
	}
	ev, err := v.Decode(body)
	if err != nil {
		return nil, err
	}
	ev.Vendor = v.Name()
	return ev, nil
}

// Package flow is the vocabulary shared by the API, the workflows and the
// activities: workflow ids and type names, signal and query names, search
// attributes and the small payloads that travel through Temporal.
package flow

import (
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
)

// Workflow type names, registered by the worker under these names.
const (
	EventWorkflowName  = "EventWorkflow"
	RecordWorkflowName = "RecordWorkflow"
)

// Signal and query names.
const (
	// SignalPersisted tells a record workflow that a newer state was persisted.
	SignalPersisted = "persisted"
	// SignalOutcome tells an event workflow what became of its state at the ERP.
	SignalOutcome = "sync-outcome"
	// SignalRetry asks a parked (rejected) sync to send again.
	SignalRetry = "retry"
	// SignalSkip closes a parked (rejected) sync as skipped.
	SignalSkip = "skip"
	// QueryStatus returns a Status.
	QueryStatus = "status"
)

// Update names. Retry and skip are also Workflow Updates, under the same
// names as the signals: an update answers what it did, or why it cannot apply.
const (
	// UpdateRetry sends a parked (rejected) record again; it answers "retrying revision N".
	UpdateRetry = SignalRetry
	// UpdateSkip closes a parked (rejected) record as skipped; it answers "skipped revision N".
	UpdateSkip = SignalSkip
)

// Search attributes, all Keyword. SearchAttributeNames lists them for registration.
var (
	AttrVendor     = temporal.NewSearchAttributeKeyKeyword("Vendor")
	AttrEventType  = temporal.NewSearchAttributeKeyKeyword("EventType")
	AttrOrderID    = temporal.NewSearchAttributeKeyKeyword("OrderID")
	AttrSyncStatus = temporal.NewSearchAttributeKeyKeyword("SyncStatus")
)

// SearchAttributeNames are the Keyword search attributes erpbridge needs on its namespace.
var SearchAttributeNames = []string{"Vendor", "EventType", "OrderID", "SyncStatus"}

// Error types of non-retryable failures, named so retry policies and
// operators can tell them apart.
const (
	// ErrInvalidContent: the vendor's content failed schema or business validation.
	ErrInvalidContent = "InvalidContent"
	// ErrCallbackMissing: the stored callback a workflow names does not exist.
	ErrCallbackMissing = "CallbackMissing"
	// ErrERPRejected: the ERP answered a 4xx other than 408/429.
	ErrERPRejected = "ERPRejected"
	// ErrNotApplicable: an operator's retry or skip does not apply to the
	// record's current state (nothing is parked); the message says why.
	ErrNotApplicable = "NotApplicable"
)

// Sync outcomes an event workflow can end with, also the SyncStatus values.
const (
	StatusReceived   = "received" // stored at the edge, not yet persisted by its workflow
	StatusPending    = "pending"
	StatusSynced     = "synced"
	StatusRejected   = "rejected"
	StatusSkipped    = "skipped"
	StatusSuperseded = "superseded"
	StatusInvalid    = "invalid"
	// StatusSplit: a message that changes several records was split into one
	// event per record (its parts), each with its own workflow and outcome.
	StatusSplit = "split"
	// StatusHandedOver: the event's state was stored as its record's newest
	// and handed to the record's workflow, which owns the ERP's outcome; the
	// event workflow closes with it, and the event's row in inbound_events
	// goes on to the outcome (synced, superseded, rejected, skipped) as the
	// record workflow settles it. Only a workflow's status, never a row's.
	StatusHandedOver = "handed_over"
)

// EventWorkflowID is the workflow id of one vendor message: the vendor and its
// deduplication key (AutoX3 msgId, Fenbeitong derived key). Starting a second
// workflow with the same id is refused, which is what makes a redelivery a no-op.
func EventWorkflowID(vendor, eventKey string) string { return vendor + ":" + eventKey }

// RecordWorkflowID is the workflow id of the one entity workflow that syncs a
// vendor record (an order) to the ERP, serialising its sends.
func RecordWorkflowID(vendor, kind, externalID string) string {
	return "record:" + vendor + ":" + kind + ":" + externalID
}

// EventSearchAttributes are an event workflow's search attributes at its start.
func EventSearchAttributes(vendor, eventType string) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(AttrVendor.ValueSet(vendor), AttrEventType.ValueSet(eventType),
		AttrSyncStatus.ValueSet(StatusPending))
}

// EventMemo is an event workflow's memo: nothing a vendor's customer could be named by.
func EventMemo(vendor, eventType string, receivedAt time.Time) map[string]any {
	return map[string]any{"vendor": vendor, "event_type": eventType, "received_at": receivedAt.UTC().Format(time.RFC3339)}
}

// EventInput starts an EventWorkflow. It is a claim check: the callback's
// body stays in the database row (Vendor, EventKey) that the edge wrote, so
// histories stay small whatever the vendor sends; the codec server shows the
// body to operators (see ClaimCheck).
type EventInput struct {
	Vendor    string
	EventKey  string
	EventType string
	// Body is set only by runs started before the claim check: the callback
	// exactly as received.
	Body       string `json:",omitempty"`
	ReceivedAt time.Time
	// ClaimCheck names the stored callback, "inbound_events/<vendor>/<event key>";
	// the codec server resolves it for the Web UI.
	ClaimCheck string `json:",omitempty"`
	// Shape is the shape of workflow the run takes (see ShapeHandOver).
	Shape int `json:",omitempty"`
}

// Workflow shapes, carried in EventInput.Shape and RecordInput.Shape. A run
// takes the shape its input names, which its history keeps, so it replays
// without a version marker: GetVersion would also upsert the
// TemporalChangeVersion search attribute, a visibility write per run.
// Runs whose input names none (ShapeByMarkers) take the shape their
// version markers record, as they did before shapes were in the input.
const (
	ShapeByMarkers = 0
	// ShapeHandOver: the event workflow runs its short steps as local
	// activities and closes once its record workflow has the new state; the
	// record workflow delivers outcomes from a local activity and takes its
	// starting SyncStatus from its start.
	ShapeHandOver = 1
)

// claimCheckPrefix starts every claim check.
const claimCheckPrefix = "inbound_events/"

// ClaimCheckFor is the claim check of a stored callback.
func ClaimCheckFor(vendor, eventKey string) string { return claimCheckPrefix + vendor + "/" + eventKey }

// ParseClaimCheck splits a claim check into the vendor and the event key.
func ParseClaimCheck(ref string) (vendor, eventKey string, ok bool) {
	rest, found := strings.CutPrefix(ref, claimCheckPrefix)
	if !found {
		return "", "", false
	}
	vendor, eventKey, ok = strings.Cut(rest, "/")
	return vendor, eventKey, ok && vendor != "" && eventKey != ""
}

// EventSummary is what verification learned about an event, for runs
// started before Persist took over verification.
type EventSummary struct {
	Kind       string
	ExternalID string
	Version    int64
	OccurredAt time.Time
	Generic    bool // an unknown message type kept raw
}

// PersistInput asks for an event to be stored and applied.
type PersistInput struct {
	Event      EventInput
	WorkflowID string
}

// PersistResult says whether the event became the newest state of its record.
type PersistResult struct {
	Kind       string
	ExternalID string
	Version    int64
	Generic    bool  // an unknown message type kept raw: no order id
	Applied    bool  // the event is the record's newest state
	Revision   int64 // record revision it produced; 0 when not applied
	// Parts are the event keys of the events a message was split into, one
	// per record it changes; the message itself is applied to no record.
	Parts []string `json:",omitempty"`
}

// SyncPolicy is how long and how often the ERP sync retries.
type SyncPolicy struct {
	RetryBudget     time.Duration // total time an ERP send keeps retrying
	AttemptTimeout  time.Duration // one attempt
	InitialInterval time.Duration
	MaximumInterval time.Duration
}

// RecordInput starts a RecordWorkflow.
type RecordInput struct {
	Vendor     string
	Kind       string
	ExternalID string
	Policy     SyncPolicy
	// IdleTimeout is how long a caught-up record workflow waits for news before closing.
	IdleTimeout time.Duration
	// Carry is the state handed over by continue-as-new.
	Carry *RecordCarry `json:",omitempty"`
	// Shape is the shape of workflow the run takes (see ShapeHandOver).
	Shape int `json:",omitempty"`
}

// RecordCarry is a record workflow's state across continue-as-new.
type RecordCarry struct {
	Target  int64
	Synced  int64
	Waiters []Waiter
	Parked  *Rejection
	Attempt int
}

// Waiter is an event workflow waiting for the outcome of one revision.
type Waiter struct {
	WorkflowID string
	Revision   int64
}

// NotifyInput asks for a record workflow to be told of a persisted revision
// (signal-with-start).
type NotifyInput struct {
	Vendor          string
	Kind            string
	ExternalID      string
	Revision        int64
	EventWorkflowID string
}

// PersistedSignal is sent to a record workflow after a newer state was persisted.
type PersistedSignal struct {
	Revision        int64
	EventWorkflowID string
}

// OperatorRequest is the payload of retry and skip, as signals or updates;
// every field is optional.
type OperatorRequest struct {
	Reason    string `json:"reason,omitempty"`
	Requester string `json:"requester,omitempty"` // event workflow id forwarding the operator's request
}

// ForwardInput asks for an operator's request to an event workflow to be run
// as an update on its record workflow.
type ForwardInput struct {
	RecordWorkflowID string
	Update           string // UpdateRetry or UpdateSkip
	Request          OperatorRequest
}

// OutcomeSignal tells an event workflow what became of its revision.
type OutcomeSignal struct {
	Revision       int64
	Status         string // synced, superseded, rejected, skipped
	SyncedRevision int64
	Attempts       int
	Detail         string
}

// OutcomeDelivery asks for an outcome to be signalled to one event workflow.
type OutcomeDelivery struct {
	EventWorkflowID string
	Outcome         OutcomeSignal
}

// SyncInput asks for the newest state of a record to be sent to the ERP.
type SyncInput struct {
	Vendor     string
	Kind       string
	ExternalID string
}

// SyncResult is what a sync did.
type SyncResult struct {
	Sent            bool  // a send was made (false: the ERP already had the newest state)
	SentRevision    int64 // revision sent
	SentVersion     int64
	SyncedRevision  int64 // revision the ERP has now
	CurrentRevision int64 // newest revision persisted, read after the send
	Attempt         int32
}

// Rejection is the ERP's refusal of a revision, carried as the details of an
// ErrERPRejected failure and kept by a parked record workflow.
type Rejection struct {
	Revision   int64
	Version    int64
	HTTPStatus int
	Reason     string
	Attempts   int
}

// SkipInput records an operator's skip of a rejected revision.
type SkipInput struct {
	Vendor     string
	Kind       string
	ExternalID string
	Revision   int64
	Reason     string
}

// OutcomeInput records the final (or current) sync status of an event in the database.
type OutcomeInput struct {
	Vendor   string
	EventKey string
	Status   string
	Detail   string
}

// InvalidInput records an event whose content failed verification, kept raw.
type InvalidInput struct {
	Event      EventInput
	WorkflowID string
	Problem    string
}

// Status is what the status query answers, for event and record workflows.
type Status struct {
	State      string `json:"state"`       // verifying, persisting, syncing, waiting-operator, done, failed
	SyncStatus string `json:"sync_status"` // pending, synced, rejected, skipped, superseded, invalid
	Kind       string `json:"kind,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
	Revision   int64  `json:"revision,omitempty"`
	Synced     int64  `json:"synced_revision,omitempty"`
	Attempts   int    `json:"attempts"`
	LastError  string `json:"last_error,omitempty"`
}

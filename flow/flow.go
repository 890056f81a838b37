// Package flow is the vocabulary shared by the API, the workflows and the
// activities: workflow ids and type names, signal and query names, search
// attributes and the small payloads that travel through Temporal.
package flow

import (
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/erpbridge/erpbridge/models"
)

// Workflow type names, registered by the worker under these names.
const (
	EventWorkflowName  = "EventWorkflow"
	RecordWorkflowName = "RecordWorkflow"
	SweepWorkflowName  = "SweepWorkflow"
	// ReconcileWorkflowName pulls Fenbeitong's car orders (the schedule ReconcileScheduleID).
	ReconcileWorkflowName = "FenbeitongReconcileWorkflow"
)

// Schedule ids: one schedule of each per namespace, whatever the number of workers.
const (
	// SweepScheduleID runs SweepWorkflow every SWEEP_EVERY.
	SweepScheduleID = "erpbridge-stale-sweep"
	// ReconcileScheduleID runs the Fenbeitong reconciliation every
	// FENBEITONG_RECONCILE_EVERY, when FENBEITONG_API_URL is set.
	ReconcileScheduleID = "fenbeitong-reconcile"
)

// Signal, update and query names.
const (
	// SignalPersisted tells a record workflow that a newer state was persisted.
	SignalPersisted = "persisted"
	// UpdateRetry sends a parked (rejected) record again; it answers
	// "retrying revision N". It is also a signal of the same name, for
	// scripts and batch jobs; a signal answers nothing.
	UpdateRetry = "retry"
	// UpdateSkip closes a parked (rejected) record's state as skipped; it
	// answers "skipped revision N". Also a signal of the same name.
	UpdateSkip = "skip"
	// QueryStatus returns a Status.
	QueryStatus = "status"
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
	// ErrERPRejected: the ERP refused a record's state for good.
	ErrERPRejected = "ERPRejected"
	// ErrERPUnavailable: the ERP asked to be called again later (Retry-After).
	ErrERPUnavailable = "ERPUnavailable"
	// ErrVendorAPIRefused: a vendor's API refused a call for good (a wrong
	// key, a sign it does not accept): the run fails, the next one retries.
	ErrVendorAPIRefused = "VendorAPIRefused"
	// ErrNotApplicable: an operator's retry or skip does not apply to the
	// record's current state (nothing is parked); the message says why.
	ErrNotApplicable = "NotApplicable"
)

// EventOutcome is how an event workflow ended: its result's Status and its
// SyncStatus search attribute (EventRunning while it runs). What then became
// of the event at the ERP is its row's models.EventStatus.
type EventOutcome string

// The event workflow outcomes.
const (
	// EventRunning: the event workflow has not ended yet.
	EventRunning EventOutcome = "pending"
	// EventHandedOver: the event's state was stored as its record's newest
	// and handed to the record's workflow, which sends it to the ERP.
	EventHandedOver EventOutcome = "handed_over"
	// EventSuperseded: a newer (or the same) state of the record was already
	// stored: nothing to send.
	EventSuperseded EventOutcome = "superseded"
	// EventSplit: a message that changes several records was split into one
	// event per record (its parts), each with its own outcome.
	EventSplit EventOutcome = "split"
	// EventInvalid: the content broke the vendor's rules (the run fails).
	EventInvalid EventOutcome = "invalid"
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
		AttrSyncStatus.ValueSet(string(EventRunning)))
}

// EventMemo is an event workflow's memo: nothing a vendor's customer could
// be named by. origin is how the event came: models.OriginCallback (also
// when empty), or models.OriginPull for one erpbridge pulled from the
// vendor's API (the Fenbeitong reconciliation).
func EventMemo(vendor, eventType, origin string, receivedAt time.Time) map[string]any {
	return map[string]any{"vendor": vendor, "event_type": eventType, "origin": models.OriginOf(origin), "received_at": receivedAt.UTC().Format(time.RFC3339)}
}

// EventInput starts an EventWorkflow. It is a claim check: the callback's
// body stays in the database row (Vendor, EventKey) that the edge wrote, so
// histories stay small whatever the vendor sends; the codec server shows the
// body to operators (see ClaimCheck). Only when the store could not take the
// callback does the edge carry its body in the input instead (Body), and the
// workflow stores it once the store is back.
type EventInput struct {
	Vendor     string
	EventKey   string
	EventType  string
	ReceivedAt time.Time
	// ClaimCheck names the stored callback, "inbound_events/<vendor>/<event key>";
	// the codec server resolves it for the Web UI.
	ClaimCheck string `json:",omitempty"`
	// Body is the callback exactly as received, set only when the edge could
	// not store it (the store was down or too slow): the workflow's first
	// step then stores it, retrying until the store takes it.
	Body []byte `json:",omitempty"`
	// SplitFrom is, for a split message's run continued as new, the first
	// part not yet persisted.
	SplitFrom int `json:",omitempty"`
}

// PartsInput asks for the parts [From, To) of a split message to be persisted.
type PartsInput struct {
	Event      EventInput
	WorkflowID string
	From, To   int
}

// PartsResult is what PersistParts did with a batch of parts.
type PartsResult struct {
	// Applied parts became their records' newest state, and their record
	// workflows were told; Superseded ones found a newer state stored.
	Applied, Superseded int
}

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
	// PartCount is how many events a message was split into, one per record
	// it changes (its parts); the message itself is applied to no record,
	// and its workflow persists the parts batch by batch (PersistParts).
	PartCount int `json:",omitempty"`
	// PartBatch is how many parts one step persists (SPLIT_BATCH_SIZE, the
	// worker's setting).
	PartBatch int `json:",omitempty"`
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
}

// RecordCarry is a record workflow's state across continue-as-new.
type RecordCarry struct {
	Target  int64
	Synced  int64
	Parked  *Rejection
	Attempt int
	// Skipped: the synced revision was skipped by an operator, not sent.
	Skipped bool `json:",omitempty"`
}

// NotifyInput asks for a record workflow to be told of a persisted revision
// (signal-with-start).
type NotifyInput struct {
	Vendor     string
	Kind       string
	ExternalID string
	Revision   int64
	// Bulk starts the record workflow, if it is not running, on the bulk
	// task queue: a part of a split message, which must not crowd out the
	// records of live callbacks.
	Bulk bool `json:",omitempty"`
}

// PersistedSignal is sent to a record workflow after a newer state was persisted.
type PersistedSignal struct {
	Revision int64
	// Trace is the W3C traceparent of the notice: the callback whose event
	// made the revision, so that its send to the ERP joins that trace.
	Trace string `json:",omitempty"`
}

// OperatorRequest is the payload of retry and skip, as updates or signals;
// every field is optional.
type OperatorRequest struct {
	Reason string `json:"reason,omitempty"`
}

// SyncInput asks for the newest state of a record to be sent to the ERP.
type SyncInput struct {
	Vendor     string
	Kind       string
	ExternalID string
	// Trace is the W3C traceparent of the notice of the newest revision
	// (see PersistedSignal): the ERP call joins the trace of the callback
	// that brought it. Empty: the activity's own trace.
	Trace string `json:",omitempty"`
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

// InvalidInput records an event whose content failed verification, kept raw.
type InvalidInput struct {
	Event      EventInput
	WorkflowID string
	Problem    string
}

// Status is what the status query answers, for event and record workflows.
type Status struct {
	// State is the step the run is at: an event workflow's persisting,
	// splitting, handing-over, done or failed; a record workflow's syncing,
	// waiting-operator, idle or done.
	State string `json:"state"`
	// SyncStatus is the run's SyncStatus search attribute: an EventOutcome
	// for an event workflow, a models.RecordStatus for a record workflow.
	SyncStatus string `json:"sync_status"`
	Kind       string `json:"kind,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
	Revision   int64  `json:"revision,omitempty"`
	Synced     int64  `json:"synced_revision,omitempty"`
	// Parts and PartsPersisted are a split message's parts and how many of
	// them are persisted so far (see PersistResult.PartCount).
	Parts          int    `json:"parts,omitempty"`
	PartsPersisted int    `json:"parts_persisted,omitempty"`
	Attempts       int    `json:"attempts"`
	LastError      string `json:"last_error,omitempty"`
}

// SweepInput starts a SweepWorkflow: records whose newest state has waited
// unsent, with nothing writing their row, for longer than StaleAfter are told
// to their record workflows again.
type SweepInput struct {
	StaleAfter time.Duration
}

// SweepResult is what one sweep did.
type SweepResult struct {
	// Told is how many records' workflows were told again (started, for
	// those that were not running).
	Told int
}

// ReconcileInput starts a Fenbeitong reconciliation run: the car orders
// created in the last Lookback are listed, page by page, and each fed
// through the path of a push.
type ReconcileInput struct {
	Lookback time.Duration
	PageSize int
	// Begin, End and Page are set by a run continued as new: the dates
	// ("2006-01-02" in UTC+8) the run lists and the next page to read.
	Begin, End string `json:",omitempty"`
	Page       int    `json:",omitempty"`
	// Done carries the counts of the pages read before a continue-as-new.
	Done ReconcileResult `json:",omitempty"`
}

// ReconcilePageInput asks for one page of the car orders created between
// Begin and End (dates in UTC+8, both included) to be fed in.
type ReconcilePageInput struct {
	Begin, End string
	Page       int
	PageSize   int
}

// ReconcileResult counts what a reconciliation run (or one page) did.
type ReconcileResult struct {
	// Pages read and their total as the API gave it.
	Pages, TotalPages int
	// Found: orders listed. New: orders whose state erpbridge had not seen
	// as it is now, stored as new events (their workflows bring a newer
	// state to the ERP, or find it already there). Unchanged: orders already
	// stored as they are. Details: orders whose detail was fetched because
	// the list lacked what the record needs. Invalid: orders whose content
	// could not be read as a push (kept out, logged).
	Found, New, Unchanged, Details, Invalid int
}

// Add adds another result's counts (Pages and TotalPages too).
func (r *ReconcileResult) Add(o ReconcileResult) {
	r.Pages += o.Pages
	r.TotalPages = max(r.TotalPages, o.TotalPages)
	r.Found += o.Found
	r.New += o.New
	r.Unchanged += o.Unchanged
	r.Details += o.Details
	r.Invalid += o.Invalid
}

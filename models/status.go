package models

// EventStatus is where one event stands: the sync_status of its row in
// inbound_events. An event is one stored callback (or one part of a split
// message); its row moves received → pending (or superseded, split,
// invalid) when its workflow persists it, and from pending to what became of
// its state at the ERP, settled by its record's workflow.
type EventStatus string

// The event statuses.
const (
	// EventReceived: stored at the edge, not yet persisted by its workflow.
	EventReceived EventStatus = "received"
	// EventPending: the newest state of its record when persisted, waiting
	// for the record to reach the ERP.
	EventPending EventStatus = "pending"
	// EventSynced: the ERP accepted the state this event produced.
	EventSynced EventStatus = "synced"
	// EventSuperseded: a newer state of the record was stored before this
	// one reached the ERP (or before it was persisted): nothing of it is sent.
	EventSuperseded EventStatus = "superseded"
	// EventRejected: the ERP refused the state; the record is parked for an operator.
	EventRejected EventStatus = "rejected"
	// EventSkipped: an operator gave up on the rejected state.
	EventSkipped EventStatus = "skipped"
	// EventInvalid: the content broke the vendor's rules; kept raw, never sent.
	EventInvalid EventStatus = "invalid"
	// EventSplit: a message that changes several records, stored as one
	// event per record (its parts); applied to no record itself.
	EventSplit EventStatus = "split"
)

// RecordStatus is where one record stands with the ERP: the sync_status of
// its row in record_states, and its record workflow's SyncStatus.
type RecordStatus string

// The record statuses.
const (
	// RecordPending: a state the ERP does not have yet waits to be sent.
	RecordPending RecordStatus = "pending"
	// RecordSynced: the ERP has the newest state.
	RecordSynced RecordStatus = "synced"
	// RecordRejected: the ERP refused the newest state; parked for an operator.
	RecordRejected RecordStatus = "rejected"
	// RecordSkipped: an operator gave up on the newest state.
	RecordSkipped RecordStatus = "skipped"
)

// AttemptOutcome is what one ERP send of a record came to: the outcome of a
// row of sync_attempts.
type AttemptOutcome string

// The attempt outcomes.
const (
	// AttemptAccepted: the ERP took the state.
	AttemptAccepted AttemptOutcome = "accepted"
	// AttemptDuplicate: the ERP already held the state.
	AttemptDuplicate AttemptOutcome = "duplicate"
	// AttemptRetry: a transient failure; the state is sent again.
	AttemptRetry AttemptOutcome = "retry"
	// AttemptRejected: the ERP refused the state for good.
	AttemptRejected AttemptOutcome = "rejected"
	// AttemptSkipped: an operator skipped the rejected state (no send).
	AttemptSkipped AttemptOutcome = "skipped"
)

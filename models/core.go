// Package models holds the GORM models: plain structs whose tags describe
// the tables. It imports no ORM, so vendor packages can build rows; the
// store package opens, migrates and writes them.
package models

import "time"

// All lists every table the service owns, in migration order.
func All() []any {
	out := []any{&InboundEvent{}, &RecordState{}, &SyncAttempt{}}
	out = append(out, autox3Models...)
	return append(out, fenbeitongModels...)
}

// InboundEvent is one event: a vendor callback the edge accepted, stored raw
// before it answered (SyncStatus "received"), or one part of a split
// message. Its workflow's input carries only a claim check naming it,
// (Vendor, EventKey), and Persist fills in the rest.
// (Vendor, EventKey) is unique, so a redelivered callback can never become a
// second row.
type InboundEvent struct {
	ID         uint64    `gorm:"primaryKey"`
	Vendor     string    `gorm:"size:32;not null;uniqueIndex:ux_event_key,priority:1"`
	EventKey   string    `gorm:"size:191;not null;uniqueIndex:ux_event_key,priority:2"`
	EventType  string    `gorm:"size:128;not null"`
	Kind       string    `gorm:"size:64;not null;index:ix_event_record,priority:2"`
	ExternalID string    `gorm:"size:128;not null;index:ix_event_record,priority:3"`
	Version    int64     `gorm:"not null"`
	OccurredAt time.Time `gorm:"not null"`
	BodySHA256 string    `gorm:"size:64;not null"`
	Body       []byte    `gorm:"type:mediumblob;not null"`
	WorkflowID string    `gorm:"size:255;not null"`
	// Applied is true when this event was the newest state of its record when persisted.
	Applied    bool        `gorm:"not null"`
	Revision   int64       `gorm:"not null"` // record revision this event produced (0 when not applied)
	SyncStatus EventStatus `gorm:"size:16;not null;index"`
	SyncDetail string      `gorm:"size:1024;not null;default:''"`
	// Warnings is a JSON array of what the decoder and the store kept
	// although it breaks a rule the vendor's documents imply (see
	// vendors.Event.Warnings), or empty. Warnings name fields, never values.
	Warnings   string `gorm:"type:mediumtext"`
	SyncedAt   *time.Time
	ReceivedAt time.Time `gorm:"not null"`
	// StartedAt is when the callback's workflow was known to be started; nil
	// while the relay still has to start it.
	StartedAt *time.Time `gorm:"index"`
	// RelayUntil is when a relay's claim to start the workflow lapses, so
	// another relay takes the callback over if the first one died.
	RelayUntil *time.Time
	// Origin is how the event came: OriginCallback (the vendor called the
	// webhook) or OriginPull (erpbridge pulled it from the vendor's API,
	// see the Fenbeitong reconciliation).
	Origin string `gorm:"size:16;not null;default:'callback'"`
	// ParentKey is, for one part of a message split into one event per
	// record it changes, the message's event key; the part keeps no body of
	// its own but reads the message's.
	ParentKey string `gorm:"size:191;not null;default:''"`
	// TraceParent is the W3C traceparent of the webhook request that
	// brought the callback, so the relay's later start of its workflow
	// continues the request's trace; empty when tracing is off.
	TraceParent string `gorm:"size:64;not null;default:''"`
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Origins of an event.
const (
	OriginCallback = "callback"
	OriginPull     = "pull"
)

// OriginOf is origin, or OriginCallback when it is empty (an event whose
// origin was not said came by a callback).
func OriginOf(origin string) string {
	if origin == "" {
		return OriginCallback
	}
	return origin
}

// RecordState is the newest known state of one vendor record (an order) and
// what of it the ERP has. Revision grows by one each time a newer state is
// applied; SyncedRevision is the revision the ERP last accepted (or an
// operator skipped).
type RecordState struct {
	ID         uint64    `gorm:"primaryKey"`
	Vendor     string    `gorm:"size:32;not null;uniqueIndex:ux_record,priority:1"`
	Kind       string    `gorm:"size:64;not null;uniqueIndex:ux_record,priority:2"`
	ExternalID string    `gorm:"size:128;not null;uniqueIndex:ux_record,priority:3"`
	Version    int64     `gorm:"not null"`
	Revision   int64     `gorm:"not null"`
	EventKey   string    `gorm:"size:191;not null"`
	OccurredAt time.Time `gorm:"not null"`
	// OccurredOffset is OccurredAt's offset from UTC in seconds in the
	// vendor's zone, so the ERP receives the time as the vendor reported it.
	OccurredOffset int          `gorm:"not null;default:0"`
	Data           string       `gorm:"type:mediumtext;not null"`
	DataSHA256     string       `gorm:"size:64;not null"`
	SyncedRevision int64        `gorm:"not null;default:0"`
	SyncedVersion  int64        `gorm:"not null;default:0"`
	SyncStatus     RecordStatus `gorm:"size:16;not null;index"`
	LastError      string       `gorm:"size:1024;not null;default:''"`
	SyncedAt       *time.Time
	// ERPDocumentID and ERPDocumentNumber are the ERP's id and number of the
	// record's one document (Kingdee FID and FBillNo, Tryton id and
	// reference), as the last successful send reported them; empty for an
	// ERP that does not tell (the HTTP contract) or before the first one.
	ERPDocumentID     string `gorm:"column:erp_document_id;size:128;not null;default:''"`
	ERPDocumentNumber string `gorm:"column:erp_document_number;size:64;not null;default:''"`
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// SyncAttempt is one answer of the ERP to one record send, kept for audit.
type SyncAttempt struct {
	ID             uint64         `gorm:"primaryKey"`
	Vendor         string         `gorm:"size:32;not null;index:ix_attempt_record,priority:1"`
	Kind           string         `gorm:"size:64;not null;index:ix_attempt_record,priority:2"`
	ExternalID     string         `gorm:"size:128;not null;index:ix_attempt_record,priority:3"`
	Revision       int64          `gorm:"not null"`
	Version        int64          `gorm:"not null"`
	IdempotencyKey string         `gorm:"size:255;not null"`
	Outcome        AttemptOutcome `gorm:"size:16;not null"`
	HTTPStatus     int            `gorm:"not null"`
	Detail         string         `gorm:"size:1024;not null;default:''"`
	// ERPDocumentID and ERPDocumentNumber are the document the ERP holds
	// the state in, for an accepted or duplicate send to an ERP that tells.
	ERPDocumentID     string `gorm:"column:erp_document_id;size:128;not null;default:''"`
	ERPDocumentNumber string `gorm:"column:erp_document_number;size:64;not null;default:''"`
	CreatedAt         time.Time
}

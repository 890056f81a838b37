package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/store/sqlite"
	"github.com/erpbridge/erpbridge/vendors"
)

// batchSize keeps multi-row inserts well under SQLite's bound-variable limit.
const batchSize = 200

// detailLimit is the size of the status detail and error columns.
const detailLimit = 1024

// Store reads and writes erpbridge's tables.
type Store struct {
	db     *gorm.DB
	intake *sqlite.GroupCommit[Inbound] // SQLite: the edge's inserts, committed in groups
}

// New wraps an open database (see Open).
func New(db *gorm.DB) *Store {
	s := &Store{db: db}
	if db.Dialector.Name() == "sqlite" {
		s.intake = sqlite.NewGroupCommit(s.insertInbound)
	}
	return s
}

// Inbound is a callback as received, with the workflow that carries it.
type Inbound struct {
	// Origin is models.OriginCallback (empty is taken as that) or OriginPull.
	Origin     string
	Vendor     string
	EventKey   string
	EventType  string
	Body       []byte
	WorkflowID string
	ReceivedAt time.Time
	// TraceParent is the W3C traceparent of the request that brought the
	// callback (see tracing.Parent); empty when tracing is off.
	TraceParent string
}

// Persisted says whether an event became the newest state of its record.
type Persisted struct {
	Applied  bool  // the event is the record's newest state
	Revision int64 // record revision it produced; 0 when not applied
	// Origin is how the event came (models.OriginCallback or OriginPull).
	Origin string
	// PartCount is how many parts a message split into (see
	// vendors.Event.Parts): its workflow persists them with PersistParts.
	PartCount int
}

// Receive is the edge's claim check: it stores a callback's raw body before
// the callback is answered. A callback stored before (a redelivery) is a
// duplicate and changes nothing.
//
// On MySQL a redelivery is recognised by a plain read first: an insert that
// meets the existing row would wait for its lock, which a relay starting
// that very callback may hold for a while. On SQLite, which has no row
// locks and one writer, the callbacks stored at once are inserted in one
// transaction ahead of other writes (see sqlite.GroupCommit and
// insertInbound), a redelivery being an insert that changes nothing.
func (s *Store) Receive(ctx context.Context, in Inbound) (duplicate bool, err error) {
	if s.intake != nil {
		return s.intake.Do(ctx, in)
	}
	db := s.db.WithContext(ctx)
	var n int64
	if err := db.Model(&models.InboundEvent{}).Where("vendor = ? AND event_key = ?", in.Vendor, in.EventKey).Limit(1).Count(&n).Error; err != nil {
		return false, fmt.Errorf("look up %s callback: %w", in.Vendor, err)
	}
	if n > 0 {
		return true, nil
	}
	row := inboundRow(in, models.EventReceived, "")
	row.OccurredAt = row.ReceivedAt
	if err := db.Create(&row).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return true, nil // a concurrent delivery of the same callback stored it first
		}
		return false, fmt.Errorf("store %s callback: %w", in.Vendor, err)
	}
	return false, nil
}

// insertInbound is the write of the SQLite intake's group commit: it
// inserts a batch of callbacks in one urgent transaction; a callback stored
// before, or earlier in the batch, is a duplicate and changes nothing.
func (s *Store) insertInbound(ctx context.Context, batch []Inbound) ([]bool, error) {
	dups := make([]bool, len(batch))
	err := s.db.WithContext(sqlite.Urgent(ctx)).Transaction(func(tx *gorm.DB) error {
		for i, in := range batch {
			row := inboundRow(in, models.EventReceived, "")
			row.OccurredAt = row.ReceivedAt
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
			if res.Error != nil {
				return fmt.Errorf("store %s callback: %w", in.Vendor, res.Error)
			}
			dups[i] = res.RowsAffected == 0
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("store callback: the database did not take it within %s: %w", sqlite.GroupCommitTimeout, err)
		}
		return dups, err
	}
	return dups, nil
}

// Decoder turns a stored callback's body into its normalised event.
type Decoder func(body []byte) (*vendors.Event, error)

// ErrNoCallback says a workflow's claim check names no stored callback.
var ErrNoCallback = errors.New("no stored callback")

// Persist decodes the stored callback (in.Body when the run carries the body
// itself) and, if it is newer than the stored state of its record, makes it
// the record's newest state (raising the revision) and replaces the record's
// normalised rows, all in one transaction. Running it twice for the same
// event changes nothing and answers the same. A decoding error is returned
// as it is, with nothing written.
func (s *Store) Persist(ctx context.Context, in Inbound, decode Decoder) (Persisted, *vendors.Event, error) {
	var res Persisted
	var ev *vendors.Event
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row models.InboundEvent
		if err := tx.Where("vendor = ? AND event_key = ?", in.Vendor, in.EventKey).Limit(1).Find(&row).Error; err != nil {
			return fmt.Errorf("look up stored event: %w", err)
		}
		body := in.Body
		switch {
		case row.ID != 0 && row.ParentKey != "":
			// One part of a split message: it reads the message's body.
			parent, err := storedBody(tx, in.Vendor, row.ParentKey)
			if err != nil {
				return err
			}
			body = parent
		case row.ID != 0:
			body = row.Body
		case len(body) == 0:
			return fmt.Errorf("%w: %s", ErrNoCallback, flow.ClaimCheckFor(in.Vendor, in.EventKey))
		}
		var err error
		if ev, err = decode(body); err != nil {
			return err
		}
		switch {
		case row.ID != 0 && row.SyncStatus != models.EventReceived:
			// Persisted before (a retry after a commit whose answer was lost): answer as then.
			res = Persisted{Applied: row.Applied, Revision: row.Revision}
			if row.SyncStatus == models.EventSplit || len(ev.Parts) > 0 {
				res.PartCount = len(ev.Parts)
			}
		case len(ev.Parts) > 0:
			res, err = split(tx, in, row, ev)
		default:
			res, err = apply(tx, in, row, ev)
		}
		res.Origin = row.Origin
		if row.ID == 0 {
			res.Origin = models.OriginOf(in.Origin)
		}
		return err
		// READ COMMITTED on MySQL: the conditional UPDATE of the record's row
		// serialises concurrent events of one record, and every statement after
		// it must see what the previous one committed (under REPEATABLE READ the
		// transaction's older snapshot would hide the rows it has to replace).
	}, txOptions(s.db))
	if err != nil {
		return Persisted{}, nil, err
	}
	return res, ev, nil
}

// apply claims the stored callback (or stores it, for runs that carry the
// body), then raises its record by compare-and-set and replaces its rows.
func apply(tx *gorm.DB, in Inbound, row models.InboundEvent, ev *vendors.Event) (Persisted, error) {
	occurred := ev.OccurredAt
	if occurred.IsZero() {
		// The vendor gave no time for this state: when it reached us is the best we know.
		occurred = in.ReceivedAt
	}
	_, offset := occurred.Zone()
	data, err := encodeData(ev.Data)
	if err != nil {
		return Persisted{}, fmt.Errorf("encode normalised record: %w", err)
	}
	label := ev.Vendor + "/" + ev.Kind + "/" + ev.ExternalID
	if row, err = claim(tx, in, row, ev, occurred, models.EventPending); err != nil {
		return Persisted{}, err
	}

	// Make sure the record's row exists, then raise it only if this state is newer:
	// the conditional UPDATE is the compare-and-set that keeps the newest state.
	placeholder := models.RecordState{Vendor: ev.Vendor, Kind: ev.Kind, ExternalID: ev.ExternalID, Version: -1,
		OccurredAt: occurred.UTC(), SyncStatus: models.RecordPending}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&placeholder).Error; err != nil {
		return Persisted{}, fmt.Errorf("create record %s: %w", label, err)
	}
	up := tx.Model(&models.RecordState{}).
		Where("vendor = ? AND kind = ? AND external_id = ? AND version < ?", ev.Vendor, ev.Kind, ev.ExternalID, ev.Version).
		Updates(map[string]any{
			"version": ev.Version, "revision": gorm.Expr("revision + 1"), "event_key": ev.EventKey,
			"occurred_at": occurred.UTC(), "occurred_offset": offset, "data": string(data), "data_sha256": sha256Hex(data),
			"sync_status": models.RecordPending,
		})
	if up.Error != nil {
		return Persisted{}, fmt.Errorf("apply record %s: %w", label, up.Error)
	}
	if up.RowsAffected == 0 {
		return Persisted{}, tx.Model(&models.InboundEvent{}).Where("id = ?", row.ID).Updates(map[string]any{"sync_status": models.EventSuperseded, "sync_detail": "a newer state of the record was already stored"}).Error
	}
	var state models.RecordState
	if err := tx.Select("revision").Where("vendor = ? AND kind = ? AND external_id = ?", ev.Vendor, ev.Kind, ev.ExternalID).Take(&state).Error; err != nil {
		return Persisted{}, fmt.Errorf("load record %s: %w", label, err)
	}
	columnWarnings, err := replaceTables(tx, ev.Tables)
	if err != nil {
		return Persisted{}, fmt.Errorf("save normalised rows of %s: %w", label, err)
	}
	done := map[string]any{"applied": true, "revision": state.Revision}
	if len(columnWarnings) > 0 {
		ev.Warnings = append(ev.Warnings, columnWarnings...)
		done["warnings"] = warningsText(ev.Warnings)
	}
	err = tx.Model(&models.InboundEvent{}).Where("id = ?", row.ID).Updates(done).Error
	return Persisted{Applied: true, Revision: state.Revision}, err
}

// claim takes the stored callback for this run, moving it from received to
// status with what the decoder learned (or stores it, for runs that carry
// the body). The status guard is the claim: an attempt that got here first
// leaves no row to update, and this one is retried.
func claim(tx *gorm.DB, in Inbound, row models.InboundEvent, ev *vendors.Event, occurred time.Time, status models.EventStatus) (models.InboundEvent, error) {
	started := now()
	if row.ID == 0 {
		row = inboundRow(in, status, "")
		row.Kind, row.ExternalID, row.Version, row.OccurredAt, row.StartedAt = ev.Kind, ev.ExternalID, ev.Version, occurred.UTC(), &started
		row.Warnings = warningsText(ev.Warnings)
		if err := tx.Create(&row).Error; err != nil {
			return row, fmt.Errorf("store event: %w", err)
		}
		return row, nil
	}
	up := tx.Model(&models.InboundEvent{}).Where("id = ? AND sync_status = ?", row.ID, models.EventReceived).Updates(map[string]any{
		"kind": ev.Kind, "external_id": ev.ExternalID, "version": ev.Version, "occurred_at": occurred.UTC(),
		"workflow_id": in.WorkflowID, "sync_status": status, "started_at": gorm.Expr("COALESCE(started_at, ?)", started),
		"warnings": warningsText(ev.Warnings)})
	if up.Error != nil {
		return row, fmt.Errorf("claim stored event: %w", up.Error)
	}
	if up.RowsAffected == 0 {
		return row, fmt.Errorf("stored event %s was persisted concurrently; retry", flow.ClaimCheckFor(in.Vendor, in.EventKey))
	}
	return row, nil
}

// split marks a message that changes several records as split: applied to
// no record itself, its parts are persisted batch by batch by its workflow
// (see PersistParts), each as an event of its own.
func split(tx *gorm.DB, in Inbound, row models.InboundEvent, ev *vendors.Event) (Persisted, error) {
	occurred := ev.OccurredAt
	if occurred.IsZero() {
		occurred = in.ReceivedAt
	}
	row, err := claim(tx, in, row, ev, occurred, models.EventSplit)
	if err != nil {
		return Persisted{}, err
	}
	detail := fmt.Sprintf("split into %d events, one per record it changes", len(ev.Parts))
	if err := tx.Model(&models.InboundEvent{}).Where("id = ?", row.ID).Update("sync_detail", detail).Error; err != nil {
		return Persisted{}, fmt.Errorf("mark event %s split: %w", flow.ClaimCheckFor(in.Vendor, in.EventKey), err)
	}
	return Persisted{PartCount: len(ev.Parts)}, nil
}

// PartPersisted is what PersistParts did with one part of a split message.
type PartPersisted struct {
	EventKey   string
	Kind       string
	ExternalID string
	Applied    bool  // the part's state became its record's newest
	Revision   int64 // the record revision it produced; 0 when not applied
}

// PersistParts persists the parts [from, to) of the split message msg,
// decoded as ev, in one transaction: their events' rows are inserted in one
// statement, and each part, in the order of its record's key (so two
// messages' batches lock records in the same order), is applied to its
// record as Persist applies an event: only if newer, by compare-and-set,
// with its rows replaced. A part persisted before (a retried batch) answers
// as it did then, so running a batch twice changes nothing.
func (s *Store) PersistParts(ctx context.Context, msg Inbound, ev *vendors.Event, from, to int) ([]PartPersisted, error) {
	if from < 0 || to > len(ev.Parts) || from >= to {
		return nil, fmt.Errorf("persist parts [%d, %d) of %s: it has %d", from, to, flow.ClaimCheckFor(msg.Vendor, msg.EventKey), len(ev.Parts))
	}
	occurred := ev.OccurredAt
	if occurred.IsZero() {
		occurred = msg.ReceivedAt
	}
	out := make([]PartPersisted, to-from)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var parent models.InboundEvent
		if err := tx.Select("id", "body_sha256").Where("vendor = ? AND event_key = ?", msg.Vendor, msg.EventKey).Limit(1).Find(&parent).Error; err != nil {
			return fmt.Errorf("look up split event: %w", err)
		}
		if parent.ID == 0 {
			return fmt.Errorf("%w: %s", ErrNoCallback, flow.ClaimCheckFor(msg.Vendor, msg.EventKey))
		}
		started := now()
		keys := make([]string, to-from)
		rows := make([]models.InboundEvent, to-from)
		for i := range rows {
			p := ev.Parts[from+i]
			keys[i] = vendors.PartKey(ev.EventKey, p.Key)
			at := p.OccurredAt
			if at.IsZero() {
				at = occurred
			}
			rows[i] = models.InboundEvent{
				Vendor: msg.Vendor, EventKey: keys[i], EventType: msg.EventType, ParentKey: msg.EventKey,
				Kind: p.Kind, ExternalID: p.ExternalID, Version: p.Version, OccurredAt: at.UTC(),
				Body: []byte{}, BodySHA256: parent.BodySHA256, WorkflowID: msg.WorkflowID,
				SyncStatus: models.EventReceived, ReceivedAt: msg.ReceivedAt.UTC(), StartedAt: &started,
			}
		}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(&rows, batchSize).Error; err != nil {
			return fmt.Errorf("store parts [%d, %d) of %s: %w", from, to, flow.ClaimCheckFor(msg.Vendor, msg.EventKey), err)
		}
		var stored []models.InboundEvent
		if err := tx.Where("vendor = ? AND event_key IN ?", msg.Vendor, keys).Find(&stored).Error; err != nil {
			return fmt.Errorf("read back parts of %s: %w", flow.ClaimCheckFor(msg.Vendor, msg.EventKey), err)
		}
		byKey := make(map[string]models.InboundEvent, len(stored))
		for _, r := range stored {
			byKey[r.EventKey] = r
		}
		order := make([]int, len(keys))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool {
			pa, pb := ev.Parts[from+order[a]], ev.Parts[from+order[b]]
			return pa.Kind+"\x00"+pa.ExternalID < pb.Kind+"\x00"+pb.ExternalID
		})
		for _, i := range order {
			p := ev.Parts[from+i]
			row, ok := byKey[keys[i]]
			if !ok {
				return fmt.Errorf("part %s of %s was not stored", keys[i], flow.ClaimCheckFor(msg.Vendor, msg.EventKey))
			}
			out[i] = PartPersisted{EventKey: keys[i], Kind: p.Kind, ExternalID: p.ExternalID}
			if row.SyncStatus != models.EventReceived {
				out[i].Applied, out[i].Revision = row.Applied, row.Revision
				continue
			}
			part := ev.PartEvent(from + i)
			in := Inbound{Vendor: msg.Vendor, EventKey: keys[i], EventType: msg.EventType, WorkflowID: msg.WorkflowID, ReceivedAt: msg.ReceivedAt}
			res, err := apply(tx, in, row, part)
			if err != nil {
				return fmt.Errorf("part %s: %w", keys[i], err)
			}
			out[i].Applied, out[i].Revision = res.Applied, res.Revision
		}
		return nil
	}, txOptions(s.db))
	if err != nil {
		return nil, err
	}
	return out, nil
}

// storedBody reads the raw body of a stored callback.
func storedBody(tx *gorm.DB, vendor, eventKey string) ([]byte, error) {
	var row models.InboundEvent
	if err := tx.Select("id", "body").Where("vendor = ? AND event_key = ?", vendor, eventKey).Limit(1).Find(&row).Error; err != nil {
		return nil, fmt.Errorf("look up stored event: %w", err)
	}
	if row.ID == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoCallback, flow.ClaimCheckFor(vendor, eventKey))
	}
	return row.Body, nil
}

// encodeData is a record's data as stored and sent: JSON without HTML
// escaping, so text the vendor sent ("<", "&") keeps its size and form.
func encodeData(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// warningsText is the stored form of an event's warnings: a JSON array of
// strings, or "" when there are none.
func warningsText(warnings []string) string {
	if len(warnings) == 0 {
		return ""
	}
	b, err := json.Marshal(warnings)
	if err != nil { // a []string always marshals
		return ""
	}
	return string(b)
}

// KeepInvalid marks a stored callback whose content failed verification (or
// stores it, for runs that carry the body), so an operator can inspect it.
// Marking it twice is a no-op.
func (s *Store) KeepInvalid(ctx context.Context, in Inbound, problem string) error {
	db := s.db.WithContext(ctx)
	up := db.Model(&models.InboundEvent{}).Where("vendor = ? AND event_key = ? AND sync_status = ?", in.Vendor, in.EventKey, models.EventReceived).
		Updates(map[string]any{"kind": "invalid", "sync_status": models.EventInvalid, "sync_detail": Truncate(problem, detailLimit),
			"workflow_id": in.WorkflowID, "started_at": gorm.Expr("COALESCE(started_at, ?)", now())})
	if up.Error != nil {
		return fmt.Errorf("mark invalid %s event: %w", in.Vendor, up.Error)
	}
	if up.RowsAffected > 0 || len(in.Body) == 0 {
		return nil
	}
	row := inboundRow(in, models.EventInvalid, problem)
	row.Kind, row.OccurredAt = "invalid", in.ReceivedAt.UTC()
	if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
		return fmt.Errorf("store invalid %s event: %w", in.Vendor, err)
	}
	return nil
}

// inboundRow is the inbound_events row that stores in.
func inboundRow(in Inbound, status models.EventStatus, detail string) models.InboundEvent {
	return models.InboundEvent{
		Origin: models.OriginOf(in.Origin),
		Vendor: in.Vendor, EventKey: in.EventKey, EventType: in.EventType, BodySHA256: sha256Hex(in.Body), Body: in.Body,
		WorkflowID: in.WorkflowID, SyncStatus: status, SyncDetail: Truncate(detail, detailLimit), ReceivedAt: in.ReceivedAt.UTC(),
		TraceParent: in.TraceParent,
	}
}

// replaceTables writes each table's rows of a record state: the rows Match
// selects are deleted, then Rows are inserted. The DELETE is skipped when
// nothing matches: on MySQL a DELETE that matches nothing still takes a gap
// lock, which makes concurrent first saves of different records deadlock.
// A decimal that does not fit its column is written as NULL (see
// fitDecimals), a text longer than its VARCHAR column is cut (see fitText);
// the warnings saying so are returned.
func replaceTables(tx *gorm.DB, tables []vendors.Table) ([]string, error) {
	var warnings []string
	for _, t := range tables {
		var n int64
		if err := tx.Model(t.Model).Where(t.Match).Count(&n).Error; err != nil {
			return nil, fmt.Errorf("count %T rows: %w", t.Model, err)
		}
		if n > 0 {
			if err := tx.Where(t.Match).Delete(t.Model).Error; err != nil {
				return nil, fmt.Errorf("delete older %T rows: %w", t.Model, err)
			}
		}
		if t.Rows == nil || reflect.ValueOf(t.Rows).Len() == 0 {
			continue
		}
		w, err := fitDecimals(tx, t.Model, t.Rows)
		if err != nil {
			return nil, err
		}
		warnings = append(warnings, w...)
		if w, err = fitText(tx, t.Model, t.Rows); err != nil {
			return nil, err
		}
		warnings = append(warnings, w...)
		if err := tx.CreateInBatches(t.Rows, batchSize).Error; err != nil {
			return nil, fmt.Errorf("insert %T rows: %w", t.Model, err)
		}
	}
	return warnings, nil
}

// Record loads the stored state of one record.
func (s *Store) Record(ctx context.Context, vendor, kind, externalID string) (models.RecordState, error) {
	var st models.RecordState
	err := s.db.WithContext(ctx).Where("vendor = ? AND kind = ? AND external_id = ?", vendor, kind, externalID).Take(&st).Error
	if err != nil {
		return st, fmt.Errorf("load record %s/%s/%s: %w", vendor, kind, externalID, err)
	}
	return st, nil
}

// AddAttempt keeps one ERP answer for audit.
func (s *Store) AddAttempt(ctx context.Context, a models.SyncAttempt) error {
	a.Detail = Truncate(a.Detail, detailLimit)
	a.ERPDocumentID, a.ERPDocumentNumber = documentColumns(a.ERPDocumentID, a.ERPDocumentNumber)
	return s.db.WithContext(ctx).Create(&a).Error
}

// MarkFailed notes a failed send of a record: its status and last error.
// A rejection (status rejected) also marks the events waiting for this
// state rejected, with the reason, until a retry or a skip settles them.
func (s *Store) MarkFailed(ctx context.Context, st models.RecordState, status models.RecordStatus, lastErr string) error {
	lastErr = Truncate(lastErr, detailLimit)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&models.RecordState{}).Where("id = ?", st.ID).
			Updates(map[string]any{"last_error": lastErr, "sync_status": status}).Error; err != nil {
			return err
		}
		if status != models.RecordRejected {
			return nil
		}
		return tx.Model(&models.InboundEvent{}).
			Where("kind = ? AND external_id = ? AND vendor = ? AND applied = ? AND revision > ? AND revision <= ? AND sync_status = ?",
				st.Kind, st.ExternalID, st.Vendor, true, st.SyncedRevision, st.Revision, models.EventPending).
			Updates(map[string]any{"sync_status": models.EventRejected, "sync_detail": lastErr}).Error
	})
	if err != nil {
		return fmt.Errorf("record failed send of %s/%s/%s: %w", st.Vendor, st.Kind, st.ExternalID, err)
	}
	return nil
}

// MarkSynced notes that the ERP accepted revision st.Revision, and returns
// the record's current and synced revisions read afterwards. In the same
// transaction it settles the record's events that were waiting: the one
// that produced that revision is synced, older ones superseded (the ERP
// never received them, and never will: it has a newer state). The ERP's
// document (st.ERPDocumentID and ERPDocumentNumber, set by the caller from
// the ERP's answer) is kept when the ERP told one.
func (s *Store) MarkSynced(ctx context.Context, st models.RecordState) (current, synced int64, err error) {
	var cur models.RecordState
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		at := now()
		updates := map[string]any{
			"synced_revision": st.Revision, "synced_version": st.Version, "synced_at": at, "last_error": "",
			"sync_status": gorm.Expr("CASE WHEN revision = ? THEN ? ELSE ? END", st.Revision, models.RecordSynced, models.RecordPending),
		}
		addDocument(updates, st.ERPDocumentID, st.ERPDocumentNumber)
		up := tx.Model(&models.RecordState{}).Where("id = ? AND synced_revision < ?", st.ID, st.Revision).Updates(updates)
		if up.Error != nil {
			return up.Error
		}
		if up.RowsAffected > 0 {
			superseded := fmt.Sprintf("the ERP has revision %d, newer than this event's", st.Revision)
			if err := settleEvents(tx, st.Vendor, st.Kind, st.ExternalID, st.Revision, map[string]any{
				"sync_status": gorm.Expr("CASE WHEN revision = ? THEN ? ELSE ? END", st.Revision, models.EventSynced, models.EventSuperseded),
				"sync_detail": gorm.Expr("CASE WHEN revision = ? THEN ? ELSE ? END", st.Revision, "", superseded),
				"synced_at":   gorm.Expr("CASE WHEN revision = ? THEN ? ELSE synced_at END", st.Revision, at),
			}); err != nil {
				return err
			}
		}
		return tx.Select("revision", "synced_revision").Where("id = ?", st.ID).Take(&cur).Error
	})
	if err != nil {
		return 0, 0, fmt.Errorf("record sync of %s/%s/%s: %w", st.Vendor, st.Kind, st.ExternalID, err)
	}
	return cur.Revision, cur.SyncedRevision, nil
}

// settleEvents gives the outcome updates to a record's applied events at
// or below revision that still wait for one (pending, or rejected and so
// waiting for an operator). Events already settled keep their outcome.
func settleEvents(tx *gorm.DB, vendor, kind, externalID string, revision int64, updates map[string]any) error {
	return tx.Model(&models.InboundEvent{}).
		Where("kind = ? AND external_id = ? AND vendor = ? AND applied = ? AND revision <= ? AND sync_status IN ?",
			kind, externalID, vendor, true, revision, []models.EventStatus{models.EventPending, models.EventRejected}).
		Updates(updates).Error
}

// MarkSkipped records an operator's decision not to send a rejected
// revision; the events waiting for it, or for an older one, are skipped too.
func (s *Store) MarkSkipped(ctx context.Context, in flow.SkipInput) error {
	reason := Truncate(in.Reason, detailLimit)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&models.RecordState{}).
			Where("vendor = ? AND kind = ? AND external_id = ? AND synced_revision < ?", in.Vendor, in.Kind, in.ExternalID, in.Revision).
			Updates(map[string]any{"synced_revision": in.Revision, "sync_status": models.RecordSkipped,
				"last_error": Truncate("skipped: "+in.Reason, detailLimit)}).Error; err != nil {
			return err
		}
		if err := settleEvents(tx, in.Vendor, in.Kind, in.ExternalID, in.Revision, map[string]any{"sync_status": models.EventSkipped, "sync_detail": reason}); err != nil {
			return err
		}
		return tx.Create(&models.SyncAttempt{Vendor: in.Vendor, Kind: in.Kind, ExternalID: in.ExternalID, Revision: in.Revision,
			IdempotencyKey: "-", Outcome: models.AttemptSkipped, Detail: reason}).Error
	})
	if err != nil {
		return fmt.Errorf("mark %s/%s/%s revision %d skipped: %w", in.Vendor, in.Kind, in.ExternalID, in.Revision, err)
	}
	return nil
}

// Stale is a record whose newest state is not at the ERP and that nothing
// has touched for a while (see ClaimStaleRecords).
type Stale struct {
	ID         uint64
	Vendor     string
	Kind       string
	ExternalID string
	Revision   int64
}

// ClaimStaleRecords returns up to limit records whose newest state waits to
// be sent (pending) and that nothing has written since before: a record
// workflow working on one writes it at least at every send attempt, so
// these have none (an operator terminated it, say, or Temporal lost it).
// Each one returned is claimed: its row is marked as looked at now, so the
// next call, in this process or another, skips it for as long again.
func (s *Store) ClaimStaleRecords(ctx context.Context, before time.Time, limit int) ([]Stale, error) {
	var out []Stale
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx.Model(&models.RecordState{}).Select("id", "vendor", "kind", "external_id", "revision").
			Where("sync_status = ? AND updated_at < ? AND version >= 0 AND revision > synced_revision", models.RecordPending, before).
			Order("updated_at").Limit(limit)
		if tx.Dialector.Name() == "mysql" {
			q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
		}
		if err := q.Find(&out).Error; err != nil || len(out) == 0 {
			return err
		}
		ids := make([]uint64, len(out))
		for i, r := range out {
			ids[i] = r.ID
		}
		return tx.Model(&models.RecordState{}).Where("id IN ?", ids).Update("updated_at", now()).Error
	}, txOptions(s.db))
	if err != nil {
		return nil, fmt.Errorf("find records waiting with no workflow: %w", err)
	}
	return out, nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Truncate cuts s to at most n bytes on a rune boundary.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

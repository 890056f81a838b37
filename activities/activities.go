// Package activities holds erpbridge's Temporal activities: everything that
// touches the database, the ERP or Temporal on a workflow's behalf.
package activities

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/internal/metrics"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/vendors/autox3"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong"
)

// ERPSender sends one record to the ERP; *erp.Client is the production one.
type ERPSender interface {
	Send(ctx context.Context, r erp.Record) (erp.Result, error)
}

// Activities carries the dependencies of every activity. Workflows call its
// methods through a nil *Activities so the compiler checks each reference.
type Activities struct {
	DB        *gorm.DB
	ERP       ERPSender
	Temporal  client.Client
	TaskQueue string
	Policy    flow.SyncPolicy
	// RecordIdleTimeout is passed to record workflows started by NotifyRecord (zero: their default).
	RecordIdleTimeout time.Duration
	Metrics           *metrics.Metrics
	Logger            *slog.Logger
}

// Decode parses and validates a vendor's callback body into a normalised event.
func Decode(vendor string, body []byte) (*vendors.Event, error) {
	switch vendor {
	case vendors.AutoX3:
		return autox3.Decode(body)
	case vendors.Fenbeitong:
		return fenbeitong.Decode(body)
	default:
		return nil, vendors.Invalid("vendor", "unknown vendor %q", vendor)
	}
}

// decodeForActivity maps a content problem to a non-retryable, typed failure.
func decodeForActivity(in flow.EventInput) (*vendors.Event, error) {
	ev, err := Decode(in.Vendor, []byte(in.Body))
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), flow.ErrInvalidContent, err)
	}
	if ev.EventKey != in.EventKey {
		err := fmt.Errorf("event key %q derived from the body does not match the workflow's %q", ev.EventKey, in.EventKey)
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), flow.ErrInvalidContent, err)
	}
	return ev, nil
}

// Verify checks the content of a callback (schema and business rules) and
// summarises it. Invalid content fails with the non-retryable ErrInvalidContent.
func (a *Activities) Verify(ctx context.Context, in flow.EventInput) (flow.EventSummary, error) {
	ev, err := decodeForActivity(in)
	if err != nil {
		return flow.EventSummary{}, err
	}
	return flow.EventSummary{Kind: ev.Kind, ExternalID: ev.ExternalID, Version: ev.Version, OccurredAt: ev.OccurredAt, Generic: ev.Save == nil && ev.Kind == "event"}, nil
}

// Persist stores the raw event and, if it is newer than the stored state of
// its record, makes it the record's newest state (raising the revision) and
// writes its normalised rows, all in one transaction. Running it twice for
// the same event changes nothing and answers the same.
func (a *Activities) Persist(ctx context.Context, in flow.PersistInput) (flow.PersistResult, error) {
	ev, err := decodeForActivity(in.Event)
	if err != nil {
		return flow.PersistResult{}, err
	}
	if ev.OccurredAt.IsZero() {
		// The vendor gave no time for this state: when it reached us is the best we know.
		ev.OccurredAt = in.Event.ReceivedAt
	}
	data, err := json.Marshal(ev.Data)
	if err != nil {
		return flow.PersistResult{}, temporal.NewNonRetryableApplicationError("encode normalised record: "+err.Error(), flow.ErrInvalidContent, err)
	}
	bodySum := sha256.Sum256([]byte(in.Event.Body))
	dataSum := sha256.Sum256(data)
	res := flow.PersistResult{Kind: ev.Kind, ExternalID: ev.ExternalID, Version: ev.Version}

	err = a.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row := models.InboundEvent{
			Vendor: ev.Vendor, EventKey: ev.EventKey, EventType: ev.EventType, Kind: ev.Kind, ExternalID: ev.ExternalID,
			Version: ev.Version, OccurredAt: ev.OccurredAt.UTC(), BodySHA256: hex.EncodeToString(bodySum[:]), Body: []byte(in.Event.Body),
			WorkflowID: in.WorkflowID, SyncStatus: flow.StatusPending, ReceivedAt: in.Event.ReceivedAt.UTC(),
		}
		// Stored before (a redelivery after retention, or this activity's
		// retry after a commit whose answer was lost): answer as then. The
		// unique index on (vendor, event_key) turns a racing second insert
		// into a duplicate-key error, retried by Temporal into this branch.
		var prior models.InboundEvent
		err := tx.Where("vendor = ? AND event_key = ?", ev.Vendor, ev.EventKey).Limit(1).Find(&prior).Error
		if err != nil {
			return fmt.Errorf("look up stored event: %w", err)
		}
		if prior.ID != 0 {
			res.Applied, res.Revision = prior.Applied, prior.Revision
			return nil
		}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("store event: %w", err)
		}

		// Make sure the record's row exists, then raise it only if this state is newer:
		// the conditional UPDATE is the compare-and-set that keeps the newest state.
		placeholder := models.RecordState{Vendor: ev.Vendor, Kind: ev.Kind, ExternalID: ev.ExternalID, Version: -1,
			OccurredAt: ev.OccurredAt.UTC(), SyncStatus: flow.StatusPending}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&placeholder).Error; err != nil {
			return fmt.Errorf("create record %s/%s/%s: %w", ev.Vendor, ev.Kind, ev.ExternalID, err)
		}
		up := tx.Model(&models.RecordState{}).
			Where("vendor = ? AND kind = ? AND external_id = ? AND version < ?", ev.Vendor, ev.Kind, ev.ExternalID, ev.Version).
			Updates(map[string]any{
				"version": ev.Version, "revision": gorm.Expr("revision + 1"), "event_key": ev.EventKey,
				"occurred_at": ev.OccurredAt.UTC(), "data": string(data), "data_sha256": hex.EncodeToString(dataSum[:]),
				"sync_status": flow.StatusPending,
			})
		if up.Error != nil {
			return fmt.Errorf("apply record %s/%s/%s: %w", ev.Vendor, ev.Kind, ev.ExternalID, up.Error)
		}
		if up.RowsAffected == 0 {
			return tx.Model(&models.InboundEvent{}).Where("id = ?", row.ID).Update("sync_status", flow.StatusSuperseded).Error
		}
		var state models.RecordState
		if err := tx.Where("vendor = ? AND kind = ? AND external_id = ?", ev.Vendor, ev.Kind, ev.ExternalID).Take(&state).Error; err != nil {
			return fmt.Errorf("load record: %w", err)
		}
		if ev.Save != nil {
			if err := ev.Save(tx); err != nil {
				return fmt.Errorf("save normalised %s %s: %w", ev.Kind, ev.ExternalID, err)
			}
		}
		res.Applied, res.Revision = true, state.Revision
		return tx.Model(&models.InboundEvent{}).Where("id = ?", row.ID).
			Updates(map[string]any{"applied": true, "revision": state.Revision}).Error
	}, persistTxOptions(a.DB))
	if err != nil {
		return flow.PersistResult{}, fmt.Errorf("persist %s event: %w", in.Event.Vendor, err)
	}
	if a.Metrics != nil {
		a.Metrics.Persisted.WithLabelValues(ev.Vendor, strconv.FormatBool(res.Applied)).Inc()
	}
	return res, nil
}

// RecordInvalid keeps the raw body of a callback whose content failed
// verification, so an operator can inspect it; the workflow still fails.
func (a *Activities) RecordInvalid(ctx context.Context, in flow.InvalidInput) error {
	sum := sha256.Sum256([]byte(in.Event.Body))
	row := models.InboundEvent{
		Vendor: in.Event.Vendor, EventKey: in.Event.EventKey, EventType: in.Event.EventType, Kind: "invalid",
		OccurredAt: in.Event.ReceivedAt.UTC(), BodySHA256: hex.EncodeToString(sum[:]), Body: []byte(in.Event.Body),
		WorkflowID: in.WorkflowID, SyncStatus: flow.StatusInvalid, SyncDetail: truncate(in.Problem, 1024), ReceivedAt: in.Event.ReceivedAt.UTC(),
	}
	if err := a.DB.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
		return fmt.Errorf("store invalid %s event: %w", in.Event.Vendor, err)
	}
	return nil
}

// NotifyRecord tells the record's workflow that a newer revision was
// persisted, starting that workflow if it is not running (signal-with-start).
func (a *Activities) NotifyRecord(ctx context.Context, in flow.NotifyInput) error {
	id := flow.RecordWorkflowID(in.Vendor, in.Kind, in.ExternalID)
	opts := client.StartWorkflowOptions{
		ID:        id,
		TaskQueue: a.TaskQueue,
		// A closed record workflow is started afresh: its state lives in the database.
		WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			flow.AttrVendor.ValueSet(in.Vendor), flow.AttrEventType.ValueSet(in.Kind),
			flow.AttrOrderID.ValueSet(in.ExternalID), flow.AttrSyncStatus.ValueSet(flow.StatusPending)),
		Memo: map[string]any{"record": in.Vendor + "/" + in.Kind},
	}
	input := flow.RecordInput{Vendor: in.Vendor, Kind: in.Kind, ExternalID: in.ExternalID, Policy: a.Policy, IdleTimeout: a.RecordIdleTimeout}
	sig := flow.PersistedSignal{Revision: in.Revision, EventWorkflowID: in.EventWorkflowID}
	if _, err := a.Temporal.SignalWithStartWorkflow(ctx, id, flow.SignalPersisted, sig, opts, flow.RecordWorkflowName, input); err != nil {
		return fmt.Errorf("signal-with-start %s: %w", id, err)
	}
	return nil
}

// SyncRecord sends the newest persisted state of a record to the ERP, unless
// the ERP already has it. An ERP rejection fails with the non-retryable
// ErrERPRejected carrying a flow.Rejection; anything else retryable is retried
// by Temporal with backoff.
func (a *Activities) SyncRecord(ctx context.Context, in flow.SyncInput) (flow.SyncResult, error) {
	attempt := activity.GetInfo(ctx).Attempt
	db := a.DB.WithContext(ctx)
	var st models.RecordState
	if err := db.Where("vendor = ? AND kind = ? AND external_id = ?", in.Vendor, in.Kind, in.ExternalID).Take(&st).Error; err != nil {
		return flow.SyncResult{}, fmt.Errorf("load record %s/%s/%s: %w", in.Vendor, in.Kind, in.ExternalID, err)
	}
	res := flow.SyncResult{SyncedRevision: st.SyncedRevision, CurrentRevision: st.Revision, Attempt: attempt}
	if st.Revision <= st.SyncedRevision || st.Version < 0 {
		return res, nil
	}
	rec := erp.Record{Source: st.Vendor, Kind: st.Kind, ExternalID: st.ExternalID, Version: st.Version,
		OccurredAt: st.OccurredAt, Data: json.RawMessage(st.Data)}
	if loc := occurredLocation(st.Vendor); loc != nil {
		rec.OccurredAt = rec.OccurredAt.In(loc)
	}
	key := erp.IdempotencyKey(rec)
	started := time.Now()
	sent, sendErr := a.ERP.Send(ctx, rec)
	outcome, status, detail := "accepted", sent.Status, ""
	var erpErr *erp.Error
	switch {
	case sendErr == nil && sent.Duplicate:
		outcome = "duplicate"
	case sendErr == nil:
	case errors.As(sendErr, &erpErr) && !erpErr.Retryable:
		outcome, status, detail = "rejected", erpErr.Status, erpErr.Reason
	case errors.As(sendErr, &erpErr):
		outcome, status, detail = "retry", erpErr.Status, sendErr.Error()
	default:
		outcome, detail = "retry", sendErr.Error()
	}
	if a.Metrics != nil {
		a.Metrics.ERPSyncs.WithLabelValues(rec.Source, rec.Kind, outcome).Inc()
		a.Metrics.ERPSyncSeconds.WithLabelValues(outcome).Observe(time.Since(started).Seconds())
	}
	attemptRow := models.SyncAttempt{Vendor: st.Vendor, Kind: st.Kind, ExternalID: st.ExternalID, Revision: st.Revision,
		Version: st.Version, IdempotencyKey: key, Outcome: outcome, HTTPStatus: status, Detail: truncate(detail, 1024)}
	if err := db.Create(&attemptRow).Error; err != nil && a.Logger != nil {
		a.Logger.WarnContext(ctx, "could not record ERP attempt", "record", in.Kind, "error", err)
	}

	if sendErr != nil {
		_ = db.Model(&models.RecordState{}).Where("id = ?", st.ID).Updates(map[string]any{
			"last_error": truncate(sendErr.Error(), 1024), "sync_status": syncStatusFor(outcome)}).Error
		if outcome == "rejected" {
			rej := flow.Rejection{Revision: st.Revision, Version: st.Version, HTTPStatus: status, Reason: sendErr.Error(), Attempts: int(attempt)}
			return res, temporal.NewNonRetryableApplicationError(sendErr.Error(), flow.ErrERPRejected, sendErr, rej)
		}
		if erpErr != nil && erpErr.RetryAfter > 0 {
			return res, temporal.NewApplicationErrorWithOptions(sendErr.Error(), "ERPUnavailable",
				temporal.ApplicationErrorOptions{Cause: sendErr, NextRetryDelay: erpErr.RetryAfter})
		}
		return res, fmt.Errorf("send %s/%s/%s revision %d: %w", st.Vendor, st.Kind, st.ExternalID, st.Revision, sendErr)
	}

	now := time.Now().UTC()
	if err := db.Model(&models.RecordState{}).Where("id = ? AND synced_revision < ?", st.ID, st.Revision).Updates(map[string]any{
		"synced_revision": st.Revision, "synced_version": st.Version, "synced_at": now, "last_error": "",
		"sync_status": gorm.Expr("CASE WHEN revision = ? THEN ? ELSE ? END", st.Revision, flow.StatusSynced, flow.StatusPending),
	}).Error; err != nil {
		// The ERP has it; the send is repeated (same idempotency key) once the database is back.
		return res, fmt.Errorf("record sync of %s/%s/%s: %w", st.Vendor, st.Kind, st.ExternalID, err)
	}
	var cur models.RecordState
	if err := db.Select("revision", "synced_revision").Where("id = ?", st.ID).Take(&cur).Error; err != nil {
		return res, fmt.Errorf("reload record: %w", err)
	}
	res.Sent, res.SentRevision, res.SentVersion = true, st.Revision, st.Version
	res.SyncedRevision, res.CurrentRevision = cur.SyncedRevision, cur.Revision
	return res, nil
}

// MarkSkipped records an operator's decision not to send a rejected revision.
func (a *Activities) MarkSkipped(ctx context.Context, in flow.SkipInput) error {
	db := a.DB.WithContext(ctx)
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&models.RecordState{}).
			Where("vendor = ? AND kind = ? AND external_id = ? AND synced_revision < ?", in.Vendor, in.Kind, in.ExternalID, in.Revision).
			Updates(map[string]any{"synced_revision": in.Revision, "sync_status": flow.StatusSkipped, "last_error": truncate("skipped: "+in.Reason, 1024)}).Error; err != nil {
			return err
		}
		return tx.Create(&models.SyncAttempt{Vendor: in.Vendor, Kind: in.Kind, ExternalID: in.ExternalID, Revision: in.Revision,
			IdempotencyKey: "-", Outcome: flow.StatusSkipped, Detail: truncate(in.Reason, 1024)}).Error
	})
	if err != nil {
		return fmt.Errorf("mark %s/%s/%s revision %d skipped: %w", in.Vendor, in.Kind, in.ExternalID, in.Revision, err)
	}
	return nil
}

// RecordEventOutcome stores what became of an event at the ERP.
func (a *Activities) RecordEventOutcome(ctx context.Context, in flow.OutcomeInput) error {
	updates := map[string]any{"sync_status": in.Status, "sync_detail": truncate(in.Detail, 1024)}
	if in.Status == flow.StatusSynced {
		updates["synced_at"] = time.Now().UTC()
	}
	err := a.DB.WithContext(ctx).Model(&models.InboundEvent{}).
		Where("vendor = ? AND event_key = ?", in.Vendor, in.EventKey).Updates(updates).Error
	if err != nil {
		return fmt.Errorf("record outcome of %s event: %w", in.Vendor, err)
	}
	return nil
}

// persistTxOptions runs Persist at READ COMMITTED on MySQL: the conditional
// UPDATE of the record's row serialises concurrent events of one record, and
// every statement after it must see what the previous one committed (under
// REPEATABLE READ the transaction's older snapshot would hide the rows its
// Save has to replace). SQLite transactions are serialisable already.
func persistTxOptions(db *gorm.DB) *sql.TxOptions {
	if db.Dialector.Name() == "mysql" {
		return &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	}
	return nil
}

func syncStatusFor(outcome string) string {
	if outcome == "rejected" {
		return flow.StatusRejected
	}
	return flow.StatusPending
}

// occurredLocation is the zone a vendor's times are reported in at the ERP.
func occurredLocation(vendor string) *time.Location {
	if vendor == vendors.Fenbeitong {
		return time.FixedZone("CST", 8*3600)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

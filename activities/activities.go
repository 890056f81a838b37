// Package activities holds erpbridge's Temporal activities: everything that
// touches the database, the ERP or Temporal on a workflow's behalf.
package activities

import (
	"context"
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

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/metrics"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/store"
	"github.com/erpbridge/erpbridge/vendors"
)

// ERPSender sends one record to the ERP; *erp.Client is the production one.
type ERPSender interface {
	Send(ctx context.Context, r erp.Record) (erp.Result, error)
}

// Activities carries the dependencies of every activity. Workflows call its
// methods through a nil *Activities so the compiler checks each reference.
type Activities struct {
	Store     *store.Store
	Vendors   *vendors.Registry
	ERP       ERPSender
	Temporal  client.Client
	TaskQueue string
	Policy    flow.SyncPolicy
	Metrics   *metrics.Metrics
	Logger    *slog.Logger
}

// decode decodes an event's body with its vendor's decoder, once per
// activity attempt; a content problem is a non-retryable, typed failure.
func (a *Activities) decode(in flow.EventInput, body []byte) (*vendors.Event, error) {
	ev, err := a.Vendors.Decode(in.Vendor, body)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), flow.ErrInvalidContent, err)
	}
	if ev.EventKey != in.EventKey {
		// One part of a message that changes several records: its own event.
		if part, ok := ev.Part(in.EventKey); ok {
			return part, nil
		}
		err := fmt.Errorf("event key %q derived from the body does not match the workflow's %q", ev.EventKey, in.EventKey)
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), flow.ErrInvalidContent, err)
	}
	return ev, nil
}

// Persist verifies a callback's content (schema and business rules; invalid
// content fails with the non-retryable ErrInvalidContent) and stores it: it
// reads the body the edge stored (the claim check), and, if the event is
// newer than the stored state of its record, makes it the record's newest
// state with its normalised rows, in one transaction (see store.Persist).
// Verification is not a step of its own: it would read and decode the same
// body a second time and fail the same way. Running Persist twice for the
// same event changes nothing and answers the same.
func (a *Activities) Persist(ctx context.Context, in flow.PersistInput) (flow.PersistResult, error) {
	p, ev, err := a.Store.Persist(ctx, inbound(in.Event, in.WorkflowID), func(body []byte) (*vendors.Event, error) {
		return a.decode(in.Event, body)
	})
	if errors.Is(err, store.ErrNoCallback) {
		return flow.PersistResult{}, temporal.NewNonRetryableApplicationError(err.Error(), flow.ErrCallbackMissing, err)
	}
	if err != nil {
		return flow.PersistResult{}, err
	}
	if a.Metrics != nil {
		a.Metrics.Persisted.WithLabelValues(ev.Vendor, strconv.FormatBool(p.Applied)).Inc()
	}
	if len(ev.Warnings) > 0 && a.Logger != nil {
		// Warnings name fields, never values; the list is kept in inbound_events.warnings.
		a.Logger.WarnContext(ctx, "callback kept with warnings", "vendor", ev.Vendor, "event_type", ev.EventType,
			"workflow_id", in.WorkflowID, "warnings", len(ev.Warnings))
	}
	return flow.PersistResult{Kind: ev.Kind, ExternalID: ev.ExternalID, Version: ev.Version, Generic: ev.Generic,
		Applied: p.Applied, Revision: p.Revision, Parts: p.Parts}, nil
}

// RecordInvalid keeps the raw body of a callback whose content failed
// verification, so an operator can inspect it; the workflow still fails.
func (a *Activities) RecordInvalid(ctx context.Context, in flow.InvalidInput) error {
	return a.Store.KeepInvalid(ctx, inbound(in.Event, in.WorkflowID), in.Problem)
}

func inbound(in flow.EventInput, workflowID string) store.Inbound {
	return store.Inbound{Vendor: in.Vendor, EventKey: in.EventKey, EventType: in.EventType,
		WorkflowID: workflowID, ReceivedAt: in.ReceivedAt}
}

// NotifyRecord tells the record's workflow that a newer revision was
// persisted, starting that workflow if it is not running (signal-with-start).
func (a *Activities) NotifyRecord(ctx context.Context, in flow.NotifyInput) error {
	id := flow.RecordWorkflowID(in.Vendor, in.Kind, in.ExternalID)
	if a.Policy.AttemptTimeout <= 0 || a.Policy.RetryBudget <= 0 || a.Policy.InitialInterval <= 0 || a.Policy.MaximumInterval <= 0 {
		// A record workflow cannot send with it: say so here, not in its every workflow task.
		return fmt.Errorf("signal-with-start %s: the ERP sync policy is not configured (%+v)", id, a.Policy)
	}
	opts := client.StartWorkflowOptions{
		ID:        id,
		TaskQueue: a.TaskQueue,
		// A closed record workflow is started afresh: its state lives in the database.
		WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			flow.AttrVendor.ValueSet(in.Vendor), flow.AttrEventType.ValueSet(in.Kind),
			flow.AttrOrderID.ValueSet(in.ExternalID), flow.AttrSyncStatus.ValueSet(string(models.RecordPending))),
		Memo: map[string]any{"record": in.Vendor + "/" + in.Kind},
	}
	input := flow.RecordInput{Vendor: in.Vendor, Kind: in.Kind, ExternalID: in.ExternalID, Policy: a.Policy}
	sig := flow.PersistedSignal{Revision: in.Revision}
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
	st, err := a.Store.Record(ctx, in.Vendor, in.Kind, in.ExternalID)
	if err != nil {
		return flow.SyncResult{}, err
	}
	res := flow.SyncResult{SyncedRevision: st.SyncedRevision, CurrentRevision: st.Revision, Attempt: attempt}
	if st.Revision <= st.SyncedRevision || st.Version < 0 {
		return res, nil
	}
	rec := ERPRecord(st)
	key := erp.IdempotencyKey(rec)
	started := time.Now()
	sent, sendErr := a.ERP.Send(ctx, rec)
	outcome, status, detail := models.AttemptAccepted, sent.Status, ""
	var erpErr *erp.Error
	switch {
	case sendErr == nil && sent.Duplicate:
		outcome = models.AttemptDuplicate
	case sendErr == nil:
	case errors.As(sendErr, &erpErr) && !erpErr.Retryable:
		outcome, status, detail = models.AttemptRejected, erpErr.Status, erpErr.Reason
	case errors.As(sendErr, &erpErr):
		outcome, status, detail = models.AttemptRetry, erpErr.Status, erpErr.Detail()
	default:
		outcome, detail = models.AttemptRetry, sendErr.Error()
	}
	if a.Metrics != nil {
		a.Metrics.ERPSyncs.WithLabelValues(rec.Source, rec.Kind, string(outcome)).Inc()
		a.Metrics.ERPSyncSeconds.WithLabelValues(string(outcome)).Observe(time.Since(started).Seconds())
	}
	attemptRow := models.SyncAttempt{Vendor: st.Vendor, Kind: st.Kind, ExternalID: st.ExternalID, Revision: st.Revision,
		Version: st.Version, IdempotencyKey: key, Outcome: outcome, HTTPStatus: status, Detail: detail}
	if err := a.Store.AddAttempt(ctx, attemptRow); err != nil && a.Logger != nil {
		a.Logger.WarnContext(ctx, "could not record ERP attempt", "record", in.Kind, "error", err)
	}

	if sendErr != nil {
		// The database and the encrypted rejection keep the ERP's full answer;
		// the failure's message, which the SDK logs, only fingerprints it.
		full := sendErr.Error()
		if erpErr != nil {
			full = erpErr.Detail()
		}
		markErr := a.Store.MarkFailed(ctx, st, syncStatusFor(outcome), full)
		if outcome == models.AttemptRejected {
			if markErr != nil {
				// The rejection must be on record, its events' rows included,
				// before the record parks: the send is repeated (same
				// idempotency key) once the database is back.
				return res, fmt.Errorf("ERP rejected %s/%s/%s revision %d, and recording it failed: %w", st.Vendor, st.Kind, st.ExternalID, st.Revision, markErr)
			}
			rej := flow.Rejection{Revision: st.Revision, Version: st.Version, HTTPStatus: status, Reason: full, Attempts: int(attempt)}
			return res, temporal.NewNonRetryableApplicationError(sendErr.Error(), flow.ErrERPRejected, sendErr, rej)
		}
		if erpErr != nil && erpErr.RetryAfter > 0 {
			return res, temporal.NewApplicationErrorWithOptions(sendErr.Error(), flow.ErrERPUnavailable,
				temporal.ApplicationErrorOptions{Cause: sendErr, NextRetryDelay: erpErr.RetryAfter})
		}
		return res, fmt.Errorf("send %s/%s/%s revision %d: %w", st.Vendor, st.Kind, st.ExternalID, st.Revision, sendErr)
	}

	// When this fails the ERP has the state; the send is repeated (same idempotency key) once the database is back.
	cur, synced, err := a.Store.MarkSynced(ctx, st)
	if err != nil {
		return res, err
	}
	res.Sent, res.SentRevision, res.SentVersion = true, st.Revision, st.Version
	res.SyncedRevision, res.CurrentRevision = synced, cur
	return res, nil
}

// ERPRecord is the record SyncRecord sends for a stored state: its data as
// stored, and occurred_at in the vendor's offset, so the ERP gets the time
// as the vendor reported it.
func ERPRecord(st models.RecordState) erp.Record {
	return erp.Record{Source: st.Vendor, Kind: st.Kind, ExternalID: st.ExternalID, Version: st.Version,
		OccurredAt: st.OccurredAt.In(time.FixedZone("", st.OccurredOffset)), Data: json.RawMessage(st.Data)}
}

// MarkSkipped records an operator's decision not to send a rejected revision.
func (a *Activities) MarkSkipped(ctx context.Context, in flow.SkipInput) error {
	return a.Store.MarkSkipped(ctx, in)
}

func syncStatusFor(outcome models.AttemptOutcome) models.RecordStatus {
	if outcome == models.AttemptRejected {
		return models.RecordRejected
	}
	return models.RecordPending
}

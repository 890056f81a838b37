package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/tracing"
)

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
	sendCtx, span := a.erpSpan(ctx, in.Trace, rec, st.Revision, attempt)
	sent, sendErr := a.ERP.Send(sendCtx, rec)
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
	endERPSpan(span, outcome, status, sendErr)
	if a.Metrics != nil {
		a.Metrics.ERPSyncs.WithLabelValues(rec.Source, rec.Kind, string(outcome)).Inc()
		a.Metrics.ERPSyncSeconds.WithLabelValues(string(outcome)).Observe(time.Since(started).Seconds())
	}
	attemptRow := models.SyncAttempt{Vendor: st.Vendor, Kind: st.Kind, ExternalID: st.ExternalID, Revision: st.Revision,
		Version: st.Version, IdempotencyKey: key, Outcome: outcome, HTTPStatus: status, Detail: detail}
	if sendErr == nil {
		// Done: the ERP's document, when it tells one, goes with the attempt and the record.
		attemptRow.ERPDocumentID, attemptRow.ERPDocumentNumber = sent.DocumentID, sent.Number
		st.ERPDocumentID, st.ERPDocumentNumber = sent.DocumentID, sent.Number
	}
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

// MarkParked records that a record is parked without the ERP having refused
// it (its retry budget ran out): the record and the events waiting for its
// state are rejected with the reason, as after a refusal, so the store
// counts it parked and operators find it.
func (a *Activities) MarkParked(ctx context.Context, in flow.SkipInput) error {
	st, err := a.Store.Record(ctx, in.Vendor, in.Kind, in.ExternalID)
	if err != nil {
		return err
	}
	st.Revision = in.Revision
	return a.Store.MarkFailed(ctx, st, models.RecordRejected, in.Reason)
}

// erpSpan starts the span of one send to the ERP, in the trace of the
// callback whose notice asked for it (traceparent, see flow.SyncInput) and
// linked to the activity's own span; under the activity's span when there
// is no notice to follow. It holds the record's source, kind, revision and
// version and the attempt: no id of a person, no data.
func (a *Activities) erpSpan(ctx context.Context, traceparent string, rec erp.Record, revision int64, attempt int32) (context.Context, trace.Span) {
	if a.Tracing == nil || !a.Tracing.Enabled() {
		return ctx, noop.Span{}
	}
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("erpbridge.vendor", rec.Source), attribute.String("erpbridge.kind", rec.Kind),
		attribute.Int64("erpbridge.revision", revision), attribute.Int64("erpbridge.version", rec.Version),
		attribute.Int("erpbridge.attempt", int(attempt)))}
	parent := tracing.FromParent(ctx, traceparent)
	if own := trace.SpanContextFromContext(ctx); own.IsValid() && !own.Equal(trace.SpanContextFromContext(parent)) {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: own}))
	}
	return a.Tracing.Tracer().Start(parent, "erp.send", opts...)
}

// endERPSpan ends a send's span with its outcome and the ERP's status.
func endERPSpan(span trace.Span, outcome models.AttemptOutcome, status int, err error) {
	span.SetAttributes(attribute.String("erpbridge.outcome", string(outcome)))
	if status != 0 {
		span.SetAttributes(attribute.Int("http.response.status_code", status))
	}
	if err != nil {
		// The error's text fingerprints the ERP's answer (erp.Error), which
		// may echo the record's data.
		span.SetStatus(codes.Error, string(outcome))
	}
	span.End()
}

package activities

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"golang.org/x/sync/errgroup"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/store"
	"github.com/erpbridge/erpbridge/vendors"
)

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
// reads the body the edge stored (the claim check), or stores the one the
// input carries when the edge could not (retried until the store takes
// it), and, if the event is
// newer than the stored state of its record, makes it the record's newest
// state with its normalised rows, in one transaction (see store.Persist).
// Verification is not a step of its own: it would read and decode the same
// body a second time and fail the same way. Running Persist twice for the
// same event changes nothing and answers the same.
func (a *Activities) Persist(ctx context.Context, in flow.PersistInput) (flow.PersistResult, error) {
	p, ev, err := a.Store.Persist(ctx, inbound(in.Event, in.WorkflowID), func(body []byte) (*vendors.Event, error) {
		return a.decode(in.Event, body)
	})
	if err != nil {
		return flow.PersistResult{}, callbackMissing(err)
	}
	if a.Metrics != nil {
		a.Metrics.Persisted.WithLabelValues(ev.Vendor, strconv.FormatBool(p.Applied)).Inc()
		if p.Origin == models.OriginPull {
			outcome := "unchanged"
			if p.Applied {
				outcome = "changed"
			}
			a.Metrics.ReconcileEvents.WithLabelValues(ev.Vendor, outcome).Inc()
		}
	}
	if len(ev.Warnings) > 0 && a.Logger != nil {
		// Warnings name fields, never values; the list is kept in inbound_events.warnings.
		a.Logger.WarnContext(ctx, "callback kept with warnings", "vendor", ev.Vendor, "event_type", ev.EventType,
			"workflow_id", in.WorkflowID, "warnings", len(ev.Warnings))
	}
	return flow.PersistResult{Kind: ev.Kind, ExternalID: ev.ExternalID, Version: ev.Version, Generic: ev.Generic,
		Applied: p.Applied, Revision: p.Revision, PartCount: p.PartCount, PartBatch: a.SplitBatchSize}, nil
}

// RecordInvalid keeps the raw body of a callback whose content failed
// verification, so an operator can inspect it; the workflow still fails.
func (a *Activities) RecordInvalid(ctx context.Context, in flow.InvalidInput) error {
	return a.Store.KeepInvalid(ctx, inbound(in.Event, in.WorkflowID), in.Problem)
}

func inbound(in flow.EventInput, workflowID string) store.Inbound {
	return store.Inbound{Vendor: in.Vendor, EventKey: in.EventKey, EventType: in.EventType, Body: in.Body,
		WorkflowID: workflowID, ReceivedAt: in.ReceivedAt}
}

// PersistParts persists the parts [From, To) of a split message (see
// store.PersistParts) and tells the record workflow of each part that
// became its record's newest state, a few at a time
// (SPLIT_NOTIFY_CONCURRENCY), on the bulk task queue. It reads and decodes
// the message once per batch. A batch run twice changes nothing and tells
// the same record workflows again, which changes nothing either.
func (a *Activities) PersistParts(ctx context.Context, in flow.PartsInput) (flow.PartsResult, error) {
	msg := inbound(in.Event, in.WorkflowID)
	body, ok, err := a.Store.Callback(ctx, msg.Vendor, msg.EventKey)
	if err != nil {
		return flow.PartsResult{}, err
	}
	if !ok {
		return flow.PartsResult{}, callbackMissing(fmt.Errorf("%w: %s", store.ErrNoCallback, flow.ClaimCheckFor(msg.Vendor, msg.EventKey)))
	}
	ev, err := a.decode(in.Event, body)
	if err != nil {
		return flow.PartsResult{}, err
	}
	parts, err := a.Store.PersistParts(ctx, msg, ev, in.From, in.To)
	if err != nil {
		return flow.PartsResult{}, err
	}
	// The step runs under a heartbeat timeout (batchOptions): beat once the
	// batch is written, and after each record workflow told.
	activity.RecordHeartbeat(ctx, 0)
	ev = nil // the decoded message is no longer needed while the records are told
	var res flow.PartsResult
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(a.SplitNotifyConcurrency, 1))
	for _, p := range parts {
		if !p.Applied {
			res.Superseded++
			continue
		}
		res.Applied++
		g.Go(func() error {
			err := a.NotifyRecord(gctx, flow.NotifyInput{Vendor: msg.Vendor, Kind: p.Kind, ExternalID: p.ExternalID, Revision: p.Revision, Bulk: true})
			if err == nil {
				activity.RecordHeartbeat(ctx, 0)
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return res, err
	}
	if a.Metrics != nil {
		a.Metrics.Persisted.WithLabelValues(msg.Vendor, "true").Add(float64(res.Applied))
		a.Metrics.Persisted.WithLabelValues(msg.Vendor, "false").Add(float64(res.Superseded))
	}
	return res, nil
}

// callbackMissing makes a missing claim check (store.ErrNoCallback) final:
// no retry brings the body back. Any other error is returned as it is.
func callbackMissing(err error) error {
	if errors.Is(err, store.ErrNoCallback) {
		return temporal.NewNonRetryableApplicationError(err.Error(), flow.ErrCallbackMissing, err)
	}
	return err
}

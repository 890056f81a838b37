package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/erpbridge/erpbridge/activities"
	"github.com/erpbridge/erpbridge/flow"
)

// renotifyAfter is how long an event waits for its record workflow's answer
// before telling it again (which restarts it if an operator terminated it).
const renotifyAfter = 24 * time.Hour

// EventResult is how an event workflow ended.
type EventResult struct {
	Status   string
	Revision int64
	Detail   string
	// RecordWorkflowID names the record workflow a handed-over event was
	// given to: the one to watch for its ERP outcome and to retry or skip.
	RecordWorkflowID string `json:",omitempty"`
}

// EventWorkflow carries one vendor message from verification to its record:
// Persist (verify and store) → hand the new state to its record workflow,
// and close as handed_over. The record workflow owns the ERP's outcome from
// there: it sends, parks a rejection for an operator, and settles the
// event's row in the database (synced, superseded, rejected, skipped).
// Runs started before that change (whose input names no shape, see
// flow.ShapeHandOver) wait for the outcome instead, and take an operator's
// retry or skip.
func EventWorkflow(ctx workflow.Context, in flow.EventInput) (EventResult, error) {
	var a *activities.Activities
	info := workflow.GetInfo(ctx)
	st := flow.Status{State: "persisting", SyncStatus: flow.StatusPending}
	if err := workflow.SetQueryHandler(ctx, flow.QueryStatus, func() (flow.Status, error) { return st, nil }); err != nil {
		return EventResult{}, err
	}
	local := localStepOptions(ctx)

	// Runs started before the short steps became local activities keep them
	// regular, and runs started before Persist took over verification keep
	// their own Verify step. A run with local steps has Verify folded, so it
	// records one version marker (and its search-attribute upsert), not two;
	// a run whose input names its shape records none.
	step := newSteps(ctx, in.Shape)
	verifyFolded := step.local || workflow.GetVersion(ctx, changeVerifyInPersist, workflow.DefaultVersion, 1) == 1
	if !verifyFolded {
		var sum flow.EventSummary
		if err := workflow.ExecuteActivity(local, a.Verify, in).Get(ctx, &sum); err != nil {
			return EventResult{}, failEvent(ctx, in, &st, step, err)
		}
		if err := setOrderID(ctx, &st, sum.Kind, sum.ExternalID, sum.Generic); err != nil {
			return EventResult{}, err
		}
	}

	// Persist: verify the content (invalid content fails the run visibly), then
	// store the raw event and normalised rows, applied only if newer than what is stored.
	st.State = "persisting"
	var p flow.PersistResult
	if err := step.run(a.Persist, flow.PersistInput{Event: in, WorkflowID: info.WorkflowExecution.ID}).Get(ctx, &p); err != nil {
		return EventResult{}, failEvent(ctx, in, &st, step, err)
	}
	if len(p.Parts) > 0 {
		// A message split into parts names no order itself: its parts do.
		st.Kind, st.ExternalID = p.Kind, p.ExternalID
		return splitEvent(ctx, in, &st, step, p.Parts)
	}
	// A handing-over run sets OrderID with its final status, in one upsert.
	var orderAttr []temporal.SearchAttributeUpdate
	switch {
	case step.handOver:
		st.Kind, st.ExternalID = p.Kind, p.ExternalID
		if !p.Generic {
			orderAttr = append(orderAttr, flow.AttrOrderID.ValueSet(p.ExternalID))
		}
	case verifyFolded:
		if err := setOrderID(ctx, &st, p.Kind, p.ExternalID, p.Generic); err != nil {
			return EventResult{}, err
		}
	}
	st.Revision = p.Revision
	if !p.Applied {
		// A newer (or the same) state of this record is already stored; its own
		// event brings it to the ERP, so this one has nothing to send.
		return finishEvent(ctx, in, &st, step, flow.OutcomeSignal{Status: flow.StatusSuperseded, Detail: "a newer state of the record was already stored"}, orderAttr...)
	}

	// Hand over to the record workflow, the only sender for this record.
	st.State = "syncing"
	notify := flow.NotifyInput{Vendor: in.Vendor, Kind: p.Kind, ExternalID: p.ExternalID, Revision: p.Revision, EventWorkflowID: info.WorkflowExecution.ID}
	if step.handOver {
		notify.EventWorkflowID = "" // nothing waits for an answer
	}
	if err := step.run(a.NotifyRecord, notify).Get(ctx, nil); err != nil {
		return EventResult{}, err
	}
	recordID := flow.RecordWorkflowID(in.Vendor, p.Kind, p.ExternalID)
	if step.handOver {
		st.State, st.SyncStatus = "done", flow.StatusHandedOver
		attrs := append(orderAttr, flow.AttrSyncStatus.ValueSet(flow.StatusHandedOver))
		if err := workflow.UpsertTypedSearchAttributes(ctx, attrs...); err != nil {
			return EventResult{}, err
		}
		return EventResult{Status: flow.StatusHandedOver, Revision: p.Revision, RecordWorkflowID: recordID,
			Detail: fmt.Sprintf("revision %d handed over to %s, which sends it to the ERP", p.Revision, recordID)}, nil
	}

	outcomes := workflow.GetSignalChannel(ctx, flow.SignalOutcome)
	retries := workflow.GetSignalChannel(ctx, flow.SignalRetry)
	skips := workflow.GetSignalChannel(ctx, flow.SignalSkip)
	// Operators' retry and skip updates; the ones the record accepted arrive on accepted.
	accepted, err := setEventUpdateHandlers(ctx, &st, recordID)
	if err != nil {
		return EventResult{}, err
	}
	for {
		var done *flow.OutcomeSignal
		var forward string
		var fwd flow.OperatorRequest
		updated := false // forward was already run as an update, not to be signalled
		timerCtx, cancelTimer := workflow.WithCancel(ctx)
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(outcomes, func(c workflow.ReceiveChannel, _ bool) {
			var o flow.OutcomeSignal
			c.Receive(ctx, &o)
			if o.Revision != 0 && o.Revision != p.Revision {
				return // an answer about another revision of this record
			}
			st.Attempts, st.Synced = o.Attempts, o.SyncedRevision
			if o.Status == flow.StatusRejected {
				st.State, st.SyncStatus, st.LastError = "waiting-operator", flow.StatusRejected, o.Detail
				return
			}
			done = &o
		})
		sel.AddReceive(retries, func(c workflow.ReceiveChannel, _ bool) {
			c.Receive(ctx, &fwd)
			forward = flow.SignalRetry
		})
		sel.AddReceive(skips, func(c workflow.ReceiveChannel, _ bool) {
			c.Receive(ctx, &fwd)
			forward = flow.SignalSkip
		})
		sel.AddReceive(accepted, func(c workflow.ReceiveChannel, _ bool) {
			c.Receive(ctx, &forward)
			updated = true
		})
		sel.AddFuture(workflow.NewTimer(timerCtx, renotifyAfter), func(workflow.Future) {
			forward = "renotify"
		})
		prevStatus := st.SyncStatus
		sel.Select(ctx)
		cancelTimer()

		switch {
		case done != nil:
			// An operator's update hears its answer before the run closes.
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return EventResult{}, err
			}
			return finishEvent(ctx, in, &st, step, *done)
		case forward == "renotify":
			if err := step.run(a.NotifyRecord, notify).Get(ctx, nil); err != nil {
				return EventResult{}, err
			}
		case forward != "":
			// An operator's retry or skip: the record workflow owns the sync, so
			// a signal is passed on as one (an update already was).
			if !updated {
				fwd.Requester = info.WorkflowExecution.ID
				if err := workflow.SignalExternalWorkflow(ctx, recordID, "", forward, fwd).Get(ctx, nil); err != nil {
					workflow.GetLogger(ctx).Warn("forwarding operator signal failed", "signal", forward, "error", err)
				}
			}
			if forward == flow.SignalRetry {
				st.State, st.SyncStatus = "syncing", flow.StatusPending
			}
		}
		if st.SyncStatus != prevStatus {
			if err := setSyncStatus(ctx, st.SyncStatus); err != nil {
				return EventResult{}, err
			}
			if st.SyncStatus == flow.StatusRejected {
				out := flow.OutcomeInput{Vendor: in.Vendor, EventKey: in.EventKey, Status: flow.StatusRejected, Detail: st.LastError}
				if err := step.run(a.RecordEventOutcome, out).Get(ctx, nil); err != nil {
					return EventResult{}, err
				}
			}
		}
	}
}

// splitEvent starts the workflow of each part of a message that changes
// several records (one event per record, see vendors.Event.Parts) and ends
// the message's run as split: each part reaches the ERP, is superseded or
// waits for an operator in its own run, which outlives this one.
func splitEvent(ctx workflow.Context, in flow.EventInput, st *flow.Status, step steps, parts []string) (EventResult, error) {
	st.State = "splitting"
	started := make([]workflow.Future, len(parts))
	for i, key := range parts {
		child := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:            flow.EventWorkflowID(in.Vendor, key),
			WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			ParentClosePolicy:     enums.PARENT_CLOSE_POLICY_ABANDON,
			TypedSearchAttributes: flow.EventSearchAttributes(in.Vendor, in.EventType),
			Memo:                  flow.EventMemo(in.Vendor, in.EventType, in.ReceivedAt),
		})
		part := flow.EventInput{Vendor: in.Vendor, EventKey: key, EventType: in.EventType, ReceivedAt: in.ReceivedAt,
			ClaimCheck: flow.ClaimCheckFor(in.Vendor, key), Shape: in.Shape}
		started[i] = workflow.ExecuteChildWorkflow(child, EventWorkflow, part).GetChildWorkflowExecution()
	}
	for _, f := range started {
		// A part already started (this run was reset, say) runs on: one run per part, ever.
		if err := f.Get(ctx, nil); err != nil && !temporal.IsWorkflowExecutionAlreadyStartedError(err) {
			return EventResult{}, err
		}
	}
	detail := fmt.Sprintf("split into %d events, one per record it changes", len(parts))
	return finishEvent(ctx, in, st, step, flow.OutcomeSignal{Status: flow.StatusSplit, Detail: detail})
}

// changeVerifyInPersist versions the fold of the Verify step into Persist.
const changeVerifyInPersist = "verify-in-persist"

// failEvent ends a run whose step failed. Invalid content is final: the run
// is marked invalid and the raw callback kept in the database, so nothing is
// lost; other errors are returned as they are.
func failEvent(ctx workflow.Context, in flow.EventInput, st *flow.Status, step steps, err error) error {
	var a *activities.Activities
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != flow.ErrInvalidContent {
		return err
	}
	st.State, st.SyncStatus, st.LastError = "failed", flow.StatusInvalid, err.Error()
	_ = setSyncStatus(ctx, flow.StatusInvalid)
	rec := flow.InvalidInput{Event: in, WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID, Problem: appErr.Message()}
	if rerr := step.run(a.RecordInvalid, rec).Get(ctx, nil); rerr != nil {
		return rerr
	}
	return err
}

// setOrderID shows the record's id in the status query and, for an order
// (not a message kept raw), in the OrderID search attribute.
func setOrderID(ctx workflow.Context, st *flow.Status, kind, externalID string, generic bool) error {
	st.Kind, st.ExternalID = kind, externalID
	if generic {
		return nil
	}
	return workflow.UpsertTypedSearchAttributes(ctx, flow.AttrOrderID.ValueSet(externalID))
}

// finishEvent records the event's final sync status in the database and the search attributes.
// attrs are set with the status, in the same upsert.
func finishEvent(ctx workflow.Context, in flow.EventInput, st *flow.Status, step steps, o flow.OutcomeSignal, attrs ...temporal.SearchAttributeUpdate) (EventResult, error) {
	var a *activities.Activities
	st.State, st.SyncStatus, st.LastError = "done", o.Status, ""
	if o.Status == flow.StatusSkipped {
		st.LastError = o.Detail
	}
	out := flow.OutcomeInput{Vendor: in.Vendor, EventKey: in.EventKey, Status: o.Status, Detail: o.Detail}
	if err := step.run(a.RecordEventOutcome, out).Get(ctx, nil); err != nil {
		return EventResult{}, err
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, append(attrs, flow.AttrSyncStatus.ValueSet(o.Status))...); err != nil {
		return EventResult{}, err
	}
	return EventResult{Status: o.Status, Revision: st.Revision, Detail: o.Detail}, nil
}

func setSyncStatus(ctx workflow.Context, status string) error {
	return workflow.UpsertTypedSearchAttributes(ctx, flow.AttrSyncStatus.ValueSet(status))
}

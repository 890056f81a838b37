package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/erpbridge/erpbridge/activities"
	"github.com/erpbridge/erpbridge/flow"
)

// EventResult is how an event workflow ended.
type EventResult struct {
	Status   flow.EventOutcome
	Revision int64
	Detail   string
	// Parts is how many events a split message became (0 when not split).
	Parts int `json:",omitempty"`
	// RecordWorkflowID names the record workflow a handed-over event was
	// given to: the one to watch for its ERP outcome and to retry or skip.
	RecordWorkflowID string `json:",omitempty"`
}

// EventWorkflow carries one event, a stored callback, to its record:
//
//  1. persist: verify the content and store the event as its record's
//     newest state, if it is newer than what is stored;
//  2. hand over: tell the record's workflow, the only sender of that record
//     to the ERP, and close.
//
// An older event closes as superseded, a message that changes several
// records persists one event per record (its parts) in batches, handing
// each to its record's workflow, and closes as split, and invalid content
// fails the run, keeping the callback. What
// becomes of the event at the ERP is settled in its row by the record
// workflow.
func EventWorkflow(ctx workflow.Context, in flow.EventInput) (EventResult, error) {
	e, err := newEventRun(ctx, in)
	if err != nil {
		return EventResult{}, err
	}
	p, err := e.persist()
	switch {
	case err != nil:
		return EventResult{}, e.fail(err)
	case p.PartCount > 0:
		return e.split(p)
	case !p.Applied:
		return e.superseded(p)
	}
	return e.handOver(p)
}

// eventRun is one run of EventWorkflow: its input, its steps' options and
// what its status query answers.
type eventRun struct {
	ctx   workflow.Context
	in    flow.EventInput
	id    string
	steps workflow.Context
	st    flow.Status
}

func newEventRun(ctx workflow.Context, in flow.EventInput) (*eventRun, error) {
	e := &eventRun{ctx: ctx, in: in, id: workflow.GetInfo(ctx).WorkflowExecution.ID, steps: stepOptions(ctx),
		st: flow.Status{State: "persisting", SyncStatus: string(flow.EventRunning)}}
	err := workflow.SetQueryHandler(ctx, flow.QueryStatus, func() (flow.Status, error) { return e.st, nil })
	return e, err
}

// persist verifies the content and stores the event; invalid content is a
// non-retryable ErrInvalidContent failure, anything else is retried for as
// long as the database is down.
func (e *eventRun) persist() (flow.PersistResult, error) {
	var a *activities.Activities
	var p flow.PersistResult
	err := workflow.ExecuteLocalActivity(e.steps, a.Persist, flow.PersistInput{Event: e.in, WorkflowID: e.id}).Get(e.ctx, &p)
	if err == nil {
		e.st.Kind, e.st.ExternalID, e.st.Revision = p.Kind, p.ExternalID, p.Revision
	}
	return p, err
}

// handOver tells the record's workflow of its new revision (starting it
// if need be) and closes the run: the record workflow sends it.
func (e *eventRun) handOver(p flow.PersistResult) (EventResult, error) {
	var a *activities.Activities
	e.st.State = "handing-over"
	notify := flow.NotifyInput{Vendor: e.in.Vendor, Kind: p.Kind, ExternalID: p.ExternalID, Revision: p.Revision}
	if err := workflow.ExecuteLocalActivity(e.steps, a.NotifyRecord, notify).Get(e.ctx, nil); err != nil {
		return EventResult{}, err
	}
	recordID := flow.RecordWorkflowID(e.in.Vendor, p.Kind, p.ExternalID)
	detail := fmt.Sprintf("revision %d handed over to %s, which sends it to the ERP", p.Revision, recordID)
	res, err := e.end(flow.EventHandedOver, detail, orderID(p)...)
	res.RecordWorkflowID = recordID
	return res, err
}

// superseded closes the run of an event whose record already has a newer
// (or the same) state: that state's own event brings it to the ERP.
func (e *eventRun) superseded(p flow.PersistResult) (EventResult, error) {
	return e.end(flow.EventSuperseded, "a newer state of the record was already stored", orderID(p)...)
}

// split persists the parts of a message that changes several records (one
// event per record, see vendors.Event.Parts) batch by batch, one batch at a
// time, each batch one activity that also tells the parts' record workflows
// (on the bulk task queue), and closes the run. Progress is the run's own:
// a worker restart resumes at the batch it was on, and a history grown long
// continues as new from there (EventInput.SplitFrom).
func (e *eventRun) split(p flow.PersistResult) (EventResult, error) {
	var a *activities.Activities
	e.st.State, e.st.Parts, e.st.PartsPersisted = "splitting", p.PartCount, e.in.SplitFrom
	batch := max(p.PartBatch, 1)
	// A batch is one transaction and a few signal-with-starts at once.
	ctx := batchOptions(e.ctx, 5*time.Minute, 0, flow.ErrInvalidContent, flow.ErrCallbackMissing)
	for from := e.in.SplitFrom; from < p.PartCount; from += batch {
		if from > e.in.SplitFrom && workflow.GetInfo(e.ctx).GetContinueAsNewSuggested() {
			next := e.in
			next.SplitFrom, next.Body = from, nil
			return EventResult{}, workflow.NewContinueAsNewError(e.ctx, EventWorkflow, next)
		}
		in := flow.PartsInput{Event: e.in, WorkflowID: e.id, From: from, To: min(from+batch, p.PartCount)}
		in.Event.Body = nil // stored by Persist: the batches read it there
		var res flow.PartsResult
		if err := workflow.ExecuteActivity(ctx, a.PersistParts, in).Get(ctx, &res); err != nil {
			return EventResult{}, err
		}
		e.st.PartsPersisted = in.To
	}
	res, err := e.end(flow.EventSplit, fmt.Sprintf("split into %d events, one per record it changes", p.PartCount))
	res.Parts = p.PartCount
	return res, err
}

// fail ends a run whose step failed. Invalid content is final: the run is
// marked invalid and the callback kept in the database for an operator to
// read; other errors are returned as they are.
func (e *eventRun) fail(err error) error {
	var a *activities.Activities
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != flow.ErrInvalidContent {
		return err
	}
	e.st.State, e.st.SyncStatus, e.st.LastError = "failed", string(flow.EventInvalid), err.Error()
	_ = workflow.UpsertTypedSearchAttributes(e.ctx, flow.AttrSyncStatus.ValueSet(string(flow.EventInvalid)))
	rec := flow.InvalidInput{Event: e.in, WorkflowID: e.id, Problem: appErr.Message()}
	if rerr := workflow.ExecuteLocalActivity(e.steps, a.RecordInvalid, rec).Get(e.ctx, nil); rerr != nil {
		return rerr
	}
	return err
}

// end closes the run with its outcome, set in the SyncStatus search
// attribute together with attrs in one upsert.
func (e *eventRun) end(outcome flow.EventOutcome, detail string, attrs ...temporal.SearchAttributeUpdate) (EventResult, error) {
	e.st.State, e.st.SyncStatus = "done", string(outcome)
	attrs = append(attrs, flow.AttrSyncStatus.ValueSet(string(outcome)))
	if err := workflow.UpsertTypedSearchAttributes(e.ctx, attrs...); err != nil {
		return EventResult{}, err
	}
	return EventResult{Status: outcome, Revision: e.st.Revision, Detail: detail}, nil
}

// orderID sets the OrderID search attribute to the record's external id,
// unless the event is a message of an unknown type kept raw, which names no
// order.
func orderID(p flow.PersistResult) []temporal.SearchAttributeUpdate {
	if p.Generic {
		return nil
	}
	return []temporal.SearchAttributeUpdate{flow.AttrOrderID.ValueSet(p.ExternalID)}
}

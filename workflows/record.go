package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/erpbridge/erpbridge/activities"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/models"
)

// defaultIdleTimeout is how long a caught-up record workflow lingers for news.
const defaultIdleTimeout = 10 * time.Minute

// RecordWorkflow is the single sender of one vendor record (an order) to the
// ERP. Event workflows persist newer states and signal it; it sends the
// newest persisted state, one send at a time, and sends again whenever a
// newer revision appeared meanwhile. Because sends are serialised here and
// always carry the newest state, the ERP never receives a stale state after a
// newer one and always ends on the newest. A rejected send parks the record
// until an operator sends retry or skip (updates that answer, or signals),
// or a newer state arrives. Caught up and idle for its idle timeout, it
// closes; its state lives in the database, so the next event starts it again.
func RecordWorkflow(ctx workflow.Context, in flow.RecordInput) error {
	r, err := newRecordRun(ctx, in)
	if err != nil {
		return err
	}
	for {
		// Take in everything that has arrived, without blocking.
		for r.receive(false) {
		}
		if r.skipRequested != nil {
			if err := r.applySkip(); err != nil {
				return err
			}
		}
		if err := r.publishStatus(); err != nil {
			return err
		}
		switch {
		case r.Parked == nil && r.Target > r.Synced:
			r.send()
		case r.Parked != nil:
			r.state = "waiting-operator"
			r.receive(true)
		default:
			if done, err := r.idle(); done {
				return err
			}
		}
	}
}

// recordRun is one run of RecordWorkflow and its working state.
type recordRun struct {
	flow.RecordCarry
	ctx           workflow.Context
	in            flow.RecordInput
	state         string
	lastErr       string
	lastStatus    models.RecordStatus // the SyncStatus last set
	trace         string              // the traceparent of the newest revision's notice
	skipRequested *flow.OperatorRequest
	skipAnswers   []*answer        // skip updates waiting for skipRequested to be applied
	skipping      bool             // MarkSkipped is recording the parked revision's skip
	wake          workflow.Channel // an update handler changed the state: the loop looks again
	persisted     workflow.ReceiveChannel
	retries       workflow.ReceiveChannel
	skips         workflow.ReceiveChannel
}

func newRecordRun(ctx workflow.Context, in flow.RecordInput) (*recordRun, error) {
	r := &recordRun{ctx: ctx, in: in,
		persisted: workflow.GetSignalChannel(ctx, flow.SignalPersisted),
		retries:   workflow.GetSignalChannel(ctx, flow.UpdateRetry),
		skips:     workflow.GetSignalChannel(ctx, flow.UpdateSkip),
	}
	if in.Carry != nil {
		r.RecordCarry = *in.Carry
	}
	if r.in.IdleTimeout <= 0 {
		r.in.IdleTimeout = defaultIdleTimeout
	}
	// The SyncStatus the run was started with (pending from NotifyRecord, the
	// last one carried over by continue-as-new) is not set again.
	status, _ := workflow.GetTypedSearchAttributes(ctx).GetKeyword(flow.AttrSyncStatus)
	r.lastStatus = models.RecordStatus(status)
	if err := workflow.SetQueryHandler(ctx, flow.QueryStatus, r.status); err != nil {
		return nil, err
	}
	return r, r.setUpdateHandlers()
}

// send sends the newest state to the ERP. Signals that arrive meanwhile
// raise Target and the loop sends again; a rejection (or a retry budget run
// out) parks the record.
func (r *recordRun) send() {
	var a *activities.Activities
	r.state = "syncing"
	var res flow.SyncResult
	in := flow.SyncInput{Vendor: r.in.Vendor, Kind: r.in.Kind, ExternalID: r.in.ExternalID, Trace: r.trace}
	err := workflow.ExecuteActivity(syncOptions(r.ctx, r.in.Policy), a.SyncRecord, in).Get(r.ctx, &res)
	if err != nil {
		if rejected := r.park(err); !rejected {
			// The ERP never refused it, so SyncRecord did not record a
			// parking: record it, so the store counts it parked as well.
			park := flow.SkipInput{Vendor: r.in.Vendor, Kind: r.in.Kind, ExternalID: r.in.ExternalID, Revision: r.Parked.Revision, Reason: r.Parked.Reason}
			_ = workflow.ExecuteLocalActivity(stepOptions(r.ctx), a.MarkParked, park).Get(r.ctx, nil)
		}
		return
	}
	r.Attempt = int(res.Attempt)
	r.Synced = max(r.Synced, res.SyncedRevision)
	r.Target = max(r.Target, res.CurrentRevision)
	r.lastErr = ""
	if res.Sent {
		r.Skipped = false
	}
}

// idle waits, caught up, for news. It reports done when the run is to end:
// closed after the idle timeout with nothing left to do, or continued as new
// when its history grew long.
func (r *recordRun) idle() (bool, error) {
	r.state = "idle"
	if workflow.GetInfo(r.ctx).GetContinueAsNewSuggested() {
		if !r.settled() {
			return false, nil
		}
		next := r.in
		carry := r.RecordCarry
		next.Carry = &carry
		return true, workflow.NewContinueAsNewError(r.ctx, RecordWorkflow, next)
	}
	timerCtx, cancel := workflow.WithCancel(r.ctx)
	timedOut := false
	sel := workflow.NewSelector(r.ctx)
	r.addReceivers(sel)
	sel.AddFuture(workflow.NewTimer(timerCtx, r.in.IdleTimeout), func(workflow.Future) { timedOut = true })
	sel.Select(r.ctx)
	cancel()
	if !timedOut || !r.settled() {
		return false, nil
	}
	r.state = "done"
	return true, nil
}

// settled waits until every update handler has answered and reports
// whether the run may end: no signal is waiting.
func (r *recordRun) settled() bool {
	_ = workflow.Await(r.ctx, func() bool { return workflow.AllHandlersFinished(r.ctx) })
	return r.persisted.Len() == 0 && r.retries.Len() == 0 && r.skips.Len() == 0
}

// publishStatus sets the SyncStatus search attribute when it changed.
func (r *recordRun) publishStatus() error {
	status := r.syncStatus()
	if status == r.lastStatus {
		return nil
	}
	if err := workflow.UpsertTypedSearchAttributes(r.ctx, flow.AttrSyncStatus.ValueSet(string(status))); err != nil {
		return err
	}
	r.lastStatus = status
	return nil
}

func (r *recordRun) status() (flow.Status, error) {
	st := flow.Status{State: r.state, SyncStatus: string(r.syncStatus()), Kind: r.in.Kind, ExternalID: r.in.ExternalID,
		Revision: r.Target, Synced: r.Synced, Attempts: r.Attempt, LastError: r.lastErr}
	if r.Parked != nil {
		st.Attempts = r.Parked.Attempts
		st.LastError = r.Parked.Reason
	}
	return st, nil
}

func (r *recordRun) syncStatus() models.RecordStatus {
	switch {
	case r.Parked != nil:
		return models.RecordRejected
	case r.Target > r.Synced:
		return models.RecordPending
	case r.Skipped:
		return models.RecordSkipped
	default:
		return models.RecordSynced
	}
}

// receive handles one signal; it blocks for one when wait is set and reports
// whether a signal was handled.
func (r *recordRun) receive(wait bool) bool {
	sel := workflow.NewSelector(r.ctx)
	r.addReceivers(sel)
	if !wait && !sel.HasPending() {
		return false
	}
	sel.Select(r.ctx)
	return true
}

func (r *recordRun) addReceivers(sel workflow.Selector) {
	sel.AddReceive(r.persisted, func(c workflow.ReceiveChannel, _ bool) {
		var p flow.PersistedSignal
		c.Receive(r.ctx, &p)
		if p.Revision >= r.Target && p.Trace != "" {
			r.trace = p.Trace
		}
		r.Target = max(r.Target, p.Revision)
		if r.Parked != nil && p.Revision > r.Parked.Revision {
			r.Parked = nil // a newer state may well be acceptable: try it
		}
	})
	sel.AddReceive(r.retries, func(c workflow.ReceiveChannel, _ bool) {
		var o flow.OperatorRequest
		c.Receive(r.ctx, &o)
		// Only a parked record has anything to retry; the others are already
		// sending or caught up, and a signal has no one to answer.
		if _, err := r.retry(); err != nil {
			workflow.GetLogger(r.ctx).Info("retry signal ignored", "reason", err.Error())
		}
	})
	sel.AddReceive(r.skips, func(c workflow.ReceiveChannel, _ bool) {
		var o flow.OperatorRequest
		c.Receive(r.ctx, &o)
		r.requestSkip(o)
	})
	sel.AddReceive(r.wake, func(c workflow.ReceiveChannel, _ bool) { c.Receive(r.ctx, nil) })
}

// park records a failed send: an ERP rejection, or a retry budget run out.
// It reports whether it was the ERP's rejection.
func (r *recordRun) park(err error) bool {
	rej := flow.Rejection{Revision: r.Target, Reason: err.Error()}
	var appErr *temporal.ApplicationError
	rejected := errors.As(err, &appErr) && appErr.Type() == flow.ErrERPRejected
	if rejected && appErr.HasDetails() {
		var d flow.Rejection
		if appErr.Details(&d) == nil {
			rej = d
		}
	} else if !rejected {
		rej.Reason = fmt.Sprintf("gave up after the retry budget: %v", err)
	}
	if rej.Revision == 0 {
		rej.Revision = r.Target
	}
	r.Parked = &rej
	r.lastErr = rej.Reason
	return rejected
}

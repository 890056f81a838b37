package workflows

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/erpbridge/erpbridge/activities"
	"github.com/erpbridge/erpbridge/flow"
)

// defaultIdleTimeout is how long a caught-up record workflow lingers for news.
const defaultIdleTimeout = 10 * time.Minute

// RecordWorkflow is the single sender of one vendor record (an order) to the
// ERP. Event workflows persist newer states and signal it; it sends the
// newest persisted state, one send at a time, and sends again whenever a
// newer revision appeared meanwhile. Because sends are serialised here and
// always carry the newest state, the ERP never receives a stale state after a
// newer one and always ends on the newest. A rejected send parks the record
// until an operator sends retry or skip (an update that answers, or a
// signal), or a newer state arrives.
func RecordWorkflow(ctx workflow.Context, in flow.RecordInput) error {
	var a *activities.Activities
	s := recordState{in: in}
	if in.Carry != nil {
		s.RecordCarry = *in.Carry
	}
	if s.in.IdleTimeout <= 0 {
		s.in.IdleTimeout = defaultIdleTimeout
	}
	lastStatus := ""
	if in.Shape >= flow.ShapeHandOver {
		// Outcomes go out through a local activity, and the SyncStatus the
		// run was started with (pending from NotifyRecord, the last one
		// carried over by continue-as-new) is not set again.
		s.deliverLocally = true
		lastStatus, _ = workflow.GetTypedSearchAttributes(ctx).GetKeyword(flow.AttrSyncStatus)
	} else {
		// Runs started before outcomes went out through a local activity keep
		// signalling their event workflows as commands.
		s.deliverLocally = workflow.GetVersion(ctx, changeOutcomeByLocalActivity, workflow.DefaultVersion, 1) == 1
	}
	s.deliver = localActivityStepOptions(ctx)
	if err := workflow.SetQueryHandler(ctx, flow.QueryStatus, s.status); err != nil {
		return err
	}
	if err := s.setUpdateHandlers(ctx); err != nil {
		return err
	}
	persisted := workflow.GetSignalChannel(ctx, flow.SignalPersisted)
	retries := workflow.GetSignalChannel(ctx, flow.SignalRetry)
	skips := workflow.GetSignalChannel(ctx, flow.SignalSkip)
	syncCtx := syncOptions(ctx, in.Policy)
	local := localStepOptions(ctx)

	for {
		// Take in everything that has arrived, without blocking.
		for s.receive(ctx, persisted, retries, skips, false) {
		}
		if s.skipRequested != nil {
			if err := s.applySkip(ctx, local); err != nil {
				return err
			}
		}

		if status := s.syncStatus(); status != lastStatus {
			if err := setSyncStatus(ctx, status); err != nil {
				return err
			}
			lastStatus = status
		}

		switch {
		case s.Parked == nil && s.Target > s.Synced:
			// Send the newest state. Signals that arrive meanwhile raise Target
			// and the loop sends again.
			s.state = "syncing"
			var res flow.SyncResult
			err := workflow.ExecuteActivity(syncCtx, a.SyncRecord, flow.SyncInput{Vendor: in.Vendor, Kind: in.Kind, ExternalID: in.ExternalID}).Get(ctx, &res)
			if err == nil {
				s.Attempt = int(res.Attempt)
				s.Synced = max(s.Synced, res.SyncedRevision)
				s.Target = max(s.Target, res.CurrentRevision)
				s.lastErr = ""
				if res.Sent {
					s.skipped = false
				}
				s.notify(ctx, "", "", false)
				continue
			}
			s.park(err)
			s.notify(ctx, "", "", true)
		case s.Parked != nil:
			s.state = "waiting-operator"
			s.receive(ctx, persisted, retries, skips, true)
		default:
			s.state = "idle"
			if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
				// An outcome signal still in flight when this run closes is
				// never delivered: wait for them, then take in what arrived
				// meanwhile before closing.
				if !s.flush(ctx, persisted, retries, skips) {
					continue
				}
				next := in
				carry := s.RecordCarry
				next.Carry = &carry
				return workflow.NewContinueAsNewError(ctx, RecordWorkflow, next)
			}
			timerCtx, cancel := workflow.WithCancel(ctx)
			timedOut := false
			sel := workflow.NewSelector(ctx)
			s.addReceivers(ctx, sel, persisted, retries, skips)
			sel.AddFuture(workflow.NewTimer(timerCtx, s.in.IdleTimeout), func(workflow.Future) { timedOut = true })
			sel.Select(ctx)
			cancel()
			if timedOut && persisted.Len() == 0 && retries.Len() == 0 && skips.Len() == 0 && len(s.Waiters) == 0 {
				if !s.flush(ctx, persisted, retries, skips) {
					continue
				}
				s.state = "done"
				return nil
			}
		}
	}
}

// recordState is a RecordWorkflow's working state.
type recordState struct {
	flow.RecordCarry
	in            flow.RecordInput
	state         string
	lastErr       string
	skipRequested *flow.OperatorRequest
	skipAnswers   []*answer         // skip updates waiting for skipRequested to be applied
	skipping      bool              // MarkSkipped is recording the parked revision's skip
	wake          workflow.Channel  // an update handler changed the state: the loop looks again
	skipped       bool              // the newest revision was skipped by an operator, not sent
	pending       []workflow.Future // outcome signals sent, not yet acknowledged
	// deliverLocally sends outcome signals from a local activity (runs
	// since changeOutcomeByLocalActivity), with deliver's options.
	deliverLocally bool
	deliver        workflow.Context
}

// changeOutcomeByLocalActivity versions sending the outcome signals from a
// local activity (DeliverOutcomes) instead of as SignalExternalWorkflow
// commands: each of those cost the record workflow two history events and a
// workflow task of its own when the server confirmed the signal.
const changeOutcomeByLocalActivity = "outcome-by-local-activity"

// flush waits until every outcome signal sent so far was delivered (or
// failed) and every update handler has answered, and reports whether the run
// may close: no signal arrived meanwhile.
func (s *recordState) flush(ctx workflow.Context, channels ...workflow.ReceiveChannel) bool {
	for _, f := range s.pending {
		_ = f.Get(ctx, nil) // a closed event workflow has nothing left to learn
	}
	s.pending = nil
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	for _, c := range channels {
		if c.Len() > 0 {
			return false
		}
	}
	return true
}

func (s *recordState) status() (flow.Status, error) {
	st := flow.Status{State: s.state, SyncStatus: s.syncStatus(), Kind: s.in.Kind, ExternalID: s.in.ExternalID,
		Revision: s.Target, Synced: s.Synced, Attempts: s.Attempt, LastError: s.lastErr}
	if s.Parked != nil {
		st.Attempts = s.Parked.Attempts
		st.LastError = s.Parked.Reason
	}
	return st, nil
}

func (s *recordState) syncStatus() string {
	switch {
	case s.Parked != nil:
		return flow.StatusRejected
	case s.Target > s.Synced:
		return flow.StatusPending
	case s.skipped:
		return flow.StatusSkipped
	default:
		return flow.StatusSynced
	}
}

// receive handles one signal; it blocks for one when wait is set and reports
// whether a signal was handled.
func (s *recordState) receive(ctx workflow.Context, persisted, retries, skips workflow.ReceiveChannel, wait bool) bool {
	sel := workflow.NewSelector(ctx)
	s.addReceivers(ctx, sel, persisted, retries, skips)
	if !wait {
		if !sel.HasPending() {
			return false
		}
	}
	sel.Select(ctx)
	return true
}

func (s *recordState) addReceivers(ctx workflow.Context, sel workflow.Selector, persisted, retries, skips workflow.ReceiveChannel) {
	sel.AddReceive(persisted, func(c workflow.ReceiveChannel, _ bool) {
		var p flow.PersistedSignal
		c.Receive(ctx, &p)
		s.Target = max(s.Target, p.Revision)
		if w := (flow.Waiter{WorkflowID: p.EventWorkflowID, Revision: p.Revision}); w.WorkflowID != "" && !slices.Contains(s.Waiters, w) {
			// An event workflow tells its record again every renotifyAfter; it waits once.
			s.Waiters = append(s.Waiters, w)
		}
		if s.Parked != nil && p.Revision > s.Parked.Revision {
			s.Parked = nil // a newer state may well be acceptable: try it
		}
		// A late signal for a revision the parked rejection covers hears "rejected" too.
		s.notify(ctx, "", "", s.Parked != nil && p.Revision <= s.Parked.Revision)
	})
	sel.AddReceive(retries, func(c workflow.ReceiveChannel, _ bool) {
		var o flow.OperatorRequest
		c.Receive(ctx, &o)
		// Only a parked record has anything to retry; the others are already
		// sending or caught up, and a signal has no one to answer.
		if _, err := s.retry(); err != nil {
			workflow.GetLogger(ctx).Info("retry signal ignored", "reason", err.Error())
		}
	})
	sel.AddReceive(skips, func(c workflow.ReceiveChannel, _ bool) {
		var o flow.OperatorRequest
		c.Receive(ctx, &o)
		s.requestSkip(o)
	})
	sel.AddReceive(s.wake, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
}

// park records a failed send: an ERP rejection, or a retry budget run out.
func (s *recordState) park(err error) {
	r := flow.Rejection{Revision: s.Target, Reason: err.Error()}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() == flow.ErrERPRejected && appErr.HasDetails() {
		var d flow.Rejection
		if appErr.Details(&d) == nil {
			r = d
		}
	} else {
		r.Reason = fmt.Sprintf("gave up after the retry budget: %v", err)
	}
	if r.Revision == 0 {
		r.Revision = s.Target
	}
	s.Parked = &r
	s.lastErr = r.Reason
}

// notify tells waiting event workflows what became of their revisions:
// settled ones (at or below the synced revision) are answered and dropped;
// when tellRejected is set (just parked), the ones the rejection covers hear
// "rejected" and keep waiting.
func (s *recordState) notify(ctx workflow.Context, settle string, detail string, tellRejected bool) {
	var a *activities.Activities
	var deliveries []flow.OutcomeDelivery
	keep := s.Waiters[:0]
	for _, w := range s.Waiters {
		var o *flow.OutcomeSignal
		switch {
		case w.Revision <= s.Synced:
			status := flow.StatusSynced
			if settle != "" {
				status = settle
			} else if w.Revision < s.Synced {
				status = flow.StatusSuperseded
			}
			o = &flow.OutcomeSignal{Revision: w.Revision, Status: status, SyncedRevision: s.Synced, Attempts: s.Attempt, Detail: detail}
			if status == flow.StatusSuperseded {
				o.Detail = fmt.Sprintf("the ERP has revision %d, newer than this event's", s.Synced)
			}
		case tellRejected && s.Parked != nil && w.Revision <= s.Parked.Revision:
			o = &flow.OutcomeSignal{Revision: w.Revision, Status: flow.StatusRejected, SyncedRevision: s.Synced, Attempts: s.Parked.Attempts,
				Detail: s.Parked.Reason}
			keep = append(keep, w)
		default:
			keep = append(keep, w)
		}
		if o != nil {
			// A closed event workflow has nothing left to learn; failures are ignored.
			if s.deliverLocally {
				deliveries = append(deliveries, flow.OutcomeDelivery{EventWorkflowID: w.WorkflowID, Outcome: *o})
			} else {
				s.pending = append(s.pending, workflow.SignalExternalWorkflow(ctx, w.WorkflowID, "", flow.SignalOutcome, *o))
			}
		}
	}
	s.Waiters = keep
	if len(deliveries) > 0 {
		// In the order they were decided: the previous deliveries first.
		for _, f := range s.pending {
			_ = f.Get(ctx, nil)
		}
		s.pending = append(s.pending[:0], workflow.ExecuteLocalActivity(s.deliver, a.DeliverOutcomes, deliveries))
	}
	// Forget the signals already delivered.
	s.pending = slices.DeleteFunc(s.pending, func(f workflow.Future) bool { return f.IsReady() })
}

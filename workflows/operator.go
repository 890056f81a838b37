package workflows

// An operator's retry and skip. Both are Workflow Updates that answer what
// they did or, through a validator, why they cannot apply; and both stay
// signals for the scripts that send them, which go through the same
// recordState methods (a signal that does not apply is logged and dropped).

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/erpbridge/erpbridge/activities"
	"github.com/erpbridge/erpbridge/flow"
)

// answer is what an update handler waiting on the workflow's loop hears.
type answer struct {
	done bool
	text string
	err  error
}

// notApplicable is the failure an operator sees when retry or skip has nothing to act on.
func notApplicable(update, why string) error {
	return temporal.NewNonRetryableApplicationError("nothing to "+update+": "+why, flow.ErrNotApplicable, nil)
}

// setUpdateHandlers registers the retry and skip updates of a record workflow.
func (s *recordState) setUpdateHandlers(ctx workflow.Context) error {
	s.wake = workflow.NewBufferedChannel(ctx, 1)
	retry := func(_ workflow.Context, _ flow.OperatorRequest) (string, error) {
		text, err := s.retry()
		s.wake.SendAsync(nil)
		return text, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, flow.UpdateRetry, retry, workflow.UpdateHandlerOptions{
		Validator:   func(flow.OperatorRequest) error { return s.applicable(flow.UpdateRetry) },
		Description: "Send a rejected record to the ERP again. Input: {\"reason\": \"...\"}",
	}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, flow.UpdateSkip, s.skip, workflow.UpdateHandlerOptions{
		Validator:   func(flow.OperatorRequest) error { return s.applicable(flow.UpdateSkip) },
		Description: "Give up on a rejected record: close it as skipped. Input: {\"reason\": \"...\"}",
	})
}

// applicable returns why an operator's retry or skip cannot apply now, or
// nil: only a parked record has anything to retry or skip.
func (s *recordState) applicable(update string) error {
	switch {
	case s.Parked != nil && s.skipping:
		return notApplicable(update, fmt.Sprintf("revision %d is being skipped", s.Parked.Revision))
	case s.Parked != nil:
		return nil
	case s.Target > s.Synced:
		return notApplicable(update, fmt.Sprintf("record is sending revision %d", s.Target))
	case s.skipped:
		return notApplicable(update, fmt.Sprintf("revision %d was skipped", s.Synced))
	default:
		return notApplicable(update, "record is synced")
	}
}

// retry unparks the record, so the loop sends its newest state again.
func (s *recordState) retry() (string, error) {
	if err := s.applicable(flow.UpdateRetry); err != nil {
		return "", err
	}
	s.Parked, s.lastErr = nil, ""
	return fmt.Sprintf("retrying revision %d", s.Target), nil
}

// requestSkip asks the loop to skip the parked revision (applySkip).
func (s *recordState) requestSkip(o flow.OperatorRequest) {
	if o.Reason == "" {
		o.Reason = "no reason given"
	}
	s.skipRequested = &o
}

// skip is the skip update: it answers once the loop has recorded the skip.
func (s *recordState) skip(ctx workflow.Context, o flow.OperatorRequest) (string, error) {
	s.requestSkip(o)
	ans := &answer{}
	s.skipAnswers = append(s.skipAnswers, ans)
	s.wake.SendAsync(nil)
	if err := workflow.Await(ctx, func() bool { return ans.done }); err != nil {
		return "", err
	}
	return ans.text, ans.err
}

// applySkip closes the parked revision as skipped (recorded in the database,
// then told to its waiting events), or drops a skip that no longer applies,
// and answers the skip updates waiting on it.
func (s *recordState) applySkip(ctx, local workflow.Context) error {
	var a *activities.Activities
	ans := answer{done: true}
	if s.Parked == nil {
		// A skip signal to a record with nothing parked, or unparked meanwhile.
		s.skipRequested = nil
		ans.err = s.applicable(flow.UpdateSkip)
		workflow.GetLogger(ctx).Info("skip ignored", "reason", ans.err.Error())
	} else {
		rev, reason := s.Parked.Revision, s.skipRequested.Reason
		skip := flow.SkipInput{Vendor: s.in.Vendor, Kind: s.in.Kind, ExternalID: s.in.ExternalID, Revision: rev, Reason: reason}
		s.skipping = true
		if err := workflow.ExecuteActivity(local, a.MarkSkipped, skip).Get(ctx, nil); err != nil {
			return err
		}
		s.Synced = max(s.Synced, rev)
		s.notify(ctx, flow.StatusSkipped, "skipped by operator: "+reason, false)
		s.Parked, s.lastErr, s.skipped, s.skipRequested, s.skipping = nil, "", true, nil, false
		ans.text = fmt.Sprintf("skipped revision %d", rev)
	}
	for _, w := range s.skipAnswers {
		*w = ans
	}
	s.skipAnswers = nil
	return nil
}

// setEventUpdateHandlers registers an event workflow's retry and skip
// updates. The record workflow owns the sync, so an accepted request is run
// as the same update on it (through an activity: a workflow cannot update
// another) and its answer, or its refusal, is the event's. The names of the
// updates the record accepted arrive on the returned channel for the wait loop.
func setEventUpdateHandlers(ctx workflow.Context, st *flow.Status, recordID string) (workflow.ReceiveChannel, error) {
	var a *activities.Activities
	accepted := workflow.NewBufferedChannel(ctx, 2)
	for _, name := range []string{flow.UpdateRetry, flow.UpdateSkip} {
		forward := func(ctx workflow.Context, req flow.OperatorRequest) (string, error) {
			req.Requester = workflow.GetInfo(ctx).WorkflowExecution.ID
			in := flow.ForwardInput{RecordWorkflowID: recordID, Update: name, Request: req}
			var text string
			if err := workflow.ExecuteActivity(operatorStepOptions(ctx), a.ForwardOperatorRequest, in).Get(ctx, &text); err != nil {
				// The record's own words, not the activity's wrapping.
				var appErr *temporal.ApplicationError
				if errors.As(err, &appErr) {
					return "", temporal.NewNonRetryableApplicationError(appErr.Message(), appErr.Type(), nil)
				}
				return "", err
			}
			accepted.SendAsync(name)
			return text, nil
		}
		validate := func(flow.OperatorRequest) error {
			// Only a rejected event has anything to retry or skip; its record answers the rest.
			if st.SyncStatus != flow.StatusRejected {
				return notApplicable(name, "event is "+st.SyncStatus+", not rejected")
			}
			return nil
		}
		if err := workflow.SetUpdateHandlerWithOptions(ctx, name, forward, workflow.UpdateHandlerOptions{Validator: validate,
			Description: "Passed on to the record workflow: " + name + " its rejected revision. Input: {\"reason\": \"...\"}"}); err != nil {
			return nil, err
		}
	}
	return accepted, nil
}

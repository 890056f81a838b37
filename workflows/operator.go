package workflows

// An operator's retry and skip of a parked record. Both are Workflow Updates
// that answer what they did or, through a validator, why they cannot apply;
// both are also signals of the same names, for scripts and batch jobs, which
// go through the same recordRun methods (a signal that does not apply is
// logged and dropped).

import (
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
func (r *recordRun) setUpdateHandlers() error {
	ctx := r.ctx
	r.wake = workflow.NewBufferedChannel(ctx, 1)
	retry := func(_ workflow.Context, _ flow.OperatorRequest) (string, error) {
		text, err := r.retry()
		r.wake.SendAsync(nil)
		return text, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, flow.UpdateRetry, retry, workflow.UpdateHandlerOptions{
		Validator:   func(flow.OperatorRequest) error { return r.applicable(flow.UpdateRetry) },
		Description: "Send a rejected record to the ERP again. Input: {\"reason\": \"...\"}",
	}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, flow.UpdateSkip, r.skip, workflow.UpdateHandlerOptions{
		Validator:   func(flow.OperatorRequest) error { return r.applicable(flow.UpdateSkip) },
		Description: "Give up on a rejected record: close it as skipped. Input: {\"reason\": \"...\"}",
	})
}

// applicable returns why an operator's retry or skip cannot apply now, or
// nil: only a parked record has anything to retry or skip.
func (r *recordRun) applicable(update string) error {
	switch {
	case r.Parked != nil && r.skipping:
		return notApplicable(update, fmt.Sprintf("revision %d is being skipped", r.Parked.Revision))
	case r.Parked != nil:
		return nil
	case r.Target > r.Synced:
		return notApplicable(update, fmt.Sprintf("record is sending revision %d", r.Target))
	case r.Skipped:
		return notApplicable(update, fmt.Sprintf("revision %d was skipped", r.Synced))
	default:
		return notApplicable(update, "record is synced")
	}
}

// retry unparks the record, so the loop sends its newest state again.
func (r *recordRun) retry() (string, error) {
	if err := r.applicable(flow.UpdateRetry); err != nil {
		return "", err
	}
	r.Parked, r.lastErr = nil, ""
	return fmt.Sprintf("retrying revision %d", r.Target), nil
}

// requestSkip asks the loop to skip the parked revision (applySkip).
func (r *recordRun) requestSkip(o flow.OperatorRequest) {
	if o.Reason == "" {
		o.Reason = "no reason given"
	}
	r.skipRequested = &o
}

// skip is the skip update: it answers once the loop has recorded the skip.
func (r *recordRun) skip(ctx workflow.Context, o flow.OperatorRequest) (string, error) {
	r.requestSkip(o)
	ans := &answer{}
	r.skipAnswers = append(r.skipAnswers, ans)
	r.wake.SendAsync(nil)
	if err := workflow.Await(ctx, func() bool { return ans.done }); err != nil {
		return "", err
	}
	return ans.text, ans.err
}

// applySkip closes the parked revision as skipped (recorded in the database,
// then told to its waiting events), or drops a skip that no longer applies,
// and answers the skip updates waiting on it.
func (r *recordRun) applySkip() error {
	ctx := r.ctx
	var a *activities.Activities
	ans := answer{done: true}
	if r.Parked == nil {
		// A skip signal to a record with nothing parked, or unparked meanwhile.
		r.skipRequested = nil
		ans.err = r.applicable(flow.UpdateSkip)
		workflow.GetLogger(ctx).Info("skip ignored", "reason", ans.err.Error())
	} else {
		rev, reason := r.Parked.Revision, r.skipRequested.Reason
		skip := flow.SkipInput{Vendor: r.in.Vendor, Kind: r.in.Kind, ExternalID: r.in.ExternalID, Revision: rev, Reason: reason}
		r.skipping = true
		if err := workflow.ExecuteLocalActivity(stepOptions(ctx), a.MarkSkipped, skip).Get(ctx, nil); err != nil {
			return err
		}
		r.Synced = max(r.Synced, rev)
		r.Parked, r.lastErr, r.Skipped, r.skipRequested, r.skipping = nil, "", true, nil, false
		ans.text = fmt.Sprintf("skipped revision %d", rev)
	}
	for _, w := range r.skipAnswers {
		*w = ans
	}
	r.skipAnswers = nil
	return nil
}

package ops

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/models"
)

// The results of an operator's retry or skip of one record.
const (
	// ResultRetrying: the record workflow took the retry (or was started to
	// send the parked state again); its outcome was not waited for.
	ResultRetrying = "retrying"
	// ResultSynced: retried, and the ERP accepted the record.
	ResultSynced = "synced"
	// ResultParked: retried, and the ERP refused the record again: parked, with the new reason.
	ResultParked = "parked"
	// ResultSending: retried, and still being sent when the wait ran out.
	ResultSending = "sending"
	// ResultSkipped: the parked state was skipped, and recorded so.
	ResultSkipped = "skipped"
	// ResultRefused: nothing was done: there was nothing to retry or skip (Answer says why).
	ResultRefused = "refused"
	// ResultFailed: the request could not be made (Error says why).
	ResultFailed = "failed"
	// ResultWouldRetry: a dry run's record, which a bulk retry would retry.
	ResultWouldRetry = "would-retry"
)

// Outcome is what an operator's retry or skip of one record came to.
type Outcome struct {
	Record string `json:"record"`
	Action string `json:"action"`
	// Result is one of the Result constants.
	Result string `json:"result"`
	// Answer is the record workflow's answer ("retrying revision 2",
	// "skipped revision 2"), its refusal ("nothing to retry: record is
	// synced"), or what ops did in its stead.
	Answer string `json:"answer,omitempty"`
	// Started: the record workflow was not running and was started to send the state again.
	Started bool `json:"started,omitempty"`
	// Revision is the revision retried or skipped.
	Revision int64 `json:"revision,omitempty"`
	// HTTPStatus and Reason are the ERP's refusal when the record parked
	// again, or its last failure while the record is still being sent.
	HTTPStatus int    `json:"http_status,omitempty"`
	Reason     string `json:"reason,omitempty"`
	// Error says why the request failed.
	Error string `json:"error,omitempty"`

	// mark is the newest ERP answer before the retry: those after it are the retry's.
	mark uint64
}

// ExitCode is the exit status of `erpbridge ops` for the outcome.
func (o Outcome) ExitCode() int {
	switch o.Result {
	case ResultRefused:
		return ExitRefused
	case ResultParked:
		return ExitParked
	case ResultSending:
		return ExitSending
	case ResultFailed:
		return 1
	}
	return 0
}

// Retry asks a parked record's workflow to send it again (the retry
// update) and returns its answer; Await then waits for the outcome. A
// record whose row is parked but whose workflow is not running is started
// as the service starts it, and sends the state again. A record that is
// not parked is refused, with the reason. The error is for what stopped
// the request itself (the record is not stored, Temporal or the database
// did not answer).
func (o *Ops) Retry(ctx context.Context, k RecordKey, reason string) (Outcome, error) {
	mark, err := o.Store.LastAttemptID(ctx)
	if err != nil {
		return fail(Outcome{Record: k.String(), Action: flow.UpdateRetry}, err)
	}
	out, err := o.retry(ctx, k, reason)
	out.mark = mark
	return out, err
}

// retry sends the retry of one record and returns its answer.
func (o *Ops) retry(ctx context.Context, k RecordKey, reason string) (Outcome, error) {
	out := Outcome{Record: k.String(), Action: flow.UpdateRetry}
	st, done, err := o.ask(ctx, k, &out, reason, ResultRetrying)
	if done {
		return out, err
	}
	if st.SyncStatus != models.RecordRejected {
		out.Result, out.Answer = ResultRefused, rowRefusal(flow.UpdateRetry, k, st)
		return out, nil
	}
	// Parked, and no workflow holds it: start one, as the service does; it
	// sends the newest state.
	if err := o.Notify(ctx, flow.NotifyInput{Vendor: k.Vendor, Kind: k.Kind, ExternalID: k.ExternalID, Revision: st.Revision}); err != nil {
		return fail(out, fmt.Errorf("start the record workflow %s: %w", k.WorkflowID(), err))
	}
	out.Result, out.Started, out.Revision = ResultRetrying, true, st.Revision
	out.Answer = fmt.Sprintf("its record workflow was not running: started it, retrying revision %d", st.Revision)
	return out, nil
}

// Skip asks a parked record's workflow to give up on its parked state (the
// skip update), which records it as skipped with the reason. A record that
// is not parked is refused, with the reason; so is a parked one whose
// workflow is not running, with the command that starts it.
func (o *Ops) Skip(ctx context.Context, k RecordKey, reason string) (Outcome, error) {
	out := Outcome{Record: k.String(), Action: flow.UpdateSkip}
	if strings.TrimSpace(reason) == "" {
		return fail(out, errors.New("a skip needs a reason (--reason): it is recorded with the skipped state"))
	}
	st, done, err := o.ask(ctx, k, &out, reason, ResultSkipped)
	if done {
		return out, err
	}
	out.Result = ResultRefused
	if st.SyncStatus == models.RecordRejected {
		out.Answer = "nothing to skip yet: the record is parked but its record workflow is not running. Start it with " +
			"`erpbridge ops retry --record " + Quote(k.String()) + "`: if the ERP refuses again, the record parks and skip applies"
		return out, nil
	}
	out.Answer = rowRefusal(flow.UpdateSkip, k, st)
	return out, nil
}

// ask loads a record's row and, when its workflow runs, sends it the
// update out.Action with the reason, filling out (see answered). done is
// false when no workflow runs, or the run closed since it was looked at:
// the caller goes on from the row, as if none were running. When done, err
// is what stopped the request, if anything.
func (o *Ops) ask(ctx context.Context, k RecordKey, out *Outcome, reason, result string) (st models.RecordState, done bool, err error) {
	st, running, err := o.lookup(ctx, k)
	if err != nil {
		*out, err = fail(*out, err)
		return st, true, err
	}
	if !running {
		return st, false, nil
	}
	answer, err := o.update(ctx, k.WorkflowID(), out.Action, reason)
	done, err = answered(out, answer, err, result, st.Revision)
	return st, done || err != nil, err
}

// lookup loads a record's row and whether its workflow runs.
func (o *Ops) lookup(ctx context.Context, k RecordKey) (models.RecordState, bool, error) {
	st, found, err := o.Store.FindRecord(ctx, k.Vendor, k.Kind, k.ExternalID)
	if err != nil {
		return st, false, err
	}
	if !found || st.Version < 0 {
		return st, false, fmt.Errorf("%w: no record %s is stored", ErrNotFound, k)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	d, found, err := o.describe(ctx, k.WorkflowID())
	if err != nil {
		return st, false, fmt.Errorf("describe the record workflow %s: %w", k.WorkflowID(), err)
	}
	return st, found && d.Status == enums.WORKFLOW_EXECUTION_STATUS_RUNNING, nil
}

// update runs an operator's update on a record workflow and returns its answer.
func (o *Ops) update(ctx context.Context, workflowID, name, reason string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	h, err := o.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflowID, UpdateName: name,
		Args: []any{flow.OperatorRequest{Reason: reason}}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err != nil {
		return "", err
	}
	var answer string
	err = h.Get(ctx, &answer)
	return answer, err
}

// answered fills out from an update's answer: done when the workflow
// answered (did it, as result, or refused); neither done nor an error
// when the run had closed meanwhile.
func answered(out *Outcome, answer string, err error, result string, revision int64) (bool, error) {
	var appErr *temporal.ApplicationError
	var nf *serviceerror.NotFound
	switch {
	case err == nil:
		out.Result, out.Answer, out.Revision = result, answer, revision
		var n int64
		if _, scanErr := fmt.Sscanf(answer[strings.LastIndexByte(answer, ' ')+1:], "%d", &n); scanErr == nil {
			out.Revision = n
		}
		return true, nil
	case errors.As(err, &appErr) && appErr.Type() == flow.ErrNotApplicable:
		out.Result, out.Answer = ResultRefused, appErr.Message()
		return true, nil
	case errors.As(err, &nf) || strings.Contains(err.Error(), "already completed"):
		return false, nil
	}
	out.Result, out.Error = ResultFailed, err.Error()
	return true, fmt.Errorf("%s %s: %w", out.Action, out.Record, err)
}

// rowRefusal is the refusal of an update to a record that is not parked
// and has no workflow running, in the words of the workflow's own.
func rowRefusal(update string, k RecordKey, st models.RecordState) string {
	switch {
	case st.Revision > st.SyncedRevision:
		return fmt.Sprintf("nothing to %s: record waits to send revision %d, and its record workflow is not running: "+
			"`erpbridge resend --vendor %s --kind %s --id %s` starts it", update, st.Revision, Quote(k.Vendor), Quote(k.Kind), Quote(k.ExternalID))
	case st.SyncStatus == models.RecordSkipped:
		return fmt.Sprintf("nothing to %s: revision %d was skipped", update, st.SyncedRevision)
	default:
		return "nothing to " + update + ": record is synced"
	}
}

func fail(out Outcome, err error) (Outcome, error) {
	out.Result, out.Error = ResultFailed, err.Error()
	return out, err
}

// Await waits up to wait for a record Retry retried (out is Retry's
// outcome) to reach the ERP or be parked again, and says which; still
// being sent when the wait ends, it says so with the record workflow's
// last error. An outcome other than retrying is returned as it is.
func (o *Ops) Await(ctx context.Context, k RecordKey, out Outcome, wait time.Duration) (Outcome, error) {
	if out.Result != ResultRetrying || wait <= 0 {
		return out, nil
	}
	mark := out.mark
	poll := o.poll()
	deadline := time.Now().Add(wait)
	var st models.RecordState
	var last []models.SyncAttempt // the ERP's newest answer since the retry, once there is one
	for {
		var err error
		if st, _, err = o.Store.FindRecord(ctx, k.Vendor, k.Kind, k.ExternalID); err != nil {
			return out, err
		}
		newer, err := o.Store.RecordAttemptsAfter(ctx, k.Vendor, k.Kind, k.ExternalID, mark)
		if err != nil {
			return out, err
		}
		if n := len(newer); n > 0 {
			last, mark = newer[n-1:], newer[n-1].ID
		}
		if settle(&out, st, last) {
			return out, nil
		}
		if !time.Now().Add(poll).Before(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-time.After(poll):
		}
	}
	// Still not settled: the workflow knows whether it gave up (its row
	// still says pending when the retry budget ran out and recording the
	// parking, MarkParked, failed).
	w := o.workflow(ctx, k.WorkflowID())
	out.Result, out.Reason = ResultSending, st.LastError
	if w.Status != nil && w.Status.LastError != "" {
		out.Reason = w.Status.LastError
	}
	if w.parked() {
		out.Result = ResultParked
	}
	return out, nil
}

// poll is how often a wait looks again (Poll, default 250 ms).
func (o *Ops) poll() time.Duration {
	if o.Poll <= 0 {
		return 250 * time.Millisecond
	}
	return o.Poll
}

// settle says whether a retried record has an outcome, given its row and
// the ERP's answers since the retry, and fills it in.
func settle(out *Outcome, st models.RecordState, since []models.SyncAttempt) bool {
	var last *models.SyncAttempt
	if len(since) > 0 {
		last = &since[len(since)-1]
	}
	switch {
	case last != nil && last.Outcome == models.AttemptRejected && st.SyncStatus == models.RecordRejected:
		out.Result, out.HTTPStatus, out.Reason = ResultParked, last.HTTPStatus, last.Detail
	case last != nil && last.Outcome == models.AttemptSkipped:
		out.Result, out.Reason = ResultSkipped, last.Detail
	case st.SyncedRevision >= out.Revision && st.SyncStatus != models.RecordRejected && st.SyncStatus != models.RecordSkipped:
		out.Result, out.HTTPStatus, out.Reason = ResultSynced, 0, ""
	default:
		if last != nil && last.Outcome == models.AttemptRetry {
			out.HTTPStatus, out.Reason = last.HTTPStatus, last.Detail
		}
		return false
	}
	return true
}

package workflows_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/vendors"
)

// updateOutcome is what became of one update sent to the workflow under test.
type updateOutcome struct {
	accepted  bool
	rejected  error // the validator's refusal
	completed bool
	answer    any
	err       error // the handler's failure
	at        time.Time
}

// updateAt sends an update to the workflow under test after d of workflow time.
func (h *harness) updateAt(d time.Duration, name string, req flow.OperatorRequest) *updateOutcome {
	u := &updateOutcome{}
	h.at(d, func() {
		h.env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
			OnAccept: func() { u.accepted = true },
			OnReject: func(err error) { u.rejected = err },
			OnComplete: func(v any, err error) {
				u.completed, u.answer, u.err, u.at = true, v, err, h.env.Now()
			},
		}, req)
	})
	return u
}

// requireAnswered requires an update accepted and completed with the answer.
func requireAnswered(t *testing.T, u *updateOutcome, answer string) {
	t.Helper()
	require.NoError(t, u.rejected)
	require.True(t, u.accepted, "update not accepted")
	require.True(t, u.completed, "update not completed")
	require.NoError(t, u.err)
	assert.Equal(t, answer, u.answer)
}

// requireNotApplicable requires an error to be an operator's NotApplicable with the message.
func requireNotApplicable(t *testing.T, err error, msg string) {
	t.Helper()
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	assert.Equal(t, flow.ErrNotApplicable, appErr.Type())
	assert.Equal(t, msg, appErr.Message())
}

// requireRefused requires an update rejected by the validator with the message.
func requireRefused(t *testing.T, u *updateOutcome, msg string) {
	t.Helper()
	require.Error(t, u.rejected, "update was not rejected")
	assert.False(t, u.accepted)
	assert.False(t, u.completed)
	requireNotApplicable(t, u.rejected, msg)
}

// parkedThen mocks a SyncRecord that the ERP rejects once, then accepts.
func parkedThen(h *harness) flow.Rejection {
	rej := rejectFirstSend(h)
	h.env.OnActivity(a.SyncRecord, mock.Anything, syncIn).Return(synced(1, 1), nil).Maybe()
	return rej
}

func TestRecordRetryUpdateAnswersAndSendsAgain(t *testing.T) {
	h := newHarness(t)
	parkedThen(h)
	h.signalAt(0, flow.SignalPersisted, persisted(1))
	u := h.updateAt(time.Hour, flow.UpdateRetry, flow.OperatorRequest{Reason: "customer code added"})

	h.env.ExecuteWorkflow(flow.RecordWorkflowName, recordInput())
	requireCompleted(t, h)

	requireAnswered(t, u, "retrying revision 1")
	h.env.AssertActivityNumberOfCalls(t, "SyncRecord", 2)
	assert.Equal(t, []string{statusOf(models.RecordPending), statusOf(models.RecordRejected), statusOf(models.RecordPending), statusOf(models.RecordSynced)}, h.statuses())
	assert.Equal(t, statusOf(models.RecordSynced), h.lastStatus())
}

func TestRecordRetryUpdateRefusedWhenNothingIsParked(t *testing.T) {
	h := newHarness(t)
	// The first send takes a minute; the update during it finds nothing parked.
	h.env.OnActivity(a.SyncRecord, mock.Anything, syncIn).After(time.Minute).Return(synced(1, 1), nil).Once()
	h.signalAt(0, flow.SignalPersisted, persisted(1))
	sending := h.updateAt(30*time.Second, flow.UpdateRetry, flow.OperatorRequest{})
	caughtUp := h.updateAt(2*time.Minute, flow.UpdateRetry, flow.OperatorRequest{})

	h.env.ExecuteWorkflow(flow.RecordWorkflowName, recordInput())
	requireCompleted(t, h)

	requireRefused(t, sending, "nothing to retry: record is sending revision 1")
	requireRefused(t, caughtUp, "nothing to retry: record is synced")
	h.env.AssertActivityNumberOfCalls(t, "SyncRecord", 1)
	assert.Equal(t, []string{statusOf(models.RecordPending), statusOf(models.RecordSynced)}, h.statuses())
}

func TestRecordSkipUpdateAnswersAfterTheSkipIsRecorded(t *testing.T) {
	h := newHarness(t)
	parkedThen(h)
	var marked atomic.Bool
	skip := flow.SkipInput{Vendor: vendors.AutoX3, Kind: recordKind, ExternalID: recordExt, Revision: 1, Reason: "entered in the ERP by hand"}
	h.env.OnActivity(a.MarkSkipped, mock.Anything, skip).After(time.Minute).Return(func(context.Context, flow.SkipInput) error {
		marked.Store(true)
		return nil
	}).Once()
	h.signalAt(0, flow.SignalPersisted, persisted(1))
	u := h.updateAt(time.Hour, flow.UpdateSkip, flow.OperatorRequest{Reason: "entered in the ERP by hand"})
	// While the skip is being recorded, neither a second skip nor a retry applies.
	var markedEarly bool
	h.at(time.Hour+30*time.Second, func() { markedEarly = marked.Load() || u.completed })
	again := h.updateAt(time.Hour+30*time.Second, flow.UpdateSkip, flow.OperatorRequest{})
	retry := h.updateAt(time.Hour+30*time.Second, flow.UpdateRetry, flow.OperatorRequest{})

	h.env.ExecuteWorkflow(flow.RecordWorkflowName, recordInput())
	requireCompleted(t, h)

	requireAnswered(t, u, "skipped revision 1")
	assert.False(t, markedEarly, "answered before the skip was recorded")
	assert.True(t, marked.Load())
	requireRefused(t, again, "nothing to skip: revision 1 is being skipped")
	requireRefused(t, retry, "nothing to retry: revision 1 is being skipped")
	h.env.AssertExpectations(t)
	h.env.AssertActivityNumberOfCalls(t, "SyncRecord", 1)
	assert.Equal(t, []string{statusOf(models.RecordPending), statusOf(models.RecordRejected), statusOf(models.RecordSkipped)}, h.statuses())
	assert.Equal(t, statusOf(models.RecordSkipped), h.lastStatus())
}

func TestRecordSkipUpdateRefusedWhenSynced(t *testing.T) {
	h := newHarness(t)
	h.env.OnActivity(a.SyncRecord, mock.Anything, syncIn).Return(synced(1, 1), nil).Once()
	h.signalAt(0, flow.SignalPersisted, persisted(1))
	u := h.updateAt(time.Minute, flow.UpdateSkip, flow.OperatorRequest{Reason: "just in case"})

	h.env.ExecuteWorkflow(flow.RecordWorkflowName, recordInput())
	requireCompleted(t, h)

	requireRefused(t, u, "nothing to skip: record is synced")
	h.env.AssertActivityNotCalled(t, "MarkSkipped", mock.Anything, mock.Anything)
	assert.Equal(t, []string{statusOf(models.RecordPending), statusOf(models.RecordSynced)}, h.statuses())
}

func TestRecordSkipSignalThatDoesNotApplyIsDropped(t *testing.T) {
	h := newHarness(t)
	h.env.OnActivity(a.SyncRecord, mock.Anything, syncIn).Return(synced(1, 1), nil).Once()
	h.signalAt(0, flow.SignalPersisted, persisted(1))
	h.signalAt(time.Minute, flow.UpdateSkip, flow.OperatorRequest{Reason: "just in case"})

	h.env.ExecuteWorkflow(flow.RecordWorkflowName, recordInput())
	requireCompleted(t, h)

	h.env.AssertActivityNotCalled(t, "MarkSkipped", mock.Anything, mock.Anything)
	assert.Equal(t, []string{statusOf(models.RecordPending), statusOf(models.RecordSynced)}, h.statuses())
	assert.Equal(t, statusOf(models.RecordSynced), h.lastStatus())
}

func TestRecordRetrySignalAfterSkipSignalStillWins(t *testing.T) {
	// As before updates existed: a skip and a retry signal that arrive during
	// a send the ERP then rejects are taken in together, the retry first; the
	// record is sent again and the skip finds nothing left to skip.
	h := newHarness(t)
	rej := flow.Rejection{Revision: 1, Version: 10, HTTPStatus: 422, Reason: "customer code is not known to the ERP", Attempts: 1}
	h.env.OnActivity(a.SyncRecord, mock.Anything, syncIn).After(time.Minute).Return(flow.SyncResult{CurrentRevision: 1, Attempt: 1}, rejectedBy(rej)).Once()
	h.env.OnActivity(a.SyncRecord, mock.Anything, syncIn).Return(synced(1, 1), nil).Once()
	h.signalAt(0, flow.SignalPersisted, persisted(1))
	h.signalAt(20*time.Second, flow.UpdateSkip, flow.OperatorRequest{Reason: "test vehicle"})
	h.signalAt(40*time.Second, flow.UpdateRetry, flow.OperatorRequest{})

	h.env.ExecuteWorkflow(flow.RecordWorkflowName, recordInput())
	requireCompleted(t, h)

	h.env.AssertExpectations(t)
	h.env.AssertActivityNotCalled(t, "MarkSkipped", mock.Anything, mock.Anything)
	assert.Equal(t, []string{statusOf(models.RecordPending), statusOf(models.RecordSynced)}, h.statuses(), "unparked in the same pass that parked it")
}

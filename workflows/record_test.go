package workflows_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/vendors"
)

const (
	recordKind = "reception_order"
	recordExt  = "RB-1001"
	eventA     = "autox3:msg-0001" // the test event's workflow id
	idle       = 5 * time.Minute
)

// syncIn is what every SyncRecord call of the test record must carry.
var syncIn = flow.SyncInput{Vendor: vendors.AutoX3, Kind: recordKind, ExternalID: recordExt}

func recordInput() flow.RecordInput {
	return flow.RecordInput{
		Vendor: vendors.AutoX3, Kind: recordKind, ExternalID: recordExt,
		Policy: flow.SyncPolicy{
			RetryBudget: 2 * time.Hour, AttemptTimeout: 30 * time.Second,
			InitialInterval: time.Second, MaximumInterval: time.Minute,
		},
		IdleTimeout: idle,
	}
}

// synced is a successful SyncRecord answer: the ERP now has revision rev.
func synced(rev int64, attempt int32) flow.SyncResult {
	return flow.SyncResult{Sent: true, SentRevision: rev, SentVersion: rev * 10, SyncedRevision: rev, CurrentRevision: rev, Attempt: attempt}
}

// rejectedBy is the failure SyncRecord returns when the ERP refuses a revision.
// rejectFirstSend mocks a first SyncRecord, of revision 1, that the ERP
// rejects for an unknown customer code, and returns the rejection.
func rejectFirstSend(h *harness) flow.Rejection {
	rej := flow.Rejection{Revision: 1, Version: 10, HTTPStatus: 422, Reason: "customer code is not known to the ERP", Attempts: 1}
	h.env.OnActivity(a.SyncRecord, mock.Anything, syncIn).Return(flow.SyncResult{CurrentRevision: 1, Attempt: 1}, rejectedBy(rej)).Once()
	return rej
}

func rejectedBy(rej flow.Rejection) error {
	return temporal.NewNonRetryableApplicationError("ERP answered 422: "+rej.Reason, flow.ErrERPRejected, nil, rej)
}

func persisted(rev int64) flow.PersistedSignal { return flow.PersistedSignal{Revision: rev} }

// statusOf is a record status as the SyncStatus search attribute and the status query carry it.
func statusOf(s models.RecordStatus) string { return string(s) }

func requireCompleted(t *testing.T, h *harness) {
	t.Helper()
	require.True(t, h.env.IsWorkflowCompleted(), "workflow did not complete")
	require.NoError(t, h.env.GetWorkflowError())
}

func TestRecordWorkflowRetriesRetryableFailuresThenSyncs(t *testing.T) {
	h := newHarness(t)
	var sc calls
	h.env.OnActivity(a.SyncRecord, mock.Anything, syncIn).Return(func(ctx context.Context, _ flow.SyncInput) (flow.SyncResult, error) {
		info, _ := sc.add(ctx)
		if info.Attempt < 3 {
			return flow.SyncResult{}, errors.New("ERP answered 503")
		}
		return synced(1, info.Attempt), nil
	})
	h.signalAt(0, flow.SignalPersisted, persisted(1))
	var mid flow.Status
	h.at(time.Minute, func() { mid = h.query() })

	start := h.env.Now()
	h.env.ExecuteWorkflow(flow.RecordWorkflowName, recordInput())
	requireCompleted(t, h)

	// Retried by the activity's retry policy: one activity, three attempts.
	h.env.AssertActivityNumberOfCalls(t, "SyncRecord", 3)
	assert.Equal(t, []int32{1, 2, 3}, sc.attempts())
	for _, info := range sc.all() {
		assert.Equal(t, 2*time.Hour, info.ScheduleToCloseTimeout, "retry budget bounds the whole send")
		assert.Equal(t, 30*time.Second, info.StartToCloseTimeout, "attempt timeout bounds one attempt")
	}

	assert.Equal(t, flow.Status{State: "idle", SyncStatus: statusOf(models.RecordSynced), Kind: recordKind, ExternalID: recordExt,
		Revision: 1, Synced: 1, Attempts: 3}, mid)
	assert.Contains(t, h.statuses(), statusOf(models.RecordPending))
	assert.Equal(t, statusOf(models.RecordSynced), h.lastStatus())

	// Caught up, it lingers for IdleTimeout and then closes.
	elapsed := h.env.Now().Sub(start)
	assert.GreaterOrEqual(t, elapsed, idle)
	assert.Less(t, elapsed, idle+time.Minute)
}

func TestRecordWorkflowParksWhenRetryBudgetRunsOut(t *testing.T) {
	h := newHarness(t)
	in := recordInput()
	in.Policy = flow.SyncPolicy{RetryBudget: 10 * time.Minute, AttemptTimeout: 30 * time.Second, InitialInterval: time.Second, MaximumInterval: time.Minute}
	var sc calls
	h.env.OnActivity(a.SyncRecord, mock.Anything, syncIn).Return(func(ctx context.Context, _ flow.SyncInput) (flow.SyncResult, error) {
		sc.add(ctx)
		return flow.SyncResult{}, errors.New("ERP answered 503")
	})
	h.signalAt(0, flow.SignalPersisted, persisted(1))
	var parked flow.Status
	var completed bool
	h.at(24*time.Hour, func() {
		parked = h.query()
		completed = h.env.IsWorkflowCompleted()
	})
	// The store records the parking, as after a refusal.
	h.env.OnActivity(a.MarkParked, mock.Anything, mock.MatchedBy(func(in flow.SkipInput) bool {
		return in.ExternalID == recordExt && in.Revision == 1 && strings.Contains(in.Reason, "retry budget")
	})).Return(nil).Once()
	h.signalAt(25*time.Hour, flow.UpdateSkip, flow.OperatorRequest{Reason: "ERP decommissioned"})
	h.env.OnActivity(a.MarkSkipped, mock.Anything, flow.SkipInput{Vendor: vendors.AutoX3, Kind: recordKind, ExternalID: recordExt,
		Revision: 1, Reason: "ERP decommissioned"}).Return(nil).Once()

	h.env.ExecuteWorkflow(flow.RecordWorkflowName, in)
	requireCompleted(t, h)

	// The ERP was down for the whole budget: the attempts stop, the record
	// parks for an operator instead of failing the workflow.
	assert.Greater(t, sc.count(), 3)
	for i, n := range sc.attempts() {
		assert.Equal(t, int32(i+1), n, "all attempts belong to one send")
	}
	assert.False(t, completed)
	assert.Equal(t, "waiting-operator", parked.State)
	assert.Equal(t, statusOf(models.RecordRejected), parked.SyncStatus)
	assert.Contains(t, parked.LastError, "retry budget")
	assert.Equal(t, []string{statusOf(models.RecordPending), statusOf(models.RecordRejected), statusOf(models.RecordSkipped)}, h.statuses())
	h.env.AssertExpectations(t)
}

func TestRecordWorkflowClosesAfterDefaultIdleTimeoutWithoutNews(t *testing.T) {
	h := newHarness(t)
	in := recordInput()
	in.IdleTimeout = 0
	start := h.env.Now()
	h.env.ExecuteWorkflow(flow.RecordWorkflowName, in)
	requireCompleted(t, h)
	assert.Equal(t, 10*time.Minute, h.env.Now().Sub(start))
	h.env.AssertActivityNotCalled(t, "SyncRecord", mock.Anything, mock.Anything)
	assert.Equal(t, []string{statusOf(models.RecordSynced)}, h.statuses(), "nothing to send: caught up")
}

func TestRecordWorkflowParksOnRejectionUntilRetry(t *testing.T) {
	h := newHarness(t)
	rej := flow.Rejection{Revision: 1, Version: 10, HTTPStatus: 422, Reason: "customer code is not known to the ERP", Attempts: 1}
	var sc calls
	h.env.OnActivity(a.SyncRecord, mock.Anything, syncIn).Return(func(ctx context.Context, _ flow.SyncInput) (flow.SyncResult, error) {
		info, n := sc.add(ctx)
		if n == 1 {
			return flow.SyncResult{SyncedRevision: 0, CurrentRevision: 1, Attempt: info.Attempt}, rejectedBy(rej)
		}
		return synced(1, info.Attempt), nil
	})
	h.signalAt(0, flow.SignalPersisted, persisted(1))

	// Two days later, well past IdleTimeout: still parked, still running.
	var parked flow.Status
	var callsWhileParked int
	var completedWhileParked bool
	var statusWhileParked string
	h.at(47*time.Hour, func() {
		parked = h.query()
		callsWhileParked = sc.count()
		completedWhileParked = h.env.IsWorkflowCompleted()
		statusWhileParked = h.lastStatus()
	})
	h.signalAt(48*time.Hour, flow.UpdateRetry, flow.OperatorRequest{Reason: "customer code added"})

	start := h.env.Now()
	h.env.ExecuteWorkflow(flow.RecordWorkflowName, recordInput())
	requireCompleted(t, h)

	assert.Equal(t, 1, callsWhileParked, "a rejection is final: no retry of the same send")
	assert.False(t, completedWhileParked)
	assert.Equal(t, flow.Status{State: "waiting-operator", SyncStatus: statusOf(models.RecordRejected), Kind: recordKind, ExternalID: recordExt,
		Revision: 1, Attempts: 1, LastError: rej.Reason}, parked)
	assert.Equal(t, statusOf(models.RecordRejected), statusWhileParked)

	// The operator's retry sends again, which now succeeds.
	h.env.AssertActivityNumberOfCalls(t, "SyncRecord", 2)
	assert.Equal(t, []int32{1, 1}, sc.attempts(), "the retry is a new send, not an attempt of the rejected one")
	assert.Equal(t, []string{statusOf(models.RecordPending), statusOf(models.RecordRejected), statusOf(models.RecordPending), statusOf(models.RecordSynced)}, h.statuses())
	assert.GreaterOrEqual(t, h.env.Now().Sub(start), 48*time.Hour+idle)
	h.env.AssertActivityNotCalled(t, "MarkSkipped", mock.Anything, mock.Anything)
}

func TestRecordWorkflowSkipClosesParkedRevision(t *testing.T) {
	for _, tc := range []struct {
		name, reason, recorded string
	}{
		{name: "with reason", reason: "entered in the ERP by hand", recorded: "entered in the ERP by hand"},
		{name: "without reason", reason: "", recorded: "no reason given"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			rej := flow.Rejection{Revision: 1, Version: 10, HTTPStatus: 400, Reason: "line item has no price", Attempts: 1}
			h.env.OnActivity(a.SyncRecord, mock.Anything, syncIn).Return(flow.SyncResult{CurrentRevision: 1, Attempt: 1}, rejectedBy(rej)).Once()
			skip := flow.SkipInput{Vendor: vendors.AutoX3, Kind: recordKind, ExternalID: recordExt, Revision: 1, Reason: tc.recorded}
			h.env.OnActivity(a.MarkSkipped, mock.Anything, skip).Return(nil).Once()
			h.signalAt(0, flow.SignalPersisted, persisted(1))
			h.signalAt(time.Hour, flow.UpdateSkip, flow.OperatorRequest{Reason: tc.reason})

			h.env.ExecuteWorkflow(flow.RecordWorkflowName, recordInput())
			requireCompleted(t, h)

			h.env.AssertExpectations(t)
			h.env.AssertActivityNumberOfCalls(t, "SyncRecord", 1)
			h.env.AssertActivityNumberOfCalls(t, "MarkSkipped", 1)
			assert.Equal(t, []string{statusOf(models.RecordPending), statusOf(models.RecordRejected), statusOf(models.RecordSkipped)}, h.statuses())
			st := h.query()
			assert.Equal(t, int64(1), st.Revision)
			assert.Equal(t, int64(1), st.Synced)
		})
	}
}

func TestRecordWorkflowSameRevisionAgainStaysParked(t *testing.T) {
	h := newHarness(t)
	rejectFirstSend(h)
	h.env.OnActivity(a.SyncRecord, mock.Anything, syncIn).Return(synced(1, 1), nil).Once()
	h.signalAt(0, flow.SignalPersisted, persisted(1))
	// The sweep, or a redelivery whose Persist found the same revision, tells
	// the parked record of its revision again: still parked, nothing sent.
	h.signalAt(time.Hour, flow.SignalPersisted, persisted(1))
	var whileParked flow.Status
	var callsWhileParked int
	h.at(2*time.Hour, func() {
		whileParked = h.query()
		callsWhileParked = sc(h)
	})
	h.signalAt(3*time.Hour, flow.UpdateRetry, flow.OperatorRequest{})

	h.env.ExecuteWorkflow(flow.RecordWorkflowName, recordInput())
	requireCompleted(t, h)

	assert.Equal(t, statusOf(models.RecordRejected), whileParked.SyncStatus)
	assert.Equal(t, 1, callsWhileParked)
	h.env.AssertActivityNumberOfCalls(t, "SyncRecord", 2)
	assert.Equal(t, statusOf(models.RecordSynced), h.lastStatus())
}

// sc counts the SyncRecord attempts started so far.
func sc(h *harness) int {
	n := 0
	for _, name := range h.activities() {
		if name == "SyncRecord" {
			n++
		}
	}
	return n
}

// newerRevisionDuringFirstSend runs a record workflow whose first send,
// first, takes a minute, with revision 1 persisted at the start and
// revision 2 thirty seconds in; the second send syncs revision 2. It
// requires the workflow completed and both sends made, and returns them.
func newerRevisionDuringFirstSend(t *testing.T, h *harness, first func(ctx context.Context, sc *calls) (flow.SyncResult, error)) *calls {
	t.Helper()
	sc := &calls{}
	h.env.OnActivity(a.SyncRecord, mock.Anything, syncIn).After(time.Minute).Return(
		func(ctx context.Context, _ flow.SyncInput) (flow.SyncResult, error) { return first(ctx, sc) }).Once()
	h.env.OnActivity(a.SyncRecord, mock.Anything, syncIn).Return(func(ctx context.Context, _ flow.SyncInput) (flow.SyncResult, error) {
		info, _ := sc.add(ctx)
		return synced(2, info.Attempt), nil
	}).Once()
	h.signalAt(0, flow.SignalPersisted, persisted(1))
	h.signalAt(30*time.Second, flow.SignalPersisted, persisted(2))

	h.env.ExecuteWorkflow(flow.RecordWorkflowName, recordInput())
	requireCompleted(t, h)
	h.env.AssertExpectations(t)
	return sc
}

func TestRecordWorkflowSendsNewerRevisionArrivingDuringSend(t *testing.T) {
	// Whether the in-flight send already saw the newer revision in the
	// database (current 2) or not (current 1), the signal alone must cause
	// another send.
	for _, current := range []int64{1, 2} {
		t.Run("current revision seen "+string(rune('0'+current)), func(t *testing.T) {
			h := newHarness(t)
			sc := newerRevisionDuringFirstSend(t, h, func(ctx context.Context, sc *calls) (flow.SyncResult, error) {
				info, _ := sc.add(ctx)
				r := synced(1, info.Attempt)
				r.CurrentRevision = current
				return r, nil
			})
			assert.Equal(t, 2, sc.count())
			assert.Equal(t, []string{statusOf(models.RecordPending), statusOf(models.RecordSynced)}, h.statuses())
			assert.Equal(t, int64(2), h.query().Synced)
		})
	}
}

func TestRecordWorkflowNewerRevisionSupersedesOlderWhileRetrying(t *testing.T) {
	h := newHarness(t)
	// The first attempt fails after a minute; meanwhile revision 2 is
	// persisted, so the next attempt sends revision 2 (SyncRecord reads the
	// newest state) and revision 1 never reaches the ERP.
	sc := newerRevisionDuringFirstSend(t, h, func(ctx context.Context, sc *calls) (flow.SyncResult, error) {
		sc.add(ctx)
		return flow.SyncResult{}, errors.New("ERP answered 502")
	})
	assert.Equal(t, []int32{1, 2}, sc.attempts())
	st := h.query()
	assert.Equal(t, int64(2), st.Synced, "revision 1 never reached the ERP: the retry sent revision 2")
	assert.Equal(t, 2, st.Attempts)
}

func TestRecordWorkflowNewerRevisionUnparks(t *testing.T) {
	h := newHarness(t)
	rejectFirstSend(h)
	h.env.OnActivity(a.SyncRecord, mock.Anything, syncIn).Return(synced(2, 1), nil).Once()
	h.signalAt(0, flow.SignalPersisted, persisted(1))
	var parked flow.Status
	h.at(30*time.Minute, func() { parked = h.query() })
	h.signalAt(time.Hour, flow.SignalPersisted, persisted(2))

	h.env.ExecuteWorkflow(flow.RecordWorkflowName, recordInput())
	requireCompleted(t, h)

	h.env.AssertExpectations(t)
	assert.Equal(t, statusOf(models.RecordRejected), parked.SyncStatus)
	assert.Equal(t, []string{statusOf(models.RecordPending), statusOf(models.RecordRejected), statusOf(models.RecordPending), statusOf(models.RecordSynced)}, h.statuses())
	assert.Equal(t, int64(2), h.query().Synced)
	assert.Equal(t, statusOf(models.RecordSynced), h.lastStatus())
	h.env.AssertActivityNotCalled(t, "MarkSkipped", mock.Anything, mock.Anything)
}

func TestRecordWorkflowRetryWhenNotParkedSendsNothing(t *testing.T) {
	h := newHarness(t)
	h.env.OnActivity(a.SyncRecord, mock.Anything, syncIn).Return(synced(1, 1), nil).Once()
	h.signalAt(0, flow.SignalPersisted, persisted(1))
	h.signalAt(2*time.Minute, flow.UpdateRetry, flow.OperatorRequest{Reason: "just in case"})

	h.env.ExecuteWorkflow(flow.RecordWorkflowName, recordInput())
	requireCompleted(t, h)

	h.env.AssertActivityNumberOfCalls(t, "SyncRecord", 1)
	assert.Equal(t, []string{statusOf(models.RecordPending), statusOf(models.RecordSynced)}, h.statuses())
}

func TestRecordWorkflowResumesParkedStateFromCarry(t *testing.T) {
	h := newHarness(t)
	in := recordInput()
	rej := flow.Rejection{Revision: 2, Version: 20, HTTPStatus: 422, Reason: "customer code is not known to the ERP", Attempts: 3}
	in.Carry = &flow.RecordCarry{Target: 2, Synced: 1, Parked: &rej, Attempt: 3}
	var sc calls
	h.env.OnActivity(a.SyncRecord, mock.Anything, syncIn).Return(func(ctx context.Context, _ flow.SyncInput) (flow.SyncResult, error) {
		info, _ := sc.add(ctx)
		return synced(2, info.Attempt), nil
	}).Once()
	var parked flow.Status
	var callsWhileParked int
	h.at(time.Hour, func() {
		parked = h.query()
		callsWhileParked = sc.count()
	})
	h.signalAt(2*time.Hour, flow.UpdateRetry, flow.OperatorRequest{})

	h.env.ExecuteWorkflow(flow.RecordWorkflowName, in)
	requireCompleted(t, h)

	assert.Equal(t, 0, callsWhileParked)
	assert.Equal(t, flow.Status{State: "waiting-operator", SyncStatus: statusOf(models.RecordRejected), Kind: recordKind, ExternalID: recordExt,
		Revision: 2, Synced: 1, Attempts: 3, LastError: rej.Reason}, parked)
	h.env.AssertExpectations(t)
	assert.Equal(t, []string{statusOf(models.RecordRejected), statusOf(models.RecordPending), statusOf(models.RecordSynced)}, h.statuses())
	assert.Equal(t, int64(2), h.query().Synced)
}

func TestRecordWorkflowContinuesAsNewWithItsState(t *testing.T) {
	h := newHarness(t)
	h.env.OnActivity(a.SyncRecord, mock.Anything, syncIn).After(time.Minute).Return(synced(1, 2), nil).Once()
	h.signalAt(0, flow.SignalPersisted, persisted(1))
	// History grew long while the send was in flight.
	h.at(30*time.Second, func() { h.env.SetContinueAsNewSuggested(true) })

	h.env.ExecuteWorkflow(flow.RecordWorkflowName, recordInput())
	require.True(t, h.env.IsWorkflowCompleted())

	var next flow.RecordInput
	h.continuedAsNew(flow.RecordWorkflowName, &next)
	want := recordInput()
	want.Carry = &flow.RecordCarry{Target: 1, Synced: 1, Attempt: 2}
	assert.Equal(t, want, next)
	assert.Equal(t, statusOf(models.RecordSynced), h.lastStatus())
}

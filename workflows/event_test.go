package workflows_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/workflows"
)

const eventKey = "msg-0001"

// recordID is the record workflow the test event's record belongs to.
var recordID = flow.RecordWorkflowID(vendors.AutoX3, recordKind, recordExt)

func eventInput() flow.EventInput {
	return flow.EventInput{
		Vendor: vendors.AutoX3, EventKey: eventKey, EventType: "receiveBase.create",
		Body:       `{"msgId":"msg-0001","msgType":"receiveBase.create","data":{}}`,
		ReceivedAt: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC),
	}
}

// handOverInput is eventInput started the way the relay starts a run now:
// in the hand-over shape.
func handOverInput() flow.EventInput {
	in := eventInput()
	in.Shape = flow.ShapeHandOver
	return in
}

// newEventHarness is a harness whose workflow runs under the event's id.
func newEventHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t)
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: flow.EventWorkflowID(vendors.AutoX3, eventKey)})
	return h
}

// applied mocks Persist and NotifyRecord for an event that became revision 1
// of its record, in a run of the shape before the hand-over (an input that
// names no shape, eventInput): it waits for its record's outcome. Such runs
// may still be open when a worker with the new code starts.
func applied(h *harness, in flow.EventInput) { persistedAndNotified(h, in, eventA) }

// handedOver mocks Persist and NotifyRecord for an event that became
// revision 1 of its record, in a new run: nothing waits for an answer.
func handedOver(h *harness, in flow.EventInput) { persistedAndNotified(h, in, "") }

// persistedAndNotified mocks Persist and NotifyRecord for an event that
// became revision 1 of its record; waiter is the event workflow the record
// is to answer, if any.
func persistedAndNotified(h *harness, in flow.EventInput, waiter string) {
	h.env.OnActivity(a.Persist, mock.Anything, flow.PersistInput{Event: in, WorkflowID: eventA}).Return(flow.PersistResult{
		Kind: recordKind, ExternalID: recordExt, Version: 3, Applied: true, Revision: 1,
	}, nil).Once()
	h.env.OnActivity(a.NotifyRecord, mock.Anything, flow.NotifyInput{
		Vendor: vendors.AutoX3, Kind: recordKind, ExternalID: recordExt, Revision: 1, EventWorkflowID: waiter,
	}).Return(nil)
}

// outcomeRecorded mocks RecordEventOutcome for one status.
func outcomeRecorded(h *harness, status, detail string) {
	h.env.OnActivity(a.RecordEventOutcome, mock.Anything, flow.OutcomeInput{
		Vendor: vendors.AutoX3, EventKey: eventKey, Status: status, Detail: detail,
	}).Return(nil).Once()
}

func eventResult(t *testing.T, h *harness) workflows.EventResult {
	t.Helper()
	requireCompleted(t, h)
	var res workflows.EventResult
	require.NoError(t, h.env.GetWorkflowResult(&res))
	return res
}

func TestEventWorkflowInvalidContentFailsAndKeepsTheBody(t *testing.T) {
	h := newEventHarness(t)
	in := eventInput()
	const problem = "invalid content: receiveBaseId: missing"
	h.env.OnActivity(a.Persist, mock.Anything, flow.PersistInput{Event: in, WorkflowID: eventA}).Return(flow.PersistResult{},
		temporal.NewNonRetryableApplicationError(problem, flow.ErrInvalidContent, nil))
	h.env.OnActivity(a.RecordInvalid, mock.Anything, flow.InvalidInput{Event: in, WorkflowID: eventA, Problem: problem}).Return(nil).Once()

	h.env.ExecuteWorkflow(flow.EventWorkflowName, in)
	require.True(t, h.env.IsWorkflowCompleted())

	err := h.env.GetWorkflowError()
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	assert.Equal(t, flow.ErrInvalidContent, appErr.Type())
	assert.True(t, appErr.NonRetryable())
	assert.Contains(t, appErr.Error(), "receiveBaseId: missing")

	h.env.AssertActivityNumberOfCalls(t, "Persist", 1)
	h.env.AssertActivityNumberOfCalls(t, "RecordInvalid", 1)
	h.env.AssertActivityNotCalled(t, "NotifyRecord", mock.Anything, mock.Anything)
	assert.Equal(t, []string{"Persist", "RecordInvalid"}, h.activities())
	assert.Equal(t, []string{flow.StatusInvalid}, h.statuses())
	assert.Empty(t, h.orderIDs, "nothing is known about the record of invalid content")

	st := h.query()
	assert.Equal(t, "failed", st.State)
	assert.Equal(t, flow.StatusInvalid, st.SyncStatus)
	assert.Contains(t, st.LastError, "receiveBaseId: missing")
}

func TestEventWorkflowRetriesPersistOnOtherFailures(t *testing.T) {
	h := newEventHarness(t)
	in := handOverInput()
	// A database hiccup is not invalid content: retried, not recorded as invalid.
	h.env.OnActivity(a.Persist, mock.Anything, flow.PersistInput{Event: in, WorkflowID: eventA}).Return(flow.PersistResult{}, errors.New("database is unavailable")).Once()
	handedOver(h, in)

	h.env.ExecuteWorkflow(flow.EventWorkflowName, in)
	res := eventResult(t, h)

	assert.Equal(t, flow.StatusHandedOver, res.Status)
	h.env.AssertActivityNumberOfCalls(t, "Persist", 2)
	h.env.AssertActivityNotCalled(t, "RecordInvalid", mock.Anything, mock.Anything)
	assert.Equal(t, []string{"Persist", "Persist", "NotifyRecord"}, h.activities())
}

func TestEventWorkflowRetriesLocalPersistThroughALongOutage(t *testing.T) {
	h := newEventHarness(t)
	in := handOverInput()
	// Down for longer than an attempt's bound (30 s) and than the backoff a
	// workflow task can wait in the worker: a local step still retries on.
	var seen calls
	h.env.OnActivity(a.Persist, mock.Anything, flow.PersistInput{Event: in, WorkflowID: eventA}).Return(
		func(ctx context.Context, _ flow.PersistInput) (flow.PersistResult, error) {
			if _, n := seen.add(ctx); n <= 7 {
				return flow.PersistResult{}, errors.New("database is unavailable")
			}
			return flow.PersistResult{Kind: recordKind, ExternalID: recordExt, Version: 3, Applied: true, Revision: 1}, nil
		})
	h.env.OnActivity(a.NotifyRecord, mock.Anything, mock.Anything).Return(nil)

	h.env.ExecuteWorkflow(flow.EventWorkflowName, in)
	res := eventResult(t, h)

	assert.Equal(t, flow.StatusHandedOver, res.Status)
	assert.Equal(t, []int32{1, 2, 3, 4, 5, 6, 7, 8}, seen.attempts())
	h.env.AssertActivityNotCalled(t, "RecordInvalid", mock.Anything, mock.Anything)
}

// A new run persists, hands the new state to the record workflow and
// closes: the record workflow owns the ERP's outcome and settles the
// event's row; nothing waits, nothing is signalled back.
func TestEventWorkflowHandsOverAndCloses(t *testing.T) {
	h := newEventHarness(t)
	in := handOverInput()
	handedOver(h, in)

	h.env.ExecuteWorkflow(flow.EventWorkflowName, in)
	res := eventResult(t, h)

	assert.Equal(t, workflows.EventResult{Status: flow.StatusHandedOver, Revision: 1, RecordWorkflowID: recordID,
		Detail: "revision 1 handed over to " + recordID + ", which sends it to the ERP"}, res)
	h.env.AssertExpectations(t)
	assert.Equal(t, []string{"Persist", "NotifyRecord"}, h.activities())
	assert.Equal(t, []string{"Persist", "NotifyRecord"}, h.localActivities(), "the short steps of a new run are local activities")
	h.env.AssertActivityNotCalled(t, "RecordEventOutcome", mock.Anything, mock.Anything)
	assert.Equal(t, flow.Status{State: "done", SyncStatus: flow.StatusHandedOver, Kind: recordKind, ExternalID: recordExt, Revision: 1}, h.query())
	assert.Equal(t, []string{recordExt}, h.orderIDs)
	assert.Equal(t, []string{flow.StatusHandedOver}, h.statuses())
	assert.Equal(t, 1, h.upserts(), "OrderID and SyncStatus are set in one upsert")
	assert.Empty(t, h.sent(), "the event workflow signals nobody")
}

// A run started before the hand-over waits for the record's outcome.
func TestEventWorkflowWaitingRunHappyPath(t *testing.T) {
	h := newEventHarness(t)
	in := eventInput()
	applied(h, in)
	outcomeRecorded(h, flow.StatusSynced, "")
	var waiting flow.Status
	h.at(30*time.Second, func() { waiting = h.query() })
	h.signalAt(time.Minute, flow.SignalOutcome, flow.OutcomeSignal{Revision: 1, Status: flow.StatusSynced, SyncedRevision: 1, Attempts: 2})

	h.env.ExecuteWorkflow(flow.EventWorkflowName, in)
	res := eventResult(t, h)

	assert.Equal(t, workflows.EventResult{Status: flow.StatusSynced, Revision: 1}, res)
	h.env.AssertExpectations(t)
	assert.Equal(t, []string{"Persist", "NotifyRecord", "RecordEventOutcome"}, h.activities())
	assert.Equal(t, []string{"Persist", "NotifyRecord", "RecordEventOutcome"}, h.localActivities(),
		"the short steps of a new run are local activities")
	assert.Equal(t, flow.Status{State: "syncing", SyncStatus: flow.StatusPending, Kind: recordKind, ExternalID: recordExt, Revision: 1}, waiting)
	assert.Equal(t, flow.Status{State: "done", SyncStatus: flow.StatusSynced, Kind: recordKind, ExternalID: recordExt,
		Revision: 1, Synced: 1, Attempts: 2}, h.query())
	assert.Equal(t, []string{recordExt}, h.orderIDs)
	assert.Equal(t, []string{flow.StatusSynced}, h.statuses())
	assert.Empty(t, h.sent(), "the event workflow signals nobody on the happy path")
}

func TestEventWorkflowGenericEventSetsNoOrderID(t *testing.T) {
	h := newEventHarness(t)
	in := handOverInput()
	h.env.OnActivity(a.Persist, mock.Anything, flow.PersistInput{Event: in, WorkflowID: eventA}).Return(flow.PersistResult{
		Kind: "event", ExternalID: eventKey, Generic: true, Applied: true, Revision: 1,
	}, nil).Once()
	h.env.OnActivity(a.NotifyRecord, mock.Anything, flow.NotifyInput{
		Vendor: vendors.AutoX3, Kind: "event", ExternalID: eventKey, Revision: 1,
	}).Return(nil).Once()

	h.env.ExecuteWorkflow(flow.EventWorkflowName, in)
	res := eventResult(t, h)

	assert.Equal(t, flow.StatusHandedOver, res.Status)
	h.env.AssertExpectations(t)
	assert.Empty(t, h.orderIDs)
	assert.Equal(t, []string{flow.StatusHandedOver}, h.statuses())
}

func TestEventWorkflowNotAppliedEndsSuperseded(t *testing.T) {
	h := newEventHarness(t)
	in := handOverInput()
	h.env.OnActivity(a.Persist, mock.Anything, flow.PersistInput{Event: in, WorkflowID: eventA}).Return(flow.PersistResult{
		Kind: recordKind, ExternalID: recordExt, Version: 2, Applied: false,
	}, nil).Once()
	h.env.OnActivity(a.NotifyRecord, mock.Anything, mock.Anything).Return(nil).Maybe()
	h.env.OnActivity(a.RecordEventOutcome, mock.Anything, mock.MatchedBy(func(o flow.OutcomeInput) bool {
		return o.Vendor == vendors.AutoX3 && o.EventKey == eventKey && o.Status == flow.StatusSuperseded && o.Detail != ""
	})).Return(nil).Once()

	h.env.ExecuteWorkflow(flow.EventWorkflowName, in)
	res := eventResult(t, h)

	assert.Equal(t, flow.StatusSuperseded, res.Status)
	assert.Zero(t, res.Revision)
	assert.NotEmpty(t, res.Detail)
	h.env.AssertActivityNotCalled(t, "NotifyRecord", mock.Anything, mock.Anything)
	assert.Equal(t, []string{"Persist", "RecordEventOutcome"}, h.activities())
	assert.Equal(t, []string{flow.StatusSuperseded}, h.statuses())
	assert.Equal(t, []string{recordExt}, h.orderIDs, "set with the status")
	assert.Equal(t, 1, h.upserts())
	assert.Equal(t, "done", h.query().State)
}

func TestEventWorkflowIgnoresOutcomesOfOtherRevisions(t *testing.T) {
	h := newEventHarness(t)
	in := eventInput()
	applied(h, in)
	outcomeRecorded(h, flow.StatusSynced, "")
	// An answer meant for another revision of the same record.
	h.signalAt(30*time.Second, flow.SignalOutcome, flow.OutcomeSignal{Revision: 2, Status: flow.StatusRejected, Detail: "not ours"})
	var between flow.Status
	h.at(45*time.Second, func() { between = h.query() })
	h.signalAt(time.Minute, flow.SignalOutcome, flow.OutcomeSignal{Revision: 1, Status: flow.StatusSynced, SyncedRevision: 1, Attempts: 1})

	h.env.ExecuteWorkflow(flow.EventWorkflowName, in)
	res := eventResult(t, h)

	assert.Equal(t, flow.StatusPending, between.SyncStatus)
	assert.Empty(t, between.LastError)
	assert.Equal(t, flow.StatusSynced, res.Status)
	h.env.AssertExpectations(t)
	assert.Equal(t, []string{flow.StatusSynced}, h.statuses())
}

func TestEventWorkflowRejectedThenOperatorRetry(t *testing.T) {
	h := newEventHarness(t)
	in := eventInput()
	applied(h, in)
	const reason = "customer code is not known to the ERP"
	outcomeRecorded(h, flow.StatusRejected, reason)
	outcomeRecorded(h, flow.StatusSynced, "")

	h.signalAt(time.Minute, flow.SignalOutcome, flow.OutcomeSignal{Revision: 1, Status: flow.StatusRejected, Attempts: 1, Detail: reason})
	var rejected flow.Status
	var rejectedStatuses []string
	var rejectedSent []sentSignal
	h.at(2*time.Minute, func() {
		rejected = h.query()
		rejectedStatuses = h.statuses()
		rejectedSent = h.sent()
	})
	h.signalAt(time.Hour, flow.SignalRetry, flow.OperatorRequest{Reason: "customer code added"})
	var retrying flow.Status
	h.at(time.Hour+time.Minute, func() { retrying = h.query() })
	h.signalAt(2*time.Hour, flow.SignalOutcome, flow.OutcomeSignal{Revision: 1, Status: flow.StatusSynced, SyncedRevision: 1, Attempts: 1})

	h.env.ExecuteWorkflow(flow.EventWorkflowName, in)
	res := eventResult(t, h)

	assert.Equal(t, flow.Status{State: "waiting-operator", SyncStatus: flow.StatusRejected, Kind: recordKind, ExternalID: recordExt,
		Revision: 1, Attempts: 1, LastError: reason}, rejected)
	assert.Equal(t, []string{flow.StatusRejected}, rejectedStatuses)
	assert.Empty(t, rejectedSent)

	// The operator's retry is forwarded to the record workflow, which owns the sync.
	assert.Equal(t, []sentSignal{{WorkflowID: recordID, Name: flow.SignalRetry,
		Arg: flow.OperatorRequest{Reason: "customer code added", Requester: eventA}}}, h.sent())
	assert.Equal(t, "syncing", retrying.State)
	assert.Equal(t, flow.StatusPending, retrying.SyncStatus)

	assert.Equal(t, workflows.EventResult{Status: flow.StatusSynced, Revision: 1}, res)
	h.env.AssertExpectations(t)
	assert.Equal(t, []string{flow.StatusRejected, flow.StatusPending, flow.StatusSynced}, h.statuses())
	assert.Empty(t, h.query().LastError)
}

func TestEventWorkflowRejectedThenOperatorSkip(t *testing.T) {
	h := newEventHarness(t)
	in := eventInput()
	applied(h, in)
	const reason = "line item has no price"
	const skipped = "skipped by operator: entered in the ERP by hand"
	outcomeRecorded(h, flow.StatusRejected, reason)
	outcomeRecorded(h, flow.StatusSkipped, skipped)

	h.signalAt(time.Minute, flow.SignalOutcome, flow.OutcomeSignal{Revision: 1, Status: flow.StatusRejected, Attempts: 1, Detail: reason})
	h.signalAt(time.Hour, flow.SignalSkip, flow.OperatorRequest{Reason: "entered in the ERP by hand"})
	h.signalAt(time.Hour+time.Minute, flow.SignalOutcome, flow.OutcomeSignal{Revision: 1, Status: flow.StatusSkipped, SyncedRevision: 1, Detail: skipped})

	h.env.ExecuteWorkflow(flow.EventWorkflowName, in)
	res := eventResult(t, h)

	assert.Equal(t, []sentSignal{{WorkflowID: recordID, Name: flow.SignalSkip,
		Arg: flow.OperatorRequest{Reason: "entered in the ERP by hand", Requester: eventA}}}, h.sent())
	assert.Equal(t, workflows.EventResult{Status: flow.StatusSkipped, Revision: 1, Detail: skipped}, res)
	h.env.AssertExpectations(t)
	st := h.query()
	assert.Equal(t, flow.StatusSkipped, st.SyncStatus)
	assert.Equal(t, skipped, st.LastError, "a skipped event keeps the operator's reason")
	assert.Equal(t, []string{flow.StatusRejected, flow.StatusSkipped}, h.statuses())
}

func TestEventWorkflowKeepsWaitingWhenForwardingFails(t *testing.T) {
	h := newEventHarness(t)
	in := eventInput()
	applied(h, in)
	outcomeRecorded(h, flow.StatusRejected, "refused")
	outcomeRecorded(h, flow.StatusSynced, "")
	h.failSignals(errors.New("unknown external workflow execution"))
	h.signalAt(time.Minute, flow.SignalOutcome, flow.OutcomeSignal{Revision: 1, Status: flow.StatusRejected, Detail: "refused"})
	h.signalAt(time.Hour, flow.SignalRetry, flow.OperatorRequest{})
	h.signalAt(2*time.Hour, flow.SignalOutcome, flow.OutcomeSignal{Revision: 1, Status: flow.StatusSynced, SyncedRevision: 1})

	h.env.ExecuteWorkflow(flow.EventWorkflowName, in)
	res := eventResult(t, h)

	assert.Equal(t, flow.StatusSynced, res.Status)
	assert.Len(t, h.sent(), 1)
}

func TestEventWorkflowRenotifiesWhenNoAnswerComes(t *testing.T) {
	h := newEventHarness(t)
	in := eventInput()
	applied(h, in)
	outcomeRecorded(h, flow.StatusSynced, "")
	// No answer for more than a day (say the record workflow was terminated).
	h.signalAt(25*time.Hour, flow.SignalOutcome, flow.OutcomeSignal{Revision: 1, Status: flow.StatusSynced, SyncedRevision: 1})

	h.env.ExecuteWorkflow(flow.EventWorkflowName, in)
	res := eventResult(t, h)

	assert.Equal(t, flow.StatusSynced, res.Status)
	h.env.AssertActivityNumberOfCalls(t, "NotifyRecord", 2)
	assert.Equal(t, []string{"Persist", "NotifyRecord", "NotifyRecord", "RecordEventOutcome"}, h.activities())
}

// A message that changes several records is split: one child event workflow
// per part, started (not awaited; here each part finds a newer state and
// ends superseded), and the message's run ends split.
func TestEventWorkflowSplitStartsOnePartPerRecord(t *testing.T) {
	h := newEventHarness(t)
	in := eventInput()
	in.Body, in.ClaimCheck = "", flow.ClaimCheckFor(vendors.AutoX3, eventKey)
	parts := []string{eventKey + "#plan:1", eventKey + "#plan:2", eventKey + "#job"}
	h.env.OnActivity(a.Persist, mock.Anything, flow.PersistInput{Event: in, WorkflowID: eventA}).Return(flow.PersistResult{
		Kind: "maintenance_message", ExternalID: eventKey, Version: 7, Parts: parts,
	}, nil).Once()
	h.env.OnActivity(a.RecordEventOutcome, mock.Anything, mock.MatchedBy(func(o flow.OutcomeInput) bool {
		return o.EventKey == eventKey && o.Status == flow.StatusSplit && strings.Contains(o.Detail, "3 events")
	})).Return(nil).Once()

	var mu sync.Mutex
	var children []flow.PersistInput
	isPart := func(key string) bool { return strings.HasPrefix(key, eventKey+"#") }
	h.env.OnActivity(a.Persist, mock.Anything, mock.MatchedBy(func(p flow.PersistInput) bool { return isPart(p.Event.EventKey) })).Return(
		func(_ context.Context, p flow.PersistInput) (flow.PersistResult, error) {
			mu.Lock()
			defer mu.Unlock()
			children = append(children, p)
			return flow.PersistResult{Kind: "maintenance_plan_item", ExternalID: p.Event.EventKey, Version: 7}, nil
		}).Times(len(parts))
	h.env.OnActivity(a.RecordEventOutcome, mock.Anything, mock.MatchedBy(func(o flow.OutcomeInput) bool {
		return isPart(o.EventKey) && o.Status == flow.StatusSuperseded
	})).Return(nil).Times(len(parts))

	h.env.ExecuteWorkflow(flow.EventWorkflowName, in)
	res := eventResult(t, h)

	assert.Equal(t, flow.StatusSplit, res.Status)
	h.env.AssertExpectations(t)
	mu.Lock()
	defer mu.Unlock()
	var keys []string
	for _, c := range children {
		keys = append(keys, c.Event.EventKey)
		assert.Equal(t, flow.EventWorkflowID(vendors.AutoX3, c.Event.EventKey), c.WorkflowID, "a part runs as its own event workflow")
		assert.Equal(t, flow.ClaimCheckFor(vendors.AutoX3, c.Event.EventKey), c.Event.ClaimCheck, "a part carries its own claim check")
		assert.Empty(t, c.Event.Body)
		assert.Equal(t, in.EventType, c.Event.EventType)
	}
	assert.ElementsMatch(t, parts, keys)
	assert.Equal(t, "done", h.query().State)
	assert.Equal(t, flow.StatusSplit, h.query().SyncStatus)
	for _, id := range h.orderIDs {
		assert.NotEqual(t, eventKey, id, "a split message sets no OrderID of its own")
	}
}

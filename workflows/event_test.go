package workflows_test

import (
	"context"
	"errors"
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

// eventInput is the input the relay starts the test event's run with.
func eventInput() flow.EventInput {
	return flow.EventInput{
		Vendor: vendors.AutoX3, EventKey: eventKey, EventType: "receiveBase.create",
		ReceivedAt: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC),
		ClaimCheck: flow.ClaimCheckFor(vendors.AutoX3, eventKey),
	}
}

// newEventHarness is a harness whose workflow runs under the event's id.
func newEventHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t)
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: flow.EventWorkflowID(vendors.AutoX3, eventKey)})
	return h
}

// persistedAs mocks Persist of the test event with its result.
func persistedAs(h *harness, in flow.EventInput, res flow.PersistResult) {
	h.env.OnActivity(a.Persist, mock.Anything, flow.PersistInput{Event: in, WorkflowID: eventA}).Return(res, nil).Once()
}

// handedOver mocks Persist and NotifyRecord for an event that became
// revision 1 of its record.
func handedOver(h *harness, in flow.EventInput) {
	persistedAs(h, in, flow.PersistResult{Kind: recordKind, ExternalID: recordExt, Version: 3, Applied: true, Revision: 1})
	h.env.OnActivity(a.NotifyRecord, mock.Anything, flow.NotifyInput{
		Vendor: vendors.AutoX3, Kind: recordKind, ExternalID: recordExt, Revision: 1,
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
	assert.Equal(t, []string{string(flow.EventInvalid)}, h.statuses())
	assert.Empty(t, h.orderIDs, "nothing is known about the record of invalid content")

	st := h.query()
	assert.Equal(t, "failed", st.State)
	assert.Equal(t, string(flow.EventInvalid), st.SyncStatus)
	assert.Contains(t, st.LastError, "receiveBaseId: missing")
}

func TestEventWorkflowRetriesPersistOnOtherFailures(t *testing.T) {
	h := newEventHarness(t)
	in := eventInput()
	// A database hiccup is not invalid content: retried, not recorded as invalid.
	h.env.OnActivity(a.Persist, mock.Anything, flow.PersistInput{Event: in, WorkflowID: eventA}).Return(flow.PersistResult{}, errors.New("database is unavailable")).Once()
	handedOver(h, in)

	h.env.ExecuteWorkflow(flow.EventWorkflowName, in)
	res := eventResult(t, h)

	assert.Equal(t, flow.EventHandedOver, res.Status)
	h.env.AssertActivityNumberOfCalls(t, "Persist", 2)
	h.env.AssertActivityNotCalled(t, "RecordInvalid", mock.Anything, mock.Anything)
	assert.Equal(t, []string{"Persist", "Persist", "NotifyRecord"}, h.activities())
}

func TestEventWorkflowRetriesPersistThroughALongOutage(t *testing.T) {
	h := newEventHarness(t)
	in := eventInput()
	// Down for longer than an attempt's bound (30 s) and than the backoff a
	// workflow task can wait in the worker: the step still retries on.
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

	assert.Equal(t, flow.EventHandedOver, res.Status)
	assert.Equal(t, []int32{1, 2, 3, 4, 5, 6, 7, 8}, seen.attempts())
	h.env.AssertActivityNotCalled(t, "RecordInvalid", mock.Anything, mock.Anything)
}

// An event workflow persists, hands the new state to the record workflow
// and closes: the record workflow owns the ERP's outcome and settles the
// event's row; nothing waits, nothing is signalled back.
func TestEventWorkflowHandsOverAndCloses(t *testing.T) {
	h := newEventHarness(t)
	in := eventInput()
	handedOver(h, in)

	h.env.ExecuteWorkflow(flow.EventWorkflowName, in)
	res := eventResult(t, h)

	assert.Equal(t, workflows.EventResult{Status: flow.EventHandedOver, Revision: 1, RecordWorkflowID: recordID,
		Detail: "revision 1 handed over to " + recordID + ", which sends it to the ERP"}, res)
	h.env.AssertExpectations(t)
	assert.Equal(t, []string{"Persist", "NotifyRecord"}, h.activities())
	assert.Equal(t, []string{"Persist", "NotifyRecord"}, h.localActivities(), "the short steps are local activities")
	assert.Equal(t, flow.Status{State: "done", SyncStatus: string(flow.EventHandedOver), Kind: recordKind, ExternalID: recordExt, Revision: 1}, h.query())
	assert.Equal(t, []string{recordExt}, h.orderIDs)
	assert.Equal(t, []string{string(flow.EventHandedOver)}, h.statuses())
	assert.Equal(t, 1, h.upserts(), "OrderID and SyncStatus are set in one upsert")
}

func TestEventWorkflowGenericEventSetsNoOrderID(t *testing.T) {
	h := newEventHarness(t)
	in := eventInput()
	persistedAs(h, in, flow.PersistResult{Kind: "event", ExternalID: eventKey, Generic: true, Applied: true, Revision: 1})
	h.env.OnActivity(a.NotifyRecord, mock.Anything, flow.NotifyInput{
		Vendor: vendors.AutoX3, Kind: "event", ExternalID: eventKey, Revision: 1,
	}).Return(nil).Once()

	h.env.ExecuteWorkflow(flow.EventWorkflowName, in)
	res := eventResult(t, h)

	assert.Equal(t, flow.EventHandedOver, res.Status)
	h.env.AssertExpectations(t)
	assert.Empty(t, h.orderIDs)
	assert.Equal(t, []string{string(flow.EventHandedOver)}, h.statuses())
}

func TestEventWorkflowNotAppliedEndsSuperseded(t *testing.T) {
	h := newEventHarness(t)
	in := eventInput()
	persistedAs(h, in, flow.PersistResult{Kind: recordKind, ExternalID: recordExt, Version: 2, Applied: false})

	h.env.ExecuteWorkflow(flow.EventWorkflowName, in)
	res := eventResult(t, h)

	assert.Equal(t, flow.EventSuperseded, res.Status)
	assert.Zero(t, res.Revision)
	assert.Equal(t, "a newer state of the record was already stored", res.Detail)
	h.env.AssertActivityNotCalled(t, "NotifyRecord", mock.Anything, mock.Anything)
	assert.Equal(t, []string{"Persist"}, h.activities())
	assert.Equal(t, []string{string(flow.EventSuperseded)}, h.statuses())
	assert.Equal(t, []string{recordExt}, h.orderIDs, "set with the status")
	assert.Equal(t, 1, h.upserts())
	assert.Equal(t, "done", h.query().State)
}

// A message that changes several records is split: its parts are
// persisted batch by batch, one batch at a time, each batch one activity,
// and the message's run ends split.
func TestEventWorkflowSplitPersistsPartsInBatches(t *testing.T) {
	h := newEventHarness(t)
	in := eventInput()
	persistedAs(h, in, flow.PersistResult{Kind: "maintenance_message", ExternalID: eventKey, Version: 7, PartCount: 5, PartBatch: 2})
	var mu sync.Mutex
	var batches [][2]int
	h.env.OnActivity(a.PersistParts, mock.Anything, mock.Anything).Return(
		func(_ context.Context, p flow.PartsInput) (flow.PartsResult, error) {
			mu.Lock()
			defer mu.Unlock()
			if p.Event.EventKey != eventKey || p.WorkflowID != eventA || len(p.Event.Body) != 0 {
				t.Errorf("batch input %+v", p)
			}
			batches = append(batches, [2]int{p.From, p.To})
			return flow.PartsResult{Applied: p.To - p.From}, nil
		})

	h.env.ExecuteWorkflow(flow.EventWorkflowName, in)
	res := eventResult(t, h)

	assert.Equal(t, flow.EventSplit, res.Status)
	assert.Equal(t, "split into 5 events, one per record it changes", res.Detail)
	assert.Equal(t, 5, res.Parts)
	assert.Zero(t, res.Revision, "a split message is no record's revision")
	assert.Equal(t, [][2]int{{0, 2}, {2, 4}, {4, 5}}, batches)
	assert.Equal(t, []string{"Persist", "PersistParts", "PersistParts", "PersistParts"}, h.activities())
	assert.Equal(t, flow.Status{State: "done", SyncStatus: string(flow.EventSplit), Kind: "maintenance_message", ExternalID: eventKey,
		Parts: 5, PartsPersisted: 5}, h.query())
	for _, id := range h.orderIDs {
		assert.NotEqual(t, eventKey, id, "a split message sets no OrderID of its own")
	}
}

// A split whose history grows long continues as new from the first part
// not yet persisted.
func TestEventWorkflowSplitContinuesAsNewWhereItWas(t *testing.T) {
	h := newEventHarness(t)
	in := eventInput()
	persistedAs(h, in, flow.PersistResult{Kind: "maintenance_message", ExternalID: eventKey, Version: 7, PartCount: 5, PartBatch: 2})
	h.env.OnActivity(a.PersistParts, mock.Anything, mock.Anything).Return(
		func(_ context.Context, p flow.PartsInput) (flow.PartsResult, error) {
			h.env.SetContinueAsNewSuggested(true)
			return flow.PartsResult{Applied: p.To - p.From}, nil
		})

	h.env.ExecuteWorkflow(flow.EventWorkflowName, in)
	require.True(t, h.env.IsWorkflowCompleted())
	var next flow.EventInput
	h.continuedAsNew(flow.EventWorkflowName, &next)
	want := in
	want.SplitFrom = 2
	assert.Equal(t, want, next)
	h.env.AssertActivityNumberOfCalls(t, "PersistParts", 1)
}

package workflows_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/erpbridge/erpbridge/activities"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/workflows"
)

// a is how the tests name activities, the same way the workflows do.
var a *activities.Activities

// sentSignal is a signal a workflow sent to another workflow.
type sentSignal struct {
	WorkflowID string
	Name       string
	Arg        any
}

// harness is a test workflow environment with both workflows registered
// under their production names, recording the signals the workflow under
// test sends to other workflows and the search attributes it upserts.
type harness struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment

	mu         sync.Mutex
	signals    []sentSignal
	syncStatus []string
	orderIDs   []string
	nUpserts   int
	started    []string
	locals     []string
	signalErr  error
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	// The SDK's debug chatter drowns test output; keep warnings and errors.
	s.SetLogger(sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	h := &harness{t: t, env: s.NewTestWorkflowEnvironment()}
	h.env.RegisterWorkflowWithOptions(workflows.EventWorkflow, workflow.RegisterOptions{Name: flow.EventWorkflowName})
	h.env.RegisterWorkflowWithOptions(workflows.RecordWorkflow, workflow.RegisterOptions{Name: flow.RecordWorkflowName})
	h.env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(
		func(_, workflowID, _, name string, arg any) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.signals = append(h.signals, sentSignal{WorkflowID: workflowID, Name: name, Arg: arg})
			return h.signalErr
		}).Maybe()
	// Record workflows deliver outcomes through a local activity since
	// changeOutcomeByLocalActivity: recorded as the signal it sends.
	h.env.OnActivity(a.DeliverOutcomes, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in []flow.OutcomeDelivery) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			for _, d := range in {
				h.signals = append(h.signals, sentSignal{WorkflowID: d.EventWorkflowID, Name: flow.SignalOutcome, Arg: d.Outcome})
			}
			return nil
		}).Maybe()
	h.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		sa, ok := args.Get(0).(temporal.SearchAttributes)
		if !ok {
			t.Errorf("upserted search attributes are a %T", args.Get(0))
			return
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		h.nUpserts++
		if v, ok := sa.GetKeyword(flow.AttrSyncStatus); ok {
			h.syncStatus = append(h.syncStatus, v)
		}
		if v, ok := sa.GetKeyword(flow.AttrOrderID); ok {
			h.orderIDs = append(h.orderIDs, v)
		}
	}).Return().Maybe()
	h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.started = append(h.started, info.ActivityType.Name)
	})
	h.env.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, _ []any) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.started = append(h.started, info.ActivityType.Name)
		h.locals = append(h.locals, info.ActivityType.Name)
	})
	return h
}

// activities returns the activity types started (regular and local), in order, one entry per attempt.
func (h *harness) activities() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.started...)
}

// localActivities returns the activity types started as local activities, in order.
func (h *harness) localActivities() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.locals...)
}

// failSignals makes every signal to another workflow fail with err from now on.
func (h *harness) failSignals(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.signalErr = err
}

// signalAt sends a signal to the workflow under test after d of workflow time.
func (h *harness) signalAt(d time.Duration, name string, arg any) {
	h.env.RegisterDelayedCallback(func() { h.env.SignalWorkflow(name, arg) }, d)
}

// outcomes returns the outcome signals sent to one event workflow, in order.
func (h *harness) outcomes(workflowID string) []flow.OutcomeSignal {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []flow.OutcomeSignal
	for _, s := range h.signals {
		if s.WorkflowID != workflowID || s.Name != flow.SignalOutcome {
			continue
		}
		o, ok := s.Arg.(flow.OutcomeSignal)
		if !ok {
			h.t.Errorf("outcome signal to %s carries a %T", workflowID, s.Arg)
			continue
		}
		out = append(out, o)
	}
	return out
}

// sent returns every signal sent to other workflows, in order.
func (h *harness) sent() []sentSignal {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]sentSignal(nil), h.signals...)
}

// statuses returns the SyncStatus values upserted, in order.
func (h *harness) statuses() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.syncStatus...)
}

// upserts counts the search-attribute upserts of the workflow under test.
func (h *harness) upserts() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.nUpserts
}

// lastStatus is the SyncStatus search attribute the workflow left.
func (h *harness) lastStatus() string {
	s := h.statuses()
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}

// query asks the workflow under test for its status. It reports failures
// with Errorf, so it may run inside delayed callbacks.
func (h *harness) query() flow.Status {
	h.t.Helper()
	var st flow.Status
	v, err := h.env.QueryWorkflow(flow.QueryStatus)
	if err != nil {
		h.t.Errorf("query %s: %v", flow.QueryStatus, err)
		return st
	}
	if err := v.Get(&st); err != nil {
		h.t.Errorf("decode status: %v", err)
	}
	return st
}

// at runs fn after d of workflow time.
func (h *harness) at(d time.Duration, fn func()) {
	h.env.RegisterDelayedCallback(fn, d)
}

// calls records the activity attempts a mock saw.
type calls struct {
	mu    sync.Mutex
	infos []activity.Info
}

// add records one attempt and returns how many were seen so far.
func (c *calls) add(ctx context.Context) (activity.Info, int) {
	info := activity.GetInfo(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.infos = append(c.infos, info)
	return info, len(c.infos)
}

func (c *calls) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.infos)
}

func (c *calls) attempts() []int32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []int32
	for _, i := range c.infos {
		out = append(out, i.Attempt)
	}
	return out
}

func (c *calls) all() []activity.Info {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]activity.Info(nil), c.infos...)
}

// testWriter sends log lines to the test's log, shown only when it fails.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

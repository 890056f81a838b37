package workflows_test

import (
	"context"
	"errors"
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

// harness is a test workflow environment with every workflow registered
// under their production names, recording the activities the workflow under
// test starts and the search attributes it upserts.
type harness struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment

	mu         sync.Mutex
	syncStatus []string
	orderIDs   []string
	nUpserts   int
	started    []string
	locals     []string
}

// continuedAsNew checks that the workflow under test ended by continuing
// as new as the workflow name, and decodes the input of its next run into
// next.
func (h *harness) continuedAsNew(name string, next any) {
	h.t.Helper()
	var can *workflow.ContinueAsNewError
	if err := h.env.GetWorkflowError(); !errors.As(err, &can) {
		h.t.Fatalf("workflow ended with %v, want it to continue as new", err)
	}
	if can.WorkflowType.Name != name {
		h.t.Errorf("continued as new as %s, want %s", can.WorkflowType.Name, name)
	}
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, next); err != nil {
		h.t.Fatalf("input of the next run: %v", err)
	}
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	// The SDK's debug chatter drowns test output; keep warnings and errors.
	s.SetLogger(sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	h := &harness{t: t, env: s.NewTestWorkflowEnvironment()}
	h.env.RegisterWorkflowWithOptions(workflows.EventWorkflow, workflow.RegisterOptions{Name: flow.EventWorkflowName})
	h.env.RegisterWorkflowWithOptions(workflows.RecordWorkflow, workflow.RegisterOptions{Name: flow.RecordWorkflowName})
	h.env.RegisterWorkflowWithOptions(workflows.SweepWorkflow, workflow.RegisterOptions{Name: flow.SweepWorkflowName})
	h.env.RegisterWorkflowWithOptions(workflows.ReconcileWorkflow, workflow.RegisterOptions{Name: flow.ReconcileWorkflowName})
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

// signalAt sends a signal to the workflow under test after d of workflow time.
func (h *harness) signalAt(d time.Duration, name string, arg any) {
	h.env.RegisterDelayedCallback(func() { h.env.SignalWorkflow(name, arg) }, d)
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

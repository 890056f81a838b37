package workflows_test

import (
	"log/slog"
	"path/filepath"
	"testing"

	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/workflows"
)

// TestReplayHistories replays histories recorded from real runs (see
// histories_gen_test.go) against today's workflow code: a change that would
// break running workflows fails here with a nondeterminism error.
func TestReplayHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no histories in testdata/histories")
	}
	logger := sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(workflows.EventWorkflow, workflow.RegisterOptions{Name: flow.EventWorkflowName})
			r.RegisterWorkflowWithOptions(workflows.RecordWorkflow, workflow.RegisterOptions{Name: flow.RecordWorkflowName})
			r.RegisterWorkflowWithOptions(workflows.SweepWorkflow, workflow.RegisterOptions{Name: flow.SweepWorkflowName})
			r.RegisterWorkflowWithOptions(workflows.ReconcileWorkflow, workflow.RegisterOptions{Name: flow.ReconcileWorkflowName})
			if err := r.ReplayWorkflowHistoryFromJSONFile(logger, file); err != nil {
				t.Fatalf("replay %s: %v", file, err)
			}
		})
	}
}

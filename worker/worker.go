// Package worker runs erpbridge's workers: the workflows and activities on
// the configured task queue, and on the bulk task queue the records of split
// messages' parts, with a bounded share of the process. More load means more
// replicas of this process, all polling the same queues.
package worker

import (
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/erpbridge/erpbridge/activities"
	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/workflows"
)

// workerPollers is the worker's pollers per kind of task.
const workerPollers = 8

// New builds a worker on the configured task queue with every workflow and activity registered.
func New(c client.Client, cfg config.Config, acts *activities.Activities) sdkworker.Worker {
	// The cache is the process's, shared by its workers and sized when the
	// first one is created.
	sdkworker.SetStickyWorkflowCacheSize(cfg.Temporal.WorkflowCacheSize)
	w := sdkworker.New(c, cfg.Temporal.TaskQueue, sdkworker.Options{
		// Let in-flight activities, an ERP call included, finish on shutdown
		// before the process exits; its own bound, not the HTTP server's.
		WorkerStopTimeout: cfg.Temporal.WorkerStopTimeout,
		// A task queue has 4 partitions by default and a task waiting in one
		// reaches only a poller on that partition; the SDK's 2 pollers per
		// kind (the workflow ones shared with the sticky queue) left tasks
		// waiting for a poller to come round while the worker sat idle (see
		// README, Performance). Polls are long and cheap: 8 cover the partitions.
		MaxConcurrentWorkflowTaskPollers: workerPollers,
		MaxConcurrentActivityTaskPollers: workerPollers,
	})
	Register(w, acts)
	return w
}

// bulkPollers is the bulk worker's pollers per kind of task.
const bulkPollers = 2

// NewBulk builds the worker of the bulk task queue (cfg.BulkTaskQueue): the
// record workflows of split messages' parts and their ERP sends, a few at
// a time (BULK_WORKFLOW_TASKS, BULK_ACTIVITIES), so that one message of
// thousands of records takes a bounded share of the process while the
// records of live callbacks keep their own queue.
func NewBulk(c client.Client, cfg config.Config, acts *activities.Activities) sdkworker.Worker {
	sdkworker.SetStickyWorkflowCacheSize(cfg.Temporal.WorkflowCacheSize)
	w := sdkworker.New(c, cfg.BulkTaskQueue(), sdkworker.Options{
		WorkerStopTimeout:                       cfg.Temporal.WorkerStopTimeout,
		MaxConcurrentWorkflowTaskExecutionSize:  max(cfg.Split.BulkWorkflowTasks, 2),
		MaxConcurrentActivityExecutionSize:      cfg.Split.BulkActivities,
		MaxConcurrentLocalActivityExecutionSize: cfg.Split.BulkActivities,
		MaxConcurrentWorkflowTaskPollers:        bulkPollers,
		MaxConcurrentActivityTaskPollers:        bulkPollers,
	})
	Register(w, acts)
	return w
}

// Register adds erpbridge's workflows and activities to a worker (or a test environment).
func Register(r interface {
	RegisterWorkflowWithOptions(any, workflow.RegisterOptions)
	RegisterActivity(any)
}, acts *activities.Activities) {
	r.RegisterWorkflowWithOptions(workflows.EventWorkflow, workflow.RegisterOptions{Name: flow.EventWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.RecordWorkflow, workflow.RegisterOptions{Name: flow.RecordWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.SweepWorkflow, workflow.RegisterOptions{Name: flow.SweepWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.ReconcileWorkflow, workflow.RegisterOptions{Name: flow.ReconcileWorkflowName})
	r.RegisterActivity(acts)
}

// Package workflows holds erpbridge's Temporal workflows: EventWorkflow (one
// per event, a stored callback), RecordWorkflow (one per vendor record, the
// only place that sends that record to the ERP), and the schedules'
// SweepWorkflow (records left waiting) and ReconcileWorkflow (Fenbeitong's
// car orders pulled).
package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/erpbridge/erpbridge/flow"
)

// stepRetryFor bounds a step's retries: in effect never. A local activity
// without ScheduleToCloseTimeout would stop at its StartToClose.
const stepRetryFor = 100 * 365 * 24 * time.Hour

// stepOptions are the local activity options of the short database and
// Temporal steps (persist, notify the record, record an invalid event, mark
// a skip): quick attempts run by the worker inside the workflow task,
// retried for as long as the dependency is down (giving up would lose the
// event), never for invalid content. Retries up to the workflow task timeout
// apart happen in the worker; longer backoffs wait on a server timer, each
// adding a marker and a timer to the history (about 6 events a minute during
// a database outage, once the backoff reaches its minute).
func stepOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		ScheduleToCloseTimeout: stepRetryFor,
		StartToCloseTimeout:    30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			NonRetryableErrorTypes: []string{flow.ErrInvalidContent},
		},
	})
}

// syncOptions are the activity options of the ERP send: each attempt
// bounded, retried with exponential backoff for the whole retry budget
// (days, not a handful of attempts); an ERP rejection is final and parks the
// record for an operator. p is the configured policy (config.ERP, through
// the activities' Policy), every field set.
func syncOptions(ctx workflow.Context, p flow.SyncPolicy) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    p.AttemptTimeout,
		ScheduleToCloseTimeout: p.RetryBudget,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        p.InitialInterval,
			BackoffCoefficient:     2,
			MaximumInterval:        p.MaximumInterval,
			NonRetryableErrorTypes: []string{flow.ErrERPRejected},
		},
	})
}

// batchOptions are the activity options of a long step that heartbeats (a
// split's batch, a reconciliation's page, a sweep): each attempt bounded by
// startToClose and by a minute without a heartbeat, retried with backoff
// from a second up to a minute, at most maxAttempts times (0: no limit),
// never for the error types nonRetryable names.
func batchOptions(ctx workflow.Context, startToClose time.Duration, maxAttempts int32, nonRetryable ...string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: startToClose,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			MaximumAttempts:        maxAttempts,
			NonRetryableErrorTypes: nonRetryable,
		},
	})
}

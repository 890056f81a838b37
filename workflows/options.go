// Package workflows holds erpbridge's Temporal workflows: EventWorkflow (one
// per vendor message) and RecordWorkflow (one per vendor record, the only
// place that sends that record to the ERP).
package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/erpbridge/erpbridge/flow"
)

// localStepOptions covers the short database and Temporal steps (verify,
// persist, notify, record outcomes): quick attempts, retried for as long as
// the dependency is down (no ScheduleToClose: giving up would lose the
// callback; operators see the pending activity and its last error in the
// Web UI), but never for invalid content.
func localStepOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			NonRetryableErrorTypes: []string{flow.ErrInvalidContent},
		},
	})
}

// localStepRetryFor bounds a local step's retries: in effect never, as
// with the activity form, whose retries have no ScheduleToClose. A local
// activity without ScheduleToCloseTimeout would stop at its StartToClose.
const localStepRetryFor = 100 * 365 * 24 * time.Hour

// localActivityStepOptions are localStepOptions for a local activity: the
// same attempt bound and retry policy, run by the worker inside the workflow
// task instead of being scheduled through the server. Retries up to the
// workflow task timeout apart happen in the worker; longer backoffs wait on a
// server timer, each adding a marker and a timer to the history (about 6
// events a minute during a database outage, once backoff reaches its minute).
func localActivityStepOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		ScheduleToCloseTimeout: localStepRetryFor,
		StartToCloseTimeout:    30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			NonRetryableErrorTypes: []string{flow.ErrInvalidContent},
		},
	})
}

// steps runs the short database and Temporal steps of one workflow run:
// as local activities in runs started since changeLocalSteps, as regular
// activities in runs that began before (so their histories replay).
type steps struct {
	local bool
	// handOver: the event workflow closes once its record workflow has the
	// new state (runs of flow.ShapeHandOver).
	handOver bool
	regular  workflow.Context
	la       workflow.Context
}

// changeLocalSteps versions running the event workflow's short steps
// (Persist, NotifyRecord, RecordEventOutcome, RecordInvalid) as local
// activities, in runs whose input names no shape. A version marker rather
// than a new workflow type: the workflow's id, type and signals stay what
// operators and the record workflow know, and runs already open finish in
// the shape they started in.
const changeLocalSteps = "local-steps"

// newSteps picks a run's steps: by its input's shape (flow.ShapeHandOver:
// local steps, and the run closes once it has handed over), or, for runs
// started without one, by their version marker.
func newSteps(ctx workflow.Context, shape int) steps {
	s := steps{regular: localStepOptions(ctx), la: localActivityStepOptions(ctx)}
	if shape >= flow.ShapeHandOver {
		s.local, s.handOver = true, true
		return s
	}
	s.local = workflow.GetVersion(ctx, changeLocalSteps, workflow.DefaultVersion, 1) == 1
	return s
}

// run starts one step with its arguments.
func (s steps) run(fn any, args ...any) workflow.Future {
	if s.local {
		return workflow.ExecuteLocalActivity(s.la, fn, args...)
	}
	return workflow.ExecuteActivity(s.regular, fn, args...)
}

// syncOptions covers the ERP send: each attempt bounded, retried with
// exponential backoff for the whole retry budget (days, not a handful of
// attempts); an ERP rejection is final and parks the record for an operator.
// p is the configured policy (config.ERP, through the activities' Policy),
// every field set.
func syncOptions(ctx workflow.Context, p flow.SyncPolicy) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    p.AttemptTimeout,
		ScheduleToCloseTimeout: p.RetryBudget,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        p.InitialInterval,
			BackoffCoefficient:     2,
			MaximumInterval:        p.MaximumInterval,
			NonRetryableErrorTypes: []string{flow.ErrERPRejected, flow.ErrInvalidContent},
		},
	})
}

// operatorStepOptions covers passing an operator's update on to a record
// workflow: someone is waiting for the answer, so a few quick attempts, and
// an answer the record gave (even a refusal) is final.
func operatorStepOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        10 * time.Second,
			NonRetryableErrorTypes: []string{flow.ErrNotApplicable},
		},
	})
}

package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/erpbridge/erpbridge/activities"
	"github.com/erpbridge/erpbridge/flow"
)

// SweepWorkflow is one run of the stale-record sweep, started by the
// schedule flow.SweepScheduleID once per period: it tells the record
// workflow of every record whose newest state waits unsent, untouched, for
// longer than in.StaleAfter (see activities.SweepStaleRecords). A schedule
// rather than a ticker in every worker: it runs once per period however many
// workers there are, and operators see, pause and trigger it in the Web UI.
func SweepWorkflow(ctx workflow.Context, in flow.SweepInput) (flow.SweepResult, error) {
	var a *activities.Activities
	// Each claim of the store is a short transaction and each record a
	// signal-with-start; a sweep that fails is retried a few times, then the
	// next period sweeps again.
	ctx = batchOptions(ctx, 10*time.Minute, 5)
	var res flow.SweepResult
	err := workflow.ExecuteActivity(ctx, a.SweepStaleRecords, in).Get(ctx, &res)
	return res, err
}

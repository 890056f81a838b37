package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/erpbridge/erpbridge/activities"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong/openapi"
)

// scheduledStartTime is the search attribute a schedule sets on the runs it
// starts: the time the run was due. A backfilled run is due in the past,
// and reads the window before that time.
var scheduledStartTime = temporal.NewSearchAttributeKeyTime("TemporalScheduledStartTime")

// ReconcileWorkflow is one run of the Fenbeitong reconciliation, started by
// the schedule flow.ReconcileScheduleID: pushes carry only the booked and
// cancelled states, so it lists the car orders created in the last
// in.Lookback before the time the run was due (its scheduled time, now
// when started by hand or triggered; a backfill reads past windows) as
// Fenbeitong's UTC+8 dates, page by page, one activity a
// page, and feeds each order through the path of a push (see
// activities.ReconcileFenbeitongPage). Progress is the run's own: a worker
// restart resumes at the page it was on, and a history grown long continues
// as new from the next page. Its result counts what it found.
func ReconcileWorkflow(ctx workflow.Context, in flow.ReconcileInput) (flow.ReconcileResult, error) {
	var a *activities.Activities
	if in.Begin == "" || in.End == "" {
		now := workflow.Now(ctx)
		if due, ok := workflow.GetTypedSearchAttributes(ctx).GetTime(scheduledStartTime); ok && !due.IsZero() {
			now = due
		}
		in.Begin, in.End = openapi.ChinaDate(now.Add(-in.Lookback)), openapi.ChinaDate(now)
	}
	if in.Page < 1 {
		in.Page = 1
	}
	// A page is one list call and at most a detail per order, paced by
	// FENBEITONG_API_RPS, and a store write per order.
	ctx = batchOptions(ctx, 5*time.Minute, 10, flow.ErrVendorAPIRefused)
	res := in.Done
	for {
		if in.Page > 1 && workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			next := in
			next.Done = res
			return res, workflow.NewContinueAsNewError(ctx, ReconcileWorkflow, next)
		}
		var page flow.ReconcileResult
		req := flow.ReconcilePageInput{Begin: in.Begin, End: in.End, Page: in.Page, PageSize: in.PageSize}
		if err := workflow.ExecuteActivity(ctx, a.ReconcileFenbeitongPage, req).Get(ctx, &page); err != nil {
			return res, err
		}
		res.Add(page)
		if in.Page >= page.TotalPages || page.Found == 0 {
			return res, nil
		}
		in.Page++
	}
}

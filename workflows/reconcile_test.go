package workflows_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/erpbridge/erpbridge/flow"
)

// A reconciliation reads the pages one by one, over the dates of its
// lookback in UTC+8, and adds up what each found.
func TestReconcileWorkflowReadsEveryPage(t *testing.T) {
	h := newHarness(t)
	h.env.SetStartTime(time.Date(2026, 12, 7, 17, 0, 0, 0, time.UTC)) // 01:00 on the 8th in UTC+8
	var mu sync.Mutex
	var pages []flow.ReconcilePageInput
	h.env.OnActivity(a.ReconcileFenbeitongPage, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in flow.ReconcilePageInput) (flow.ReconcileResult, error) {
			mu.Lock()
			defer mu.Unlock()
			pages = append(pages, in)
			return flow.ReconcileResult{Pages: 1, TotalPages: 3, Found: 2, New: 1, Unchanged: 1}, nil
		})

	h.env.ExecuteWorkflow(flow.ReconcileWorkflowName, flow.ReconcileInput{Lookback: 72 * time.Hour, PageSize: 2})
	requireCompleted(t, h)
	var res flow.ReconcileResult
	require.NoError(t, h.env.GetWorkflowResult(&res))

	assert.Equal(t, flow.ReconcileResult{Pages: 3, TotalPages: 3, Found: 6, New: 3, Unchanged: 3}, res)
	require.Len(t, pages, 3)
	for i, p := range pages {
		assert.Equal(t, flow.ReconcilePageInput{Begin: "2026-12-05", End: "2026-12-08", Page: i + 1, PageSize: 2}, p)
	}
}

// A run a schedule started reads the window before the time it was due,
// so a backfill over past weeks reads those weeks' orders.
func TestReconcileWorkflowReadsTheWindowItWasDueFor(t *testing.T) {
	h := newHarness(t)
	h.env.SetStartTime(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	due := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC) // 11:00 on the 20th in UTC+8
	require.NoError(t, h.env.SetTypedSearchAttributesOnStart(temporal.NewSearchAttributes(
		temporal.NewSearchAttributeKeyTime("TemporalScheduledStartTime").ValueSet(due))))
	var got []flow.ReconcilePageInput
	h.env.OnActivity(a.ReconcileFenbeitongPage, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in flow.ReconcilePageInput) (flow.ReconcileResult, error) {
			got = append(got, in)
			return flow.ReconcileResult{Pages: 1, TotalPages: 1, Found: 1, Unchanged: 1}, nil
		})
	h.env.ExecuteWorkflow(flow.ReconcileWorkflowName, flow.ReconcileInput{Lookback: 48 * time.Hour, PageSize: 50})
	requireCompleted(t, h)
	require.Len(t, got, 1)
	assert.Equal(t, flow.ReconcilePageInput{Begin: "2026-11-18", End: "2026-11-20", Page: 1, PageSize: 50}, got[0])
}

// A refusal by the open API (a wrong key, say) fails the run at once; the
// next period's run tries again.
func TestReconcileWorkflowStopsOnARefusal(t *testing.T) {
	h := newHarness(t)
	h.env.OnActivity(a.ReconcileFenbeitongPage, mock.Anything, mock.Anything).Return(flow.ReconcileResult{},
		temporal.NewNonRetryableApplicationError("fenbeitong open API token failed: code 1, msg \"app_id或app_key错误\"", flow.ErrVendorAPIRefused, nil)).Once()

	h.env.ExecuteWorkflow(flow.ReconcileWorkflowName, flow.ReconcileInput{Lookback: time.Hour, PageSize: 50})
	require.True(t, h.env.IsWorkflowCompleted())
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, h.env.GetWorkflowError(), &appErr)
	assert.Equal(t, flow.ErrVendorAPIRefused, appErr.Type())
	h.env.AssertActivityNumberOfCalls(t, "ReconcileFenbeitongPage", 1)
}

// A run whose history grows long continues as new at its next page, with
// its dates and its counts so far.
func TestReconcileWorkflowContinuesAsNewAtItsPage(t *testing.T) {
	h := newHarness(t)
	h.env.OnActivity(a.ReconcileFenbeitongPage, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in flow.ReconcilePageInput) (flow.ReconcileResult, error) {
			h.env.SetContinueAsNewSuggested(true)
			return flow.ReconcileResult{Pages: 1, TotalPages: 9, Found: 2, New: 2}, nil
		})
	in := flow.ReconcileInput{Lookback: 24 * time.Hour, PageSize: 2, Begin: "2026-12-06", End: "2026-12-07", Page: 4}
	h.env.ExecuteWorkflow(flow.ReconcileWorkflowName, in)
	require.True(t, h.env.IsWorkflowCompleted())
	var next flow.ReconcileInput
	h.continuedAsNew(flow.ReconcileWorkflowName, &next)
	want := in
	want.Page, want.Done = 5, flow.ReconcileResult{Pages: 1, TotalPages: 9, Found: 2, New: 2}
	assert.Equal(t, want, next)
}

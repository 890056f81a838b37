package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/erpbridge/erpbridge/flow"
)

// ForwardOperatorRequest runs an operator's retry or skip, sent to an event
// workflow, as the same update on its record workflow and returns the
// record's answer ("retrying revision N", "skipped revision N"). Whatever the
// record workflow answered is final: a refusal (or no running record
// workflow) fails non-retryably with its reason; only failing to reach
// Temporal is retried.
func (a *Activities) ForwardOperatorRequest(ctx context.Context, in flow.ForwardInput) (string, error) {
	info := activity.GetInfo(ctx)
	h, err := a.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		// The same id on every attempt, so a retried attempt hears the first one's answer.
		UpdateID:     info.WorkflowExecution.RunID + "/" + info.ActivityID,
		WorkflowID:   in.RecordWorkflowID,
		UpdateName:   in.Update,
		Args:         []any{in.Request},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var text string
	if err == nil {
		err = h.Get(ctx, &text)
	}
	var appErr *temporal.ApplicationError
	var notFound *serviceerror.NotFound
	switch {
	case err == nil:
		return text, nil
	case errors.As(err, &appErr):
		return "", temporal.NewNonRetryableApplicationError(appErr.Message(), appErr.Type(), nil)
	case errors.As(err, &notFound):
		return "", temporal.NewNonRetryableApplicationError("nothing to "+in.Update+": the record workflow is not running", flow.ErrNotApplicable, nil)
	default:
		return "", fmt.Errorf("%s %s: %w", in.Update, in.RecordWorkflowID, err)
	}
}

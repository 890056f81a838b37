package activities

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"
	"go.temporal.io/sdk/temporal"

	"github.com/erpbridge/erpbridge/flow"
)

func TestForwardOperatorRequest(t *testing.T) {
	const recordID = "record:autox3:reception_order:6482"
	in := flow.ForwardInput{RecordWorkflowID: recordID, Update: flow.UpdateRetry,
		Request: flow.OperatorRequest{Reason: "customer created", Requester: "autox3:msg-1"}}
	// update mocks UpdateWorkflow; answer fills the handle's result, or failed is the update's failure.
	update := func(c *mocks.Client, answer string, failed, rpcErr error) {
		h := mocks.NewWorkflowUpdateHandle(t)
		c.On("UpdateWorkflow", mock.Anything, mock.MatchedBy(func(o client.UpdateWorkflowOptions) bool {
			return o.WorkflowID == recordID && o.UpdateName == flow.UpdateRetry && o.UpdateID != "" &&
				o.WaitForStage == client.WorkflowUpdateStageCompleted && assert.Equal(t, []any{in.Request}, o.Args)
		})).Return(h, rpcErr).Once()
		if rpcErr == nil {
			h.On("Get", mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
				*args.Get(1).(*string) = answer
			}).Return(failed).Once()
		}
	}
	for _, tc := range []struct {
		name          string
		answer        string
		failed        error
		rpcErr        error
		want          string
		errType, msg  string
		wantRetryable bool
	}{
		{name: "answered", answer: "retrying revision 3", want: "retrying revision 3"},
		{name: "refused by the record", failed: temporal.NewNonRetryableApplicationError("nothing to retry: record is synced", flow.ErrNotApplicable, nil),
			errType: flow.ErrNotApplicable, msg: "nothing to retry: record is synced"},
		{name: "no record workflow running", rpcErr: serviceerror.NewNotFound("workflow execution already completed"),
			errType: flow.ErrNotApplicable, msg: "nothing to retry: the record workflow is not running"},
		{name: "Temporal unreachable", rpcErr: serviceerror.NewUnavailable("connection refused"), wantRetryable: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mocks.NewClient(t)
			update(c, tc.answer, tc.failed, tc.rpcErr)
			a := &Activities{Temporal: c}
			v, err := newEnv(t, a).ExecuteActivity(a.ForwardOperatorRequest, in)
			switch {
			case tc.want != "":
				require.NoError(t, err)
				var got string
				require.NoError(t, v.Get(&got))
				assert.Equal(t, tc.want, got)
			case tc.wantRetryable:
				require.Error(t, err)
				var appErr *temporal.ApplicationError
				if assert.ErrorAs(t, err, &appErr) {
					assert.False(t, appErr.NonRetryable())
				}
			default:
				var appErr *temporal.ApplicationError
				require.ErrorAs(t, err, &appErr)
				assert.Equal(t, tc.errType, appErr.Type())
				assert.Equal(t, tc.msg, appErr.Message())
				assert.True(t, appErr.NonRetryable())
			}
		})
	}
}

func TestDeliverOutcomes(t *testing.T) {
	synced := flow.OutcomeSignal{Revision: 2, Status: flow.StatusSynced, SyncedRevision: 2, Attempts: 1}
	superseded := flow.OutcomeSignal{Revision: 1, Status: flow.StatusSuperseded, SyncedRevision: 2}
	in := []flow.OutcomeDelivery{{EventWorkflowID: "autox3:msg-1", Outcome: superseded}, {EventWorkflowID: "autox3:msg-2", Outcome: synced}}

	t.Run("in order, a closed event workflow skipped", func(t *testing.T) {
		c := mocks.NewClient(t)
		var order []string
		c.On("SignalWorkflow", mock.Anything, "autox3:msg-1", "", flow.SignalOutcome, superseded).Run(func(mock.Arguments) {
			order = append(order, "autox3:msg-1")
		}).Return(serviceerror.NewNotFound("workflow execution already completed")).Once()
		c.On("SignalWorkflow", mock.Anything, "autox3:msg-2", "", flow.SignalOutcome, synced).Run(func(mock.Arguments) {
			order = append(order, "autox3:msg-2")
		}).Return(nil).Once()
		a := &Activities{Temporal: c}
		_, err := newEnv(t, a).ExecuteActivity(a.DeliverOutcomes, in)
		require.NoError(t, err)
		assert.Equal(t, []string{"autox3:msg-1", "autox3:msg-2"}, order)
	})
	t.Run("Temporal unreachable is retried", func(t *testing.T) {
		c := mocks.NewClient(t)
		c.On("SignalWorkflow", mock.Anything, "autox3:msg-1", "", flow.SignalOutcome, superseded).Return(serviceerror.NewUnavailable("connection refused")).Once()
		a := &Activities{Temporal: c}
		_, err := newEnv(t, a).ExecuteActivity(a.DeliverOutcomes, in)
		require.Error(t, err)
		var appErr *temporal.ApplicationError
		if assert.ErrorAs(t, err, &appErr) {
			assert.False(t, appErr.NonRetryable())
		}
		assert.Contains(t, err.Error(), "autox3:msg-1")
	})
}

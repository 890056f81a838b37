package activities

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/tracing"
)

// NotifyRecord tells the record's workflow that a newer revision was
// persisted, starting that workflow if it is not running (signal-with-start).
func (a *Activities) NotifyRecord(ctx context.Context, in flow.NotifyInput) error {
	id := flow.RecordWorkflowID(in.Vendor, in.Kind, in.ExternalID)
	if a.Policy.AttemptTimeout <= 0 || a.Policy.RetryBudget <= 0 || a.Policy.InitialInterval <= 0 || a.Policy.MaximumInterval <= 0 {
		// A record workflow cannot send with it: say so here, not in its every workflow task.
		return fmt.Errorf("signal-with-start %s: the ERP sync policy is not configured (%+v)", id, a.Policy)
	}
	queue, idle := a.TaskQueue, time.Duration(0)
	if in.Bulk && a.BulkTaskQueue != "" {
		// A part of a split message: its record runs where it cannot crowd
		// out the records of live callbacks, and does not linger.
		queue, idle = a.BulkTaskQueue, a.BulkRecordIdle
	}
	opts := client.StartWorkflowOptions{
		ID:        id,
		TaskQueue: queue,
		// A closed record workflow is started afresh: its state lives in the database.
		WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			flow.AttrVendor.ValueSet(in.Vendor), flow.AttrEventType.ValueSet(in.Kind),
			flow.AttrOrderID.ValueSet(in.ExternalID), flow.AttrSyncStatus.ValueSet(string(models.RecordPending))),
		Memo: map[string]any{"record": in.Vendor + "/" + in.Kind},
	}
	input := flow.RecordInput{Vendor: in.Vendor, Kind: in.Kind, ExternalID: in.ExternalID, Policy: a.Policy, IdleTimeout: idle}
	sig := flow.PersistedSignal{Revision: in.Revision, Trace: tracing.Parent(ctx)}
	if _, err := a.Temporal.SignalWithStartWorkflow(ctx, id, flow.SignalPersisted, sig, opts, flow.RecordWorkflowName, input); err != nil {
		return fmt.Errorf("signal-with-start %s: %w", id, err)
	}
	return nil
}

package temporalclient

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// Schedule is one Temporal Schedule erpbridge keeps: a workflow started
// every Every on TaskQueue, skipped while the previous run still goes.
type Schedule struct {
	// ID is the schedule's id, fixed per namespace (e.g. flow.SweepScheduleID);
	// the server names each run it starts after it and the start time.
	ID string
	// Every is the period.
	Every time.Duration
	// Workflow is the workflow type's name, Args its input.
	Workflow string
	Args     []any
	// TaskQueue is the workers' task queue.
	TaskQueue string
	// Memo is the runs' memo: nothing a vendor's customer could be named by.
	Memo map[string]any
}

// EnsureSchedule creates the schedule, or brings an existing one's period,
// action and policies to s, so every worker can run it at its start. An
// operator's pause and note stay as they are. It reports "created" or
// "updated".
func EnsureSchedule(ctx context.Context, c client.Client, s Schedule) (string, error) {
	if s.ID == "" || s.Every <= 0 || s.Workflow == "" || s.TaskQueue == "" {
		return "", fmt.Errorf("schedule %q: id, period, workflow and task queue are all needed", s.ID)
	}
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: s.Every}}}
	action := &client.ScheduleWorkflowAction{ID: s.ID, Workflow: s.Workflow, Args: s.Args, TaskQueue: s.TaskQueue, Memo: s.Memo}
	policies := client.SchedulePolicies{
		// One run at a time: a period whose run is still going is skipped.
		Overlap: enums.SCHEDULE_OVERLAP_POLICY_SKIP,
		// Periods missed while Temporal was down are not made up, beyond one.
		CatchupWindow: max(s.Every, time.Minute),
	}
	sc := c.ScheduleClient()
	_, err := sc.Create(ctx, client.ScheduleOptions{ID: s.ID, Spec: spec, Action: action,
		Overlap: policies.Overlap, CatchupWindow: policies.CatchupWindow, Memo: s.Memo})
	if err == nil {
		return "created", nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return "", fmt.Errorf("create schedule %s: %w", s.ID, err)
	}
	err = sc.GetHandle(ctx, s.ID).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			sched := in.Description.Schedule
			sched.Spec, sched.Action, sched.Policy = &spec, action, &policies
			return &client.ScheduleUpdate{Schedule: &sched}, nil
		},
	})
	if err != nil {
		return "", fmt.Errorf("update schedule %s: %w", s.ID, err)
	}
	return "updated", nil
}

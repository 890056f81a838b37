package app

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// setup creates the namespace with the configured retention and registers
// the search attributes on it; run again, it changes nothing but a retention
// that differs.
func TestSetupCreatesNamespaceAndSearchAttributes(t *testing.T) {
	srv := testenv.Temporal(t)
	c := srv.Client()
	ns := fmt.Sprintf("setup-%d", time.Now().UnixNano())
	vars := map[string]string{"TEMPORAL_ADDRESS": srv.FrontendHostPort(), "TEMPORAL_NAMESPACE": ns,
		"TEMPORAL_NAMESPACE_RETENTION": "72h"}
	retention := func() time.Duration {
		d, err := c.WorkflowService().DescribeNamespace(t.Context(), &workflowservice.DescribeNamespaceRequest{Namespace: ns})
		if err != nil {
			t.Fatal(err)
		}
		return d.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration()
	}
	if code, out := runMain(t, vars, "setup"); code != 0 || !strings.Contains(out, `"changed":"created"`) {
		t.Fatalf("setup: exit %d\n%s", code, out)
	}
	if got := retention(); got != 72*time.Hour {
		t.Errorf("retention %s, want 72h", got)
	}
	testenv.AssertSearchAttributes(t, c, ns, flow.SearchAttributeNames...)
	if code, out := runMain(t, vars, "setup"); code != 0 || !strings.Contains(out, `"changed":""`) || !strings.Contains(out, `"added":null`) {
		t.Fatalf("setup again: exit %d\n%s", code, out)
	}
	vars["TEMPORAL_NAMESPACE_RETENTION"] = "240h"
	if code, out := runMain(t, vars, "setup"); code != 0 || !strings.Contains(out, `"changed":"updated"`) {
		t.Fatalf("setup with a new retention: exit %d\n%s", code, out)
	}
	if got := retention(); got != 240*time.Hour {
		t.Errorf("retention %s, want 240h", got)
	}
}

// setup creates the schedules on the namespace, and a second run (or a
// worker's start) updates them to the configuration, keeping one each and an
// operator's pause.
func TestSetupKeepsTheSchedules(t *testing.T) {
	srv := testenv.Temporal(t)
	c := srv.Client()
	ns := fmt.Sprintf("schedules-%d", time.Now().UnixNano())
	vars := map[string]string{"TEMPORAL_ADDRESS": srv.FrontendHostPort(), "TEMPORAL_NAMESPACE": ns,
		"TEMPORAL_TASK_QUEUE": "sched-q", "SWEEP_EVERY": "15m"}
	if code, out := runMain(t, vars, "setup"); code != 0 || !strings.Contains(out, `"schedule":"erpbridge-stale-sweep"`) ||
		!strings.Contains(out, `"changed":"created"`) {
		t.Fatalf("setup: exit %d\n%s", code, out)
	}
	nsClient, err := client.NewClientFromExisting(c, client.Options{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	h := nsClient.ScheduleClient().GetHandle(t.Context(), flow.SweepScheduleID)
	describe := func() *client.ScheduleDescription {
		d, err := h.Describe(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := describe()
	action, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction)
	if !ok || action.TaskQueue != "sched-q" || d.Schedule.Spec.Intervals[0].Every != 15*time.Minute ||
		d.Schedule.Policy.Overlap != enums.SCHEDULE_OVERLAP_POLICY_SKIP {
		t.Fatalf("schedule %+v, action %+v", d.Schedule, d.Schedule.Action)
	}
	if wf, _ := action.Workflow.(string); wf != flow.SweepWorkflowName {
		t.Fatalf("schedule runs %v, want %s", action.Workflow, flow.SweepWorkflowName)
	}
	if err := h.Pause(t.Context(), client.SchedulePauseOptions{Note: "paused by an operator"}); err != nil {
		t.Fatal(err)
	}
	vars["SWEEP_EVERY"] = "20m"
	if code, out := runMain(t, vars, "setup"); code != 0 || !strings.Contains(out, `"changed":"updated"`) {
		t.Fatalf("setup again: exit %d\n%s", code, out)
	}
	d = describe()
	if d.Schedule.Spec.Intervals[0].Every != 20*time.Minute || !d.Schedule.State.Paused {
		t.Fatalf("after setup again: every %s, paused %v", d.Schedule.Spec.Intervals[0].Every, d.Schedule.State.Paused)
	}
	vars["SCHEDULES"] = "false"
	vars["SWEEP_EVERY"] = "30m"
	if code, out := runMain(t, vars, "setup"); code != 0 || strings.Contains(out, `"schedule"`) {
		t.Fatalf("setup with SCHEDULES=false: exit %d\n%s", code, out)
	}
	if got := describe().Schedule.Spec.Intervals[0].Every; got != 20*time.Minute {
		t.Fatalf("SCHEDULES=false changed the schedule to %s", got)
	}
}

// With Fenbeitong's open API configured, setup (and a worker's start) also
// keeps the reconciliation's schedule, fenbeitong-reconcile, at its period.
func TestSetupKeepsTheReconciliationSchedule(t *testing.T) {
	srv := testenv.Temporal(t)
	ns := fmt.Sprintf("reconcile-%d", time.Now().UnixNano())
	vars := map[string]string{"TEMPORAL_ADDRESS": srv.FrontendHostPort(), "TEMPORAL_NAMESPACE": ns,
		"FENBEITONG_API_URL": "https://open.example.com", "FENBEITONG_APP_ID": "app", "FENBEITONG_APP_KEY": "key",
		"FENBEITONG_SIGN_KEY": "sign", "FENBEITONG_EMPLOYEE_ID": "emp", "FENBEITONG_RECONCILE_EVERY": "30m"}
	if code, out := runMain(t, vars, "setup"); code != 0 || !strings.Contains(out, `"schedule":"fenbeitong-reconcile"`) {
		t.Fatalf("setup: exit %d\n%s", code, out)
	}
	c, err := client.NewClientFromExisting(srv.Client(), client.Options{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.ScheduleClient().GetHandle(t.Context(), flow.ReconcileScheduleID).Describe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	action, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction)
	if !ok || d.Schedule.Spec.Intervals[0].Every != 30*time.Minute || d.Schedule.Policy.Overlap != enums.SCHEDULE_OVERLAP_POLICY_SKIP {
		t.Fatalf("schedule %+v", d.Schedule)
	}
	if wf, _ := action.Workflow.(string); wf != flow.ReconcileWorkflowName {
		t.Fatalf("schedule runs %v", action.Workflow)
	}
	for _, secret := range []string{`"key"`, `"sign"`} {
		if strings.Contains(fmt.Sprint(action.Args), secret) {
			t.Errorf("the schedule's input holds a key: %v", action.Args)
		}
	}
}

//go:build histories

// Writes the histories replay_test.go replays: each scenario runs the real
// workflows on a Temporal dev server, with stand-in activities, and saves
// every workflow's history under testdata/histories, named after the shape
// they record (historiesShape). When a change to the workflows' commands
// ships (docs/versioning.md), rename historiesShape, run it, and keep the
// files of every shape that may still have open runs:
//
//	go test -tags histories -run TestWriteHistories ./workflows/
package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/workflows"
)

const historiesQueue = "histories"

// historiesShape prefixes the files written: the workflows' shape they record.
const historiesShape = "v1-"

// standIns are activities with the production names and signatures whose
// behaviour each scenario picks by event key and record id.
type standIns struct {
	c client.Client

	mu        sync.Mutex
	revisions map[string]int64 // newest persisted revision per record
	syncs     map[string]int   // SyncRecord calls per record
	sending   chan struct{}    // closed when the first send of RB-NEWER starts
	newer     chan struct{}    // closed once revision 2 of RB-NEWER is signalled
}

type scenarioEvent struct {
	record   string
	revision int64
	applied  bool
	invalid  bool
	parts    int
}

// events maps the scenarios' event keys to what Verify and Persist say of them.
var events = map[string]scenarioEvent{
	"msg-happy":   {record: "RB-HAPPY", revision: 1, applied: true},
	"msg-reject":  {record: "RB-REJECT", revision: 1, applied: true},
	"msg-skip":    {record: "RB-SKIP", revision: 1, applied: true},
	"msg-uretry":  {record: "RB-UPD-RETRY", revision: 1, applied: true},
	"msg-uskip":   {record: "RB-UPD-SKIP", revision: 1, applied: true},
	"msg-invalid": {invalid: true},
	"msg-stale":   {record: "RB-STALE", revision: 0, applied: false},
	"msg-newer-1": {record: "RB-NEWER", revision: 1, applied: true},
	"msg-newer-2": {record: "RB-NEWER", revision: 2, applied: true},
	"msg-split":   {parts: 5},
}

func (s *standIns) Persist(_ context.Context, in flow.PersistInput) (flow.PersistResult, error) {
	ev := events[in.Event.EventKey]
	if ev.invalid {
		return flow.PersistResult{}, temporal.NewNonRetryableApplicationError("invalid content: receiveBaseId: missing", flow.ErrInvalidContent, nil)
	}
	if ev.parts > 0 {
		return flow.PersistResult{Kind: "maintenance_message", ExternalID: in.Event.EventKey, Version: 1, PartCount: ev.parts, PartBatch: 2}, nil
	}
	if ev.applied {
		s.mu.Lock()
		s.revisions[ev.record] = max(s.revisions[ev.record], ev.revision)
		s.mu.Unlock()
	}
	return flow.PersistResult{Kind: recordKind, ExternalID: ev.record, Version: ev.revision, Applied: ev.applied, Revision: ev.revision}, nil
}

func (s *standIns) RecordInvalid(context.Context, flow.InvalidInput) error { return nil }

func (s *standIns) NotifyRecord(ctx context.Context, in flow.NotifyInput) error {
	id := flow.RecordWorkflowID(in.Vendor, in.Kind, in.ExternalID)
	opts := client.StartWorkflowOptions{ID: id, TaskQueue: historiesQueue,
		WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(flow.AttrSyncStatus.ValueSet(string(models.RecordPending)))}
	input := flow.RecordInput{Vendor: in.Vendor, Kind: in.Kind, ExternalID: in.ExternalID, IdleTimeout: 2 * time.Second,
		Policy: flow.SyncPolicy{RetryBudget: time.Minute, AttemptTimeout: 10 * time.Second, InitialInterval: 100 * time.Millisecond, MaximumInterval: time.Second}}
	sig := flow.PersistedSignal{Revision: in.Revision}
	_, err := s.c.SignalWithStartWorkflow(ctx, id, flow.SignalPersisted, sig, opts, flow.RecordWorkflowName, input)
	if err == nil && in.ExternalID == "RB-NEWER" && in.Revision == 2 {
		close(s.newer)
	}
	return err
}

func (s *standIns) SyncRecord(ctx context.Context, in flow.SyncInput) (flow.SyncResult, error) {
	attempt := activity.GetInfo(ctx).Attempt
	s.mu.Lock()
	s.syncs[in.ExternalID]++
	n := s.syncs[in.ExternalID]
	rev := s.revisions[in.ExternalID]
	s.mu.Unlock()
	reject := func() (flow.SyncResult, error) {
		rej := flow.Rejection{Revision: rev, Version: rev, HTTPStatus: 422, Reason: "customer code is not known to the ERP", Attempts: int(attempt)}
		return flow.SyncResult{CurrentRevision: rev, Attempt: attempt}, temporal.NewNonRetryableApplicationError("ERP answered 422", flow.ErrERPRejected, nil, rej)
	}
	switch {
	case in.ExternalID == "RB-HAPPY" && attempt < 3:
		return flow.SyncResult{}, errors.New("ERP answered 503")
	case in.ExternalID == "RB-REJECT" && n == 1, in.ExternalID == "RB-SKIP",
		in.ExternalID == "RB-UPD-RETRY" && n == 1, in.ExternalID == "RB-UPD-SKIP":
		return reject()
	case in.ExternalID == "RB-NEWER" && n == 1:
		// The first send lasts until the newer revision has reached the record workflow.
		close(s.sending)
		select {
		case <-s.newer:
		case <-ctx.Done():
			return flow.SyncResult{}, ctx.Err()
		}
	}
	s.mu.Lock()
	cur := s.revisions[in.ExternalID]
	s.mu.Unlock()
	return flow.SyncResult{Sent: true, SentRevision: rev, SentVersion: rev, SyncedRevision: rev, CurrentRevision: cur, Attempt: attempt}, nil
}

func (s *standIns) MarkSkipped(context.Context, flow.SkipInput) error { return nil }

func (s *standIns) PersistParts(_ context.Context, in flow.PartsInput) (flow.PartsResult, error) {
	return flow.PartsResult{Applied: in.To - in.From}, nil
}

func (s *standIns) ReconcileFenbeitongPage(_ context.Context, in flow.ReconcilePageInput) (flow.ReconcileResult, error) {
	return flow.ReconcileResult{Pages: 1, TotalPages: 2, Found: 2, New: 1, Unchanged: 1}, nil
}

func (s *standIns) SweepStaleRecords(context.Context, flow.SweepInput) (flow.SweepResult, error) {
	return flow.SweepResult{Told: 2}, nil
}

func TestWriteHistories(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	srv := testenv.NewTemporal(t, flow.SearchAttributeNames...)
	c, err := client.DialContext(ctx, client.Options{HostPort: srv.FrontendHostPort(), Identity: "histories"})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()

	acts := &standIns{c: c, revisions: map[string]int64{}, syncs: map[string]int{}, sending: make(chan struct{}), newer: make(chan struct{})}
	w := sdkworker.New(c, historiesQueue, sdkworker.Options{})
	w.RegisterWorkflowWithOptions(workflows.EventWorkflow, workflow.RegisterOptions{Name: flow.EventWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.RecordWorkflow, workflow.RegisterOptions{Name: flow.RecordWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.SweepWorkflow, workflow.RegisterOptions{Name: flow.SweepWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.ReconcileWorkflow, workflow.RegisterOptions{Name: flow.ReconcileWorkflowName})
	w.RegisterActivity(acts)
	if err := w.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	defer w.Stop()

	dir := filepath.Join("testdata", "histories")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	start := func(key string) client.WorkflowRun {
		in := flow.EventInput{Vendor: vendors.AutoX3, EventKey: key, EventType: "receiveBase.create", ReceivedAt: time.Now().UTC(),
			ClaimCheck: flow.ClaimCheckFor(vendors.AutoX3, key)}
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: flow.EventWorkflowID(vendors.AutoX3, key), TaskQueue: historiesQueue},
			flow.EventWorkflowName, in)
		if err != nil {
			t.Fatalf("start %s: %v", key, err)
		}
		return run
	}
	result := func(run client.WorkflowRun, want flow.EventOutcome) {
		var res workflows.EventResult
		if err := run.Get(ctx, &res); err != nil {
			t.Fatalf("%s: %v", run.GetID(), err)
		}
		if res.Status != want {
			t.Fatalf("%s ended %s, want %s", run.GetID(), res.Status, want)
		}
	}
	waitRecord := func(record string) string {
		id := flow.RecordWorkflowID(vendors.AutoX3, recordKind, record)
		if err := c.GetWorkflow(ctx, id, "").Get(ctx, nil); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		return id
	}
	waitRejected := func(id string) {
		testenv.Eventually(t, id+" rejected", time.Minute, func() error {
			v, err := c.QueryWorkflow(ctx, id, "", flow.QueryStatus)
			if err != nil {
				return err
			}
			var st flow.Status
			if err := v.Get(&st); err != nil {
				return err
			}
			if st.SyncStatus != string(models.RecordRejected) {
				return fmt.Errorf("sync status %s", st.SyncStatus)
			}
			return nil
		})
	}
	save := func(name, id string) {
		var h historypb.History
		it := c.GetWorkflowHistory(ctx, id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				t.Fatalf("history of %s: %v", id, err)
			}
			h.Events = append(h.Events, ev)
		}
		b, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(&h)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, historiesShape+name+".json"), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	recordOf := func(record string) string { return flow.RecordWorkflowID(vendors.AutoX3, recordKind, record) }

	run := start("msg-happy")
	result(run, flow.EventHandedOver)
	save("event-handed-over", run.GetID())
	save("record-retried-then-synced", waitRecord("RB-HAPPY"))

	// An operator retries or skips a rejected record by a signal, or by an
	// update, which answers.
	signal := func(name, reason string) func(id string) {
		return func(id string) {
			if err := c.SignalWorkflow(ctx, id, "", name, flow.OperatorRequest{Reason: reason}); err != nil {
				t.Fatal(err)
			}
		}
	}
	update := func(name, reason, want string) func(id string) {
		return func(id string) {
			h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: name,
				Args: []any{flow.OperatorRequest{Reason: reason}}, WaitForStage: client.WorkflowUpdateStageCompleted})
			if err != nil {
				t.Fatalf("%s %s: %v", name, id, err)
			}
			var answer string
			if err := h.Get(ctx, &answer); err != nil || answer != want {
				t.Fatalf("%s %s answered %q, %v; want %q", name, id, answer, err, want)
			}
		}
	}
	// rejectedThen runs message msgID until the ERP rejects its record, has
	// the operator act on the record, and saves the record's history as name.
	rejectedThen := func(msgID, record, name string, act func(id string)) {
		result(start(msgID), flow.EventHandedOver)
		waitRejected(recordOf(record))
		act(recordOf(record))
		save(name, waitRecord(record))
	}
	rejectedThen("msg-reject", "RB-REJECT", "record-rejected-retried", signal(flow.UpdateRetry, "customer code added"))
	rejectedThen("msg-skip", "RB-SKIP", "record-rejected-skipped", signal(flow.UpdateSkip, "entered in the ERP by hand"))
	rejectedThen("msg-uretry", "RB-UPD-RETRY", "record-rejected-retried-by-update",
		update(flow.UpdateRetry, "customer code added", "retrying revision 1"))
	rejectedThen("msg-uskip", "RB-UPD-SKIP", "record-rejected-skipped-by-update",
		update(flow.UpdateSkip, "entered in the ERP by hand", "skipped revision 1"))

	run = start("msg-invalid")
	if err := run.Get(ctx, nil); err == nil {
		t.Fatal("invalid content did not fail the event workflow")
	}
	save("event-invalid", run.GetID())

	run = start("msg-stale")
	result(run, flow.EventSuperseded)
	save("event-superseded", run.GetID())

	first := start("msg-newer-1")
	<-acts.sending
	second := start("msg-newer-2")
	result(first, flow.EventHandedOver)
	result(second, flow.EventHandedOver)
	save("event-newer-1", first.GetID())
	save("event-newer-2", second.GetID())
	save("record-newer-during-send", waitRecord("RB-NEWER"))

	run = start("msg-split")
	result(run, flow.EventSplit)
	save("event-split", run.GetID())

	// runToEnd runs a scheduled workflow to its end, decodes its result into
	// out and returns its id.
	runToEnd := func(id, name string, in, out any) string {
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id + "-histories", TaskQueue: historiesQueue}, name, in)
		if err != nil {
			t.Fatalf("start %s: %v", name, err)
		}
		if err := run.Get(ctx, out); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return run.GetID()
	}
	var swept flow.SweepResult
	id := runToEnd(flow.SweepScheduleID, flow.SweepWorkflowName, flow.SweepInput{StaleAfter: time.Hour}, &swept)
	if swept.Told != 2 {
		t.Fatalf("sweep told %d record workflows, want 2", swept.Told)
	}
	save("sweep", id)

	var reconciled flow.ReconcileResult
	id = runToEnd(flow.ReconcileScheduleID, flow.ReconcileWorkflowName, flow.ReconcileInput{Lookback: 72 * time.Hour, PageSize: 2}, &reconciled)
	if reconciled.Pages != 2 {
		t.Fatalf("reconcile read %d pages, want 2", reconciled.Pages)
	}
	save("fenbeitong-reconcile", id)
}

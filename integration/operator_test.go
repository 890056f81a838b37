package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/erpbridge/erpbridge/codec"
	"github.com/erpbridge/erpbridge/erp/erpsim"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/store"
	"github.com/erpbridge/erpbridge/temporalclient"
	"github.com/erpbridge/erpbridge/vendors/autox3"
)

// The event workflow hands its state to the record workflow and closes;
// the record workflow's SyncStatus is pending while the ERP is slow and
// synced once it answers, and the event's row follows it.
func TestSyncStatusMovesPendingToSynced(t *testing.T) {
	s := newStack(t, "mysql")
	if err := s.sim.SetFaults(erpsim.Faults{LatencyMS: 3000}); err != nil {
		t.Fatal(err)
	}
	rec := s.acceptReception()
	wfID, recordID := rec.wfID, rec.recordID
	testenv.Eventually(t, "record pending while the ERP is slow", 30*time.Second, func() error {
		if status, running := s.syncStatus(recordID); status != string(models.RecordPending) || !running {
			return fmt.Errorf("SyncStatus=%q running=%v, want pending and running", status, running)
		}
		return nil
	})
	r, err := s.result(wfID)
	if err != nil || r.Status != string(flow.EventHandedOver) || r.RecordWorkflowID != recordID {
		t.Fatalf("event workflow ended %+v, %v; want handed over to %s", r, err, recordID)
	}
	if status, running := s.syncStatus(wfID); status != string(flow.EventHandedOver) || running {
		t.Fatalf("event workflow SyncStatus=%q running=%v, want handed_over and closed", status, running)
	}
	s.mustResult(wfID, string(models.EventSynced))
	testenv.Eventually(t, "record synced", 30*time.Second, func() error {
		if status, _ := s.syncStatus(recordID); status != string(models.RecordSynced) {
			return fmt.Errorf("record SyncStatus=%q", status)
		}
		return nil
	})
	// What each run cost the history service: the event two local steps
	// and one upsert; the record its send and one upsert
	// (synced: pending came with its start). No version marker, whose
	// TemporalChangeVersion upsert would be a visibility write of its own.
	for id, want := range map[string]map[enums.EventType]int{
		wfID:     {enums.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: 1, enums.EVENT_TYPE_MARKER_RECORDED: 2},
		recordID: {enums.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: 1, enums.EVENT_TYPE_MARKER_RECORDED: 0, enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: 1},
	} {
		got := s.historyCounts(id)
		for typ, n := range want {
			if got[typ] != n {
				t.Errorf("history of %s has %d %v, want %d (all: %v)", id, got[typ], typ, n, got)
			}
		}
	}
	// The record workflow is searchable by the same order id.
	testenv.Eventually(t, "record workflow listed by OrderID", 30*time.Second, func() error {
		ids, err := s.list(fmt.Sprintf("OrderID = %q", rec.ext))
		if err != nil {
			return err
		}
		joined := strings.Join(ids, ",")
		if !strings.Contains(joined, wfID) || !strings.Contains(joined, recordID) {
			return fmt.Errorf("listed %v", ids)
		}
		return nil
	})
}

// waitParked waits until a record workflow is parked on an ERP rejection:
// Running, SyncStatus=rejected.
func (s *stack) waitParked(recordID string) {
	s.t.Helper()
	testenv.Eventually(s.t, recordID+" parked as rejected", time.Minute, func() error {
		if status, running := s.syncStatus(recordID); status != string(models.RecordRejected) || !running {
			return fmt.Errorf("SyncStatus=%q running=%v", status, running)
		}
		return nil
	})
}

// parkedReception posts a fresh reception order that the ERP rejects with
// reason and waits until its record workflow is parked on the rejection.
func (s *stack) parkedReception(reason string) reception {
	s.t.Helper()
	r := newReception()
	if err := s.sim.SetFaults(erpsim.Faults{RejectExternalIDs: []string{r.ext}, RejectReason: reason}); err != nil {
		s.t.Fatal(err)
	}
	s.mustAccept("/webhooks/autox3", r.body(time.Now().UnixMilli()))
	s.waitParked(r.recordID)
	return r
}

// An ERP rejection parks the record (Running, SyncStatus=rejected, reason
// queryable, the event's row rejected with the reason) until an operator
// retries it after the ERP was fixed.
func TestRejectedThenOperatorRetry(t *testing.T) {
	s := newStack(t, "mysql")
	r := s.parkedReception("unknown customer in master data")
	st := s.queryStatus(r.recordID)
	if st.SyncStatus != string(models.RecordRejected) || !strings.Contains(st.LastError, "unknown customer") || st.Attempts < 1 || st.State != "waiting-operator" {
		t.Fatalf("status query = %+v", st)
	}
	s.mustResult(r.wfID, string(models.EventRejected))
	var ev models.InboundEvent
	if err := s.db.Where("event_key = ?", r.msgID).Take(&ev).Error; err != nil || !strings.Contains(ev.SyncDetail, "unknown customer") {
		t.Fatalf("database event detail %q, %v", ev.SyncDetail, err)
	}
	testenv.Eventually(t, "searchable as rejected", 30*time.Second, func() error {
		n, err := s.count(fmt.Sprintf(`WorkflowType = %q AND SyncStatus = "rejected" AND OrderID = %q`, flow.RecordWorkflowName, r.ext))
		if err != nil || n < 1 {
			return fmt.Errorf("count %d err %v", n, err)
		}
		return nil
	})

	// The ERP's master data is fixed; the operator signals retry on the record.
	if err := s.sim.SetFaults(erpsim.Faults{}); err != nil {
		t.Fatal(err)
	}
	if err := s.c.SignalWorkflow(context.Background(), r.recordID, "", flow.UpdateRetry, flow.OperatorRequest{Reason: "customer created"}); err != nil {
		t.Fatal(err)
	}
	s.mustResult(r.wfID, string(models.EventSynced))
	s.oneRecord("reception_order", r.ext)
}

// Skip settles a rejected record as skipped and records it in the database,
// the event's row included.
func TestRejectedThenOperatorSkip(t *testing.T) {
	t.Parallel()
	s := newStack(t, "sqlite")
	r := s.parkedReception("")
	if err := s.c.SignalWorkflow(context.Background(), r.recordID, "", flow.UpdateSkip, flow.OperatorRequest{Reason: "test vehicle"}); err != nil {
		t.Fatal(err)
	}
	s.mustResult(r.wfID, string(models.EventSkipped))
	var ev models.InboundEvent
	s.db.Where("event_key = ?", r.msgID).Take(&ev)
	var rs models.RecordState
	s.db.Where("kind = ? AND external_id = ?", "reception_order", r.ext).Take(&rs)
	var skips int64
	s.db.Model(&models.SyncAttempt{}).Where("external_id = ? AND outcome = ?", r.ext, "skipped").Count(&skips)
	if ev.SyncStatus != models.EventSkipped || ev.SyncDetail != "test vehicle" || rs.SyncStatus != models.RecordSkipped || rs.SyncedRevision != rs.Revision || skips != 1 {
		t.Fatalf("event %q (%q), record %q (revision %d synced %d), %d skip rows", ev.SyncStatus, ev.SyncDetail, rs.SyncStatus, rs.Revision, rs.SyncedRevision, skips)
	}
	if len(s.records("reception_order", r.ext)) != 0 {
		t.Fatal("a skipped record reached the ERP")
	}
	testenv.Eventually(t, "record searchable as skipped", 30*time.Second, func() error {
		if status, _ := s.syncStatus(r.recordID); status != string(models.RecordSkipped) {
			return fmt.Errorf("record SyncStatus=%q", status)
		}
		return nil
	})
}

// The retry and skip updates on the record workflow answer the operator:
// what they did, or why they cannot apply. The event workflow closed when
// it handed over: an update sent there is refused by Temporal, saying so.
func TestOperatorUpdatesAnswer(t *testing.T) {
	s := newStack(t, "mysql")
	r := s.parkedReception("unknown customer in master data")

	if _, err := s.update(r.wfID, flow.UpdateRetry, flow.OperatorRequest{Reason: "wrong workflow"}); err == nil ||
		!strings.Contains(err.Error(), "completed") {
		t.Fatalf("a retry update on the closed event workflow answered %v, want a refusal naming it completed", err)
	}

	// The ERP's master data is fixed; the operator's retry says what it did.
	if err := s.sim.SetFaults(erpsim.Faults{}); err != nil {
		t.Fatal(err)
	}
	answer, err := s.update(r.recordID, flow.UpdateRetry, flow.OperatorRequest{Reason: "customer created"})
	if err != nil || answer != "retrying revision 1" {
		t.Fatalf("retry update answered %q, %v", answer, err)
	}
	s.mustResult(r.wfID, string(models.EventSynced))
	s.oneRecord("reception_order", r.ext)

	// Now nothing is parked: a skip on the record workflow is refused, and
	// says why. (The event's row is settled inside the send; the workflow
	// learns of it when the send's result reaches it.)
	testenv.Eventually(t, r.recordID+" synced", time.Minute, func() error {
		if status, _ := s.syncStatus(r.recordID); status != string(models.RecordSynced) {
			return fmt.Errorf("SyncStatus=%q", status)
		}
		return nil
	})
	answer, err = s.update(r.recordID, flow.UpdateSkip, flow.OperatorRequest{Reason: "too late"})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != flow.ErrNotApplicable || appErr.Message() != "nothing to skip: record is synced" {
		t.Fatalf("skip of a synced record answered %q, %v", answer, err)
	}
	s.oneRecord("reception_order", r.ext)
}

// A skip update answers once the skip is recorded, and the event's row is skipped.
func TestOperatorSkipUpdateAnswers(t *testing.T) {
	t.Parallel()
	s := newStack(t, "sqlite")
	r := s.parkedReception("")
	answer, err := s.update(r.recordID, flow.UpdateSkip, flow.OperatorRequest{Reason: "test vehicle"})
	if err != nil || answer != "skipped revision 1" {
		t.Fatalf("skip update answered %q, %v", answer, err)
	}
	s.mustResult(r.wfID, string(models.EventSkipped))
	if len(s.records("reception_order", r.ext)) != 0 {
		t.Fatal("a skipped record reached the ERP")
	}
}

// An event workflow closes once it has handed over, so a record workflow
// terminated while its state waits unsent would leave the order behind; the
// workers' sweep finds the record untouched and starts its workflow again.
func TestStaleRecordGetsItsWorkflowAgain(t *testing.T) {
	s := newStack(t, "mysql")
	if err := s.sim.SetFaults(erpsim.Faults{FailureRate: 1}); err != nil {
		t.Fatal(err)
	}
	r := s.acceptReception()
	s.mustResult(r.wfID, string(flow.EventHandedOver))
	testenv.Eventually(t, "record retrying the ERP", time.Minute, func() error {
		if status, running := s.syncStatus(r.recordID); status != string(models.RecordPending) || !running {
			return fmt.Errorf("SyncStatus=%q running=%v", status, running)
		}
		return nil
	})
	if err := s.c.TerminateWorkflow(context.Background(), r.recordID, "", "operator mistake"); err != nil {
		t.Fatal(err)
	}
	// The sweep's schedule, under an id of this stack's (stacks share the
	// namespace); it is triggered by hand rather than left to its period.
	sweep := s.sweepSchedule(time.Hour)
	// Waiting, but not for long yet: left alone.
	if told := sweep(); told != 0 {
		t.Fatalf("a sweep of fresh records told %d; want 0", told)
	}
	// An hour on, nothing having written the record (the ERP still fails,
	// so a send attempt still in flight at the termination only writes it
	// again, and the next try takes that in).
	testenv.Eventually(t, "the sweep tells the record's workflow", time.Minute, func() error {
		if err := s.db.Model(&models.RecordState{}).Where("kind = ? AND external_id = ?", "reception_order", r.ext).
			UpdateColumn("updated_at", time.Now().Add(-2*time.Hour)).Error; err != nil {
			return err
		}
		if told := sweep(); told != 1 {
			return fmt.Errorf("told %d; want 1", told)
		}
		return nil
	})
	if err := s.sim.SetFaults(erpsim.Faults{}); err != nil {
		t.Fatal(err)
	}
	s.mustResult(r.wfID, string(models.EventSynced))
	s.oneRecord("reception_order", r.ext)
}

// sweepSchedule sets up the stale-record sweep's schedule for this stack
// and returns a func that triggers one run and returns how many records it
// told.
func (s *stack) sweepSchedule(staleAfter time.Duration) func() int {
	s.t.Helper()
	trigger := s.schedule(flow.SweepScheduleID, flow.SweepWorkflowName, flow.SweepInput{StaleAfter: staleAfter})
	return func() int {
		var res flow.SweepResult
		trigger(&res)
		return res.Told
	}
}

// schedule sets up a schedule of the stack's, as a worker does at its
// start, under an id of this stack's (stacks share the namespace) and with a
// period too long to fire during the test, and returns a func that triggers
// one run and decodes its result into res.
func (s *stack) schedule(baseID, workflowName string, args any) func(res any) {
	s.t.Helper()
	ctx := context.Background()
	id := baseID + "-" + s.cfg.Temporal.TaskQueue
	sched := temporalclient.Schedule{ID: id, Every: 24 * time.Hour, Workflow: workflowName, Args: []any{args}, TaskQueue: s.cfg.Temporal.TaskQueue}
	if did, err := temporalclient.EnsureSchedule(ctx, s.c, sched); err != nil || did != "created" {
		s.t.Fatalf("set up schedule %s: %q, %v", id, did, err)
	}
	// Set up again, as every worker does at its start: updated, still one.
	if did, err := temporalclient.EnsureSchedule(ctx, s.c, sched); err != nil || did != "updated" {
		s.t.Fatalf("set up schedule %s again: %q, %v", id, did, err)
	}
	h := s.c.ScheduleClient().GetHandle(ctx, id)
	s.t.Cleanup(func() { _ = h.Delete(context.Background()) })
	runs := 0
	return func(res any) {
		s.t.Helper()
		if err := h.Trigger(ctx, client.ScheduleTriggerOptions{Overlap: enums.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL}); err != nil {
			s.t.Fatalf("trigger %s: %v", id, err)
		}
		runs++
		var runID string
		testenv.Eventually(s.t, fmt.Sprintf("run %d of %s", runs, id), time.Minute, func() error {
			d, err := h.Describe(ctx)
			if err != nil {
				return err
			}
			if len(d.Info.RecentActions) < runs {
				return fmt.Errorf("%d runs so far", len(d.Info.RecentActions))
			}
			runID = d.Info.RecentActions[runs-1].StartWorkflowResult.WorkflowID
			return nil
		})
		if err := s.c.GetWorkflow(ctx, runID, "").Get(ctx, res); err != nil {
			s.t.Fatalf("run %s of %s: %v", runID, id, err)
		}
	}
}

// historyCounts counts a workflow's history events by type.
func (s *stack) historyCounts(workflowID string) map[enums.EventType]int {
	s.t.Helper()
	counts := map[enums.EventType]int{}
	it := s.c.GetWorkflowHistory(context.Background(), workflowID, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			s.t.Fatalf("history of %s: %v", workflowID, err)
		}
		counts[ev.GetEventType()]++
	}
	return counts
}

// update runs an operator's update through the Temporal client and returns its answer.
func (s *stack) update(workflowID, name string, req flow.OperatorRequest) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, err := s.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflowID, UpdateName: name,
		Args: []any{req}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err != nil {
		return "", err
	}
	var answer string
	err = h.Get(ctx, &answer)
	return answer, err
}

// Temporal stores only ciphertext: no VIN or phone number in the history,
// while the codec-holding client still reads them.
func TestHistoryHoldsNoPersonalDataInClear(t *testing.T) {
	t.Parallel()
	s := newStack(t, "mysql")
	const vin, mobile = "LSVNV2182E2100001", "13912345678"
	msgID := uuid.NewString()
	rbid := uniqueID()
	content := fmt.Sprintf(`{"carInfo":{"carBrandName":"BMW","carNum":"京A12345","carVin":%q,"carOwnerMobile":%q},"preCheckInfo":{"odograph":1.5,"oilGauge":50},"receiveBaseId":%d,"staffInfo":{"mobile":%q,"userId":1}}`, vin, mobile, rbid, mobile)
	body := autox3.BuildBody(msgID, "event.autox3.order.receivebase.create", time.Now().UnixMilli(), json.RawMessage(`{"mobile":"13912345678","staffId":2}`), json.RawMessage(content), false, appSecret)
	s.mustAccept("/webhooks/autox3", body)
	wfID := flow.EventWorkflowID("autox3", msgID)
	s.mustResult(wfID, string(models.EventSynced))

	for _, id := range []string{wfID, flow.RecordWorkflowID("autox3", "reception_order", strconv.FormatInt(rbid, 10))} {
		all := s.rawHistory(id)
		if len(all) == 0 {
			t.Fatalf("empty history for %s", id)
		}
		for _, secret := range []string{vin, mobile, "京A12345"} {
			if strings.Contains(string(all), secret) {
				t.Fatalf("history of %s holds %q in clear", id, secret)
			}
		}
	}
	// The same history, read with the key, has the input: the check above is meaningful.
	it := s.c.GetWorkflowHistory(context.Background(), wfID, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	first, err := it.Next()
	if err != nil {
		t.Fatal(err)
	}
	payloads := first.GetWorkflowExecutionStartedEventAttributes().GetInput()
	if payloads.GetPayloads()[0].GetMetadata()["encoding"] == nil || string(payloads.GetPayloads()[0].GetMetadata()["encoding"]) != "binary/encrypted" {
		t.Fatalf("raw input encoding %q", payloads.GetPayloads()[0].GetMetadata()["encoding"])
	}
	in, err := decodeInput(s, payloads)
	if err != nil {
		t.Fatal(err)
	}
	if in.ClaimCheck != flow.ClaimCheckFor("autox3", msgID) {
		t.Fatalf("decoded input lacks its claim check: %+v", in)
	}
	// The codec server decrypts the input and resolves its claim check: the
	// operator reads the callback as the vendor sent it, as JSON.
	srv := httptest.NewServer(codec.NewServer(codec.NewCodec(s.keyring), "", nil, store.New(s.db).ResolveClaimCheck))
	defer srv.Close()
	remote := converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{Endpoint: srv.URL})
	decoded, err := remote.Decode(payloads.GetPayloads())
	if err != nil {
		t.Fatal(err)
	}
	var shown struct {
		ClaimCheck string
		Callback   json.RawMessage
	}
	if err := json.Unmarshal(decoded[0].GetData(), &shown); err != nil {
		t.Fatalf("decoded input %s: %v", decoded[0].GetData(), err)
	}
	if string(shown.Callback) != string(body) {
		t.Fatalf("the codec server shows %s, want the callback as posted", shown.Callback)
	}
}

// /metrics counts callbacks and carries the SDK's worker metrics.
func TestMetricsCountCallbacks(t *testing.T) {
	t.Parallel()
	s := newStack(t, "sqlite")
	r := s.acceptReception()
	s.post("/webhooks/autox3", []byte(`{"msgId":1}`))
	s.mustResult(r.wfID, string(models.EventSynced))
	code, text := s.get("/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics answered %d", code)
	}
	for _, want := range []string{
		`erpbridge_callbacks_total{event_type="event.autox3.order.receivebase.create",outcome="accepted",vendor="autox3"} 1`,
		`erpbridge_callbacks_total{event_type="unknown",outcome="malformed",vendor="autox3"} 1`,
		`erpbridge_callback_ack_seconds_bucket`,
		`erpbridge_erp_sync_total{kind="reception_order",outcome="accepted",source="autox3"} 1`,
		`erpbridge_erp_sync_seconds_bucket`,
		`temporal_`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// /readyz answers 200 with the database degraded while MySQL is
// unreachable (callbacks are kept through Temporal), and ready again after.
func TestReadyzFollowsMySQL(t *testing.T) {
	target := testenv.NewMySQLDatabase(t)
	// The stack reaches MySQL through a proxy the test can stop, as if the server stopped.
	p := startProxy(t, "127.0.0.1:3306")
	dsn := strings.Replace(target, "127.0.0.1:3306", p.addr, 1)
	if dsn == target {
		t.Fatalf("test DSN %q does not use 127.0.0.1:3306", target)
	}
	s := newStack(t, "mysql", stackOptions{mysqlDSN: dsn})
	p.stop()
	testenv.Eventually(t, "readyz degraded while MySQL is down", 30*time.Second, func() error {
		code, body := s.get("/readyz")
		if code != http.StatusOK || !strings.Contains(body, `"degraded":"database"`) || !strings.Contains(body, `"database":"unreachable"`) {
			return fmt.Errorf("readyz %d %s", code, body)
		}
		return nil
	})
	if code, _ := s.get("/healthz"); code != http.StatusOK {
		t.Fatalf("healthz %d while MySQL is down; the process is up", code)
	}
	p.start(t)
	testenv.Eventually(t, "readyz ready after MySQL is back", 30*time.Second, func() error {
		if code, body := s.get("/readyz"); code != http.StatusOK || !strings.Contains(body, `"status":"ready"`) {
			return fmt.Errorf("readyz %d %s", code, body)
		}
		return nil
	})
}

// proxy forwards TCP to a target and can be stopped (closing every
// connection) and restarted, or frozen: connections stay open and new ones
// are taken, but no byte goes through until it thaws, as when the target
// hangs or a partition drops packets instead of refusing them.
type proxy struct {
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
	frozen atomic.Bool
}

// freeze holds every byte until thaw.
func (p *proxy) freeze() { p.frozen.Store(true) }

// thaw lets bytes through again.
func (p *proxy) thaw() { p.frozen.Store(false) }

// pipe copies src to dst, holding what it read while the proxy is frozen.
func (p *proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		for p.frozen.Load() {
			time.Sleep(10 * time.Millisecond)
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func startProxy(t *testing.T, target string) *proxy {
	p := &proxy{target: target}
	p.start(t)
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) start(t *testing.T) {
	addr := p.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go p.pipe(up, c)
			go p.pipe(c, up)
		}
	}()
}

func (p *proxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// On shutdown the API stops taking callbacks and the worker lets a running
// ERP send finish instead of cutting it off.
func TestGracefulShutdownDrainsTheWorker(t *testing.T) {
	s := newStack(t, "mysql")
	if err := s.sim.SetFaults(erpsim.Faults{LatencyMS: 4000}); err != nil {
		t.Fatal(err)
	}
	r := s.acceptReception()
	testenv.Eventually(t, "ERP send under way", 30*time.Second, func() error {
		if s.sim.Stats().Attempts == 0 {
			var n int64
			s.db.Model(&models.RecordState{}).Where("external_id = ?", r.ext).Count(&n)
			return fmt.Errorf("no attempt yet (%d record rows)", n)
		}
		return nil
	})
	start := time.Now()
	if err := s.shutdown(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if took := time.Since(start); took < time.Second {
		t.Fatalf("shutdown took %s: it did not wait for the running send", took)
	}
	s.oneRecord("reception_order", r.ext)
	if _, err := http.Post(s.apiURL+"/webhooks/autox3", "application/json", strings.NewReader("{}")); err == nil {
		t.Fatal("the API still takes callbacks after shutdown")
	}
}

// On shutdown readiness fails and new callbacks get 503 (so vendors
// redeliver) for the drain window; only then does the listener close.
func TestShutdownDrainWindow(t *testing.T) {
	s := newStack(t, "sqlite", stackOptions{drainWindow: 3 * time.Second})
	done := make(chan error, 1)
	started := time.Now()
	go func() { done <- s.shutdown() }()
	testenv.Eventually(t, "readiness fails and callbacks get 503 while draining", 2*time.Second, func() error {
		if code, body := s.get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "shutting down") {
			return fmt.Errorf("readyz %d %s", code, body)
		}
		code, ans := s.post("/webhooks/autox3", newReception().body(time.Now().UnixMilli()))
		if code != http.StatusServiceUnavailable || ans["status"] != float64(503) {
			return fmt.Errorf("callback while draining: %d %v", code, ans)
		}
		return nil
	})
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if took := time.Since(started); took < 3*time.Second {
		t.Fatalf("the listener closed after %s, before the 3s drain window", took)
	}
	if _, err := http.Get(s.apiURL + "/healthz"); err == nil {
		t.Fatal("the listener is still open after shutdown")
	}
}

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/enums/v1"

	"github.com/erpbridge/erpbridge/erp/erpsim"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/internal/app"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/ops"
	"github.com/erpbridge/erpbridge/vendors/autox3"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong"
)

// opsStack is a stack and the environment `erpbridge ops` runs with
// against it (stack.env), which a test may change.
type opsStack struct {
	*stack
	opsEnv map[string]string
}

func newOpsStack(t *testing.T, storeName string) *opsStack {
	t.Helper()
	s := newStack(t, storeName)
	return &opsStack{stack: s, opsEnv: s.env()}
}

// ops runs `erpbridge ops args…` through app.Run and returns its exit
// status, stdout and stderr.
func (s *opsStack) ops(args ...string) (int, string, string) {
	s.t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	code := app.Run(ctx, append([]string{"ops"}, args...), func(k string) string { return s.opsEnv[k] }, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// show runs `erpbridge ops show args… --json` and decodes its report.
func (s *opsStack) show(args ...string) ops.Report {
	s.t.Helper()
	code, out, errOut := s.ops(append(append([]string{"show"}, args...), "--json")...)
	if code != 0 {
		s.t.Fatalf("ops show %q: exit %d\n%s%s", args, code, out, errOut)
	}
	var rep ops.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		s.t.Fatalf("ops show %q --json printed no report (%v):\n%s", args, err, out)
	}
	return rep
}

// mustContain fails unless text holds every one of want.
func mustContain(t *testing.T, what, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

// parkAutoX3 posts a reception order the ERP refuses, with reason, and
// waits until its record is parked; the ERP goes on refusing the orders
// already in *reject, to which the new one is added. It returns the msgId
// and the record.
func (s *opsStack) parkAutoX3(reject *[]string, reason string) (string, ops.RecordKey) {
	s.t.Helper()
	r := newReception()
	*reject = append(*reject, r.ext)
	if err := s.sim.SetFaults(erpsim.Faults{RejectExternalIDs: *reject, RejectReason: reason}); err != nil {
		s.t.Fatal(err)
	}
	s.mustAccept("/webhooks/autox3", r.body(time.Now().UnixMilli()))
	s.waitParked(r.recordID)
	s.mustResult(r.wfID, string(models.EventRejected))
	return r.msgID, ops.RecordKey{Vendor: "autox3", Kind: autox3.KindReceptionOrder, ExternalID: r.ext}
}

// `erpbridge ops show` finds what the vendor's ids name, in text and as
// JSON: an AutoX3 message and its record, synced; a parked record named
// by --record, with the ERP's refusal, the record workflow's decoded
// status and the commands that answer it; a split message and its parts;
// every push of a Fenbeitong order.
func TestOpsShow(t *testing.T) {
	s := newOpsStack(t, "mysql")
	var reject []string

	// An AutoX3 message, synced.
	rec := s.acceptReception()
	msgID, ext := rec.msgID, rec.ext
	s.mustResult(rec.wfID, string(models.EventSynced))
	name := "autox3:reception_order:" + ext
	// The event's row is settled inside the send; the workflow learns of it
	// when the send's result reaches it.
	testenv.Eventually(t, name+" synced", time.Minute, func() error {
		if st, _ := s.syncStatus(rec.recordID); st != string(models.RecordSynced) {
			return fmt.Errorf("SyncStatus %q", st)
		}
		return nil
	})
	code, text, errOut := s.ops("show", "autox3", msgID)
	if code != 0 {
		t.Fatalf("ops show autox3 %s: exit %d\n%s%s", msgID, code, text, errOut)
	}
	mustContain(t, "show of a synced message", text, "autox3 event "+msgID, "autox3:"+msgID+"  synced  "+autox3.MsgTypeReceptionCreate,
		"Record "+name+" (workflow record:"+name+")", "state     synced · version", "revision 1  accepted  HTTP",
		"workflow  running · SyncStatus synced", "nothing to do: the ERP accepted revision 1",
		"erpbridge resend --vendor autox3 --kind reception_order --id "+ext)
	rep := s.show("autox3", msgID)
	if len(rep.Events) != 1 || rep.Events[0].Status != "synced" || rep.Events[0].Kind != "reception_order" || rep.Events[0].ExternalID != ext {
		t.Fatalf("events %+v", rep.Events)
	}
	if len(rep.Records) != 1 {
		t.Fatalf("records %+v", rep.Records)
	}
	r := rep.Records[0]
	if r.Name != name || r.State == nil || r.State.Revision != 1 || r.State.SyncedRevision != 1 || r.State.Status != "synced" ||
		len(r.Attempts) != 1 || r.Attempts[0].Outcome != "accepted" || r.Attempts[0].HTTPStatus/100 != 2 {
		t.Fatalf("record %+v", r)
	}
	// The status query's answer is encrypted like every payload: decoded with the key.
	if !r.Workflow.Running || r.Workflow.Status == nil || r.Workflow.Status.SyncStatus != "synced" || r.Workflow.Status.Synced != 1 {
		t.Fatalf("workflow %+v", r.Workflow)
	}
	if code, _, errOut := s.ops("show", "autox3", "no-such-msg"); code != 1 || !strings.Contains(errOut, "no autox3 event") {
		t.Errorf("show of an unknown msgId: exit %d, %q", code, errOut)
	}

	// A parked record, named by --record in both forms.
	_, k := s.parkAutoX3(&reject, "unknown customer 13912345678 in master data")
	for _, args := range [][]string{{"--record", k.String()}, {"autox3", "--record", "reception_order:" + k.ExternalID}} {
		rep = s.show(args...)
		if len(rep.Records) != 1 || len(rep.Events) != 1 || rep.Events[0].Status != "rejected" {
			t.Fatalf("show %q: %+v", args, rep)
		}
		r = rep.Records[0]
		if r.State.Status != "rejected" || !strings.Contains(r.State.LastError, "unknown customer") ||
			r.Attempts[len(r.Attempts)-1].Outcome != "rejected" || r.Attempts[len(r.Attempts)-1].HTTPStatus != 422 ||
			!strings.Contains(r.Attempts[len(r.Attempts)-1].Detail, "unknown customer 13912345678") {
			t.Fatalf("parked record %+v", r)
		}
		if w := r.Workflow; !w.Running || w.SyncStatus != "rejected" || w.Status == nil || w.Status.State != "waiting-operator" ||
			!strings.Contains(w.Status.LastError, "unknown customer") {
			t.Fatalf("parked workflow %+v", w)
		}
		if len(rep.Next) != 1 || !slices.Equal(rep.Next[0].Commands, []string{"erpbridge ops retry --record " + k.String(),
			"erpbridge ops skip --record " + k.String() + " --reason '<why>'"}) {
			t.Fatalf("next %+v", rep.Next)
		}
	}
	_, text, _ = s.ops("show", "--record", k.String())
	mustContain(t, "show of a parked record", text, "rejected  HTTP 422", "unknown customer 13912345678 in master data",
		"state waiting-operator", "parked: the ERP refused revision 1", "erpbridge ops retry --record "+k.String())

	// Temporal unreachable: what the database knows is still shown.
	s.opsEnv["TEMPORAL_ADDRESS"] = "127.0.0.1:1"
	code, text, errOut = s.ops("show", "--record", k.String())
	s.opsEnv["TEMPORAL_ADDRESS"] = s.cfg.Temporal.Address
	if code != 0 {
		t.Fatalf("show with Temporal unreachable: exit %d\n%s%s", code, text, errOut)
	}
	mustContain(t, "show with Temporal unreachable", text, "state     rejected", "workflow  unknown: ",
		"parked (Temporal could not be asked: this is what the database says): once Temporal answers, retry or skip it.",
		"erpbridge ops retry --record "+k.String())

	// A split message: one plan synced, one refused.
	io := uniqueID()
	reject = append(reject, fmt.Sprintf("%d-2", io))
	if err := s.sim.SetFaults(erpsim.Faults{RejectExternalIDs: reject}); err != nil {
		t.Fatal(err)
	}
	splitID := uuid.NewString()
	s.mustAccept("/webhooks/autox3", autox3.SampleMaintenanceV2Body(splitID, io, time.Now().UnixMilli(), appSecret))
	s.mustResult(flow.EventWorkflowID("autox3", splitID), string(models.EventSplit))
	s.waitParked(flow.RecordWorkflowID("autox3", autox3.KindMaintenancePlanItem, fmt.Sprintf("%d-2", io)))
	testenv.Eventually(t, "the split message's parts settled", time.Minute, func() error {
		rep = s.show("autox3", splitID)
		if rep.Split == nil || rep.Split.Parts != 2 || rep.Split.ByStatus["synced"] != 1 || rep.Split.ByStatus["rejected"] != 1 {
			return fmt.Errorf("split %+v", rep.Split)
		}
		return nil
	})
	if rep.Events[0].Status != "split" || len(rep.Split.Shown) != 2 || rep.Split.Shown[0].Status != "rejected" ||
		rep.Split.Shown[0].EventKey != splitID+"#plan:"+fmt.Sprintf("%d-2", io) {
		t.Fatalf("split message shown %+v", rep)
	}
	// A part names the workflow that persisted it, the message's: a part has no event workflow of its own.
	if got, want := rep.Split.Shown[0].WorkflowID, flow.EventWorkflowID("autox3", splitID); got != want {
		t.Errorf("a part is shown with workflow %q, want the message's %q", got, want)
	}
	var plans []string
	for _, r := range rep.Records {
		plans = append(plans, r.Name+"="+r.State.Status)
	}
	if want := []string{fmt.Sprintf("autox3:maintenance_plan_item:%d-2=rejected", io), fmt.Sprintf("autox3:maintenance_plan_item:%d-1=synced", io)}; !slices.Equal(plans, want) {
		t.Fatalf("split records %v, want %v", plans, want)
	}
	_, text, _ = s.ops("show", "autox3", splitID)
	mustContain(t, "show of a split message", text, "Split into 2 parts: 1 rejected 1 synced", "autox3:"+splitID+"#plan:")

	// A Fenbeitong order, pushed three times.
	order := "fbt" + testkit.RandomHex(8)
	at := time.Now().Add(-time.Hour)
	var keys []string
	for i, status := range []int{300, 400, 700} {
		body := fbtBody(order, status, at.Add(time.Duration(i)*time.Minute))
		s.mustAccept(fbtPath(), body)
		p, err := fenbeitong.ParsePush(body)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, p.EventKey())
		s.mustResult(flow.EventWorkflowID("fenbeitong", p.EventKey()), string(flow.EventHandedOver))
	}
	testenv.Eventually(t, "the order's newest push synced", time.Minute, func() error {
		rep = s.show("fenbeitong", "--order", order)
		if len(rep.Records) != 1 || rep.Records[0].State == nil || rep.Records[0].State.Status != "synced" || rep.Records[0].State.Revision < 1 {
			return fmt.Errorf("records %+v", rep.Records)
		}
		return nil
	})
	var got []string
	for _, ev := range rep.Events {
		got = append(got, ev.EventKey)
		if ev.Status != "synced" && ev.Status != "superseded" {
			t.Errorf("push %s is %s", ev.EventKey, ev.Status)
		}
	}
	slices.Sort(got)
	slices.Sort(keys)
	if !slices.Equal(got, keys) || rep.EventsTotal != 3 || rep.Records[0].Kind != "car_order" || rep.Records[0].ExternalID != order {
		t.Fatalf("order %s: events %v (total %d), want %v; records %+v", order, got, rep.EventsTotal, keys, rep.Records)
	}
	_, text, _ = s.ops("show", "fenbeitong", "--order", order)
	mustContain(t, "show of a Fenbeitong order", text, "fenbeitong order "+order, "Record fenbeitong:car_order:"+order)
	for _, key := range keys {
		mustContain(t, "show of a Fenbeitong order", text, "fenbeitong:"+key)
	}
}

// `erpbridge ops retry` and `skip` answer through the record workflow:
// a retry while the ERP still refuses parks again (exit 4, with the new
// reason); after the ERP is fixed it syncs (exit 0); while the ERP is
// down it is still being sent when the wait ends (exit 5); retrying or skipping
// a record that is not parked is refused with the record's reason (exit
// 3); a skip is recorded; a parked record whose workflow is gone is
// started again by retry, and skip says to do that first.
func TestOpsRetryAndSkip(t *testing.T) {
	s := newOpsStack(t, "sqlite")
	var reject []string
	msgID, k := s.parkAutoX3(&reject, "unknown customer")

	// The ERP still refuses: the retry parks the record again.
	if err := s.sim.SetFaults(erpsim.Faults{RejectExternalIDs: reject, RejectReason: "customer blocked"}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := s.ops("retry", "autox3", msgID, "--wait", "1m")
	if code != ops.ExitParked {
		t.Fatalf("retry into a refusing ERP: exit %d\n%s%s", code, out, errOut)
	}
	mustContain(t, "retry parked again", out, "retry "+k.String()+": retrying revision 1\nwaiting up to 1m0s for the ERP…\n",
		"parked again: the ERP refused revision 1 of "+k.String()+": HTTP 422", "customer blocked")
	if strings.Contains(errOut, "customer blocked") {
		t.Errorf("stderr holds the ERP's answer: %q", errOut)
	}
	s.waitParked(k.WorkflowID())

	// Fixed: the retry syncs.
	if err := s.sim.SetFaults(erpsim.Faults{}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = s.ops("retry", "--record", k.String(), "--reason", "customer unblocked")
	if code != 0 {
		t.Fatalf("retry after the fix: exit %d\n%s%s", code, out, errOut)
	}
	mustContain(t, "retry synced", out, "retrying revision 1", "synced: the ERP has revision 1 of "+k.String())
	if recs := s.records(k.Kind, k.ExternalID); len(recs) != 1 {
		t.Fatalf("the ERP holds %d records, want 1", len(recs))
	}
	s.mustResult(flow.EventWorkflowID("autox3", msgID), string(models.EventSynced))

	// Nothing is parked now: both refused, saying why.
	testenv.Eventually(t, k.String()+" synced", time.Minute, func() error {
		if st, _ := s.syncStatus(k.WorkflowID()); st != string(models.RecordSynced) {
			return fmt.Errorf("SyncStatus %q", st)
		}
		return nil
	})
	code, out, errOut = s.ops("retry", "--record", k.String())
	if code != ops.ExitRefused || !strings.Contains(out, "refused: nothing to retry: record is synced") || !strings.Contains(errOut, "nothing to retry: record is synced") {
		t.Fatalf("retry of a synced record: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = s.ops("skip", "--record", k.String(), "--reason", "too late", "--json")
	var doc struct {
		Outcomes []ops.Outcome
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != ops.ExitRefused || len(doc.Outcomes) != 1 ||
		doc.Outcomes[0].Result != ops.ResultRefused || doc.Outcomes[0].Answer != "nothing to skip: record is synced" {
		t.Fatalf("skip of a synced record: exit %d, %v\n%s", code, err, out)
	}
	if code, _, errOut := s.ops("skip", "--record", k.String()); code != 2 || !strings.Contains(errOut, "--reason") {
		t.Fatalf("skip without a reason: exit %d, %q", code, errOut)
	}

	// A skip is answered and recorded.
	skipMsg, skipped := s.parkAutoX3(&reject, "test vehicle refused")
	code, out, errOut = s.ops("skip", "autox3", skipMsg, "--reason", "test vehicle")
	if code != 0 || !strings.Contains(out, "skip "+skipped.String()+": skipped revision 1") {
		t.Fatalf("skip: exit %d\n%s%s", code, out, errOut)
	}
	s.mustResult(flow.EventWorkflowID("autox3", skipMsg), string(models.EventSkipped))
	rep := s.show("--record", skipped.String())
	if st := rep.Records[0].State; st.Status != "skipped" || st.SyncedRevision != 1 || rep.Events[0].Detail != "test vehicle" {
		t.Fatalf("after the skip: %+v, events %+v", st, rep.Events)
	}
	if len(s.records(skipped.Kind, skipped.ExternalID)) != 0 {
		t.Fatal("a skipped record reached the ERP")
	}

	// The ERP down when the retry comes: still being sent when the wait
	// ends (exit 5, with the last failure); it syncs once the ERP is back.
	downMsg, down := s.parkAutoX3(&reject, "unknown customer")
	if err := s.sim.SetFaults(erpsim.Faults{FailureRate: 1}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = s.ops("retry", "--record", down.String(), "--wait", "3s")
	if code != ops.ExitSending || !strings.Contains(out, "still sending revision 1 of "+down.String()+" when the wait ran out; the last failure: ") ||
		!strings.Contains(out, "HTTP 503") {
		t.Fatalf("retry into an ERP that is down: exit %d\n%s%s", code, out, errOut)
	}
	reject = slices.DeleteFunc(reject, func(id string) bool { return id == down.ExternalID })
	if err := s.sim.SetFaults(erpsim.Faults{RejectExternalIDs: reject}); err != nil {
		t.Fatal(err)
	}
	s.mustResult(flow.EventWorkflowID("autox3", downMsg), string(models.EventSynced))

	// A parked record whose workflow is gone: skip says to retry first;
	// retry starts it as the service does, and it syncs.
	goneMsg, gone := s.parkAutoX3(&reject, "unknown customer")
	if err := s.c.TerminateWorkflow(context.Background(), gone.WorkflowID(), "", "operator mistake"); err != nil {
		t.Fatal(err)
	}
	code, out, _ = s.ops("skip", "--record", gone.String(), "--reason", "x")
	if code != ops.ExitRefused || !strings.Contains(out, "its record workflow is not running") || !strings.Contains(out, "erpbridge ops retry --record "+gone.String()) {
		t.Fatalf("skip with the workflow gone: exit %d\n%s", code, out)
	}
	rep = s.show("--record", gone.String())
	if w := rep.Records[0].Workflow; w.Running || w.Execution != "Terminated" || !slices.Equal(rep.Next[0].Commands, []string{"erpbridge ops retry --record " + gone.String()}) {
		t.Fatalf("show with the workflow gone: %+v, next %+v", w, rep.Next)
	}
	if err := s.sim.SetFaults(erpsim.Faults{}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = s.ops("retry", "--record", gone.String())
	if code != 0 || !strings.Contains(out, "was not running: started it, retrying revision 1") || !strings.Contains(out, "synced: the ERP has revision 1 of "+gone.String()) {
		t.Fatalf("retry with the workflow gone: exit %d\n%s%s", code, out, errOut)
	}
	s.mustResult(flow.EventWorkflowID("autox3", goneMsg), string(models.EventSynced))
}

// `erpbridge ops retry --parked` counts first, then retries the parked
// records its filters choose at the pace asked (N records at R a second
// take at least (N-1)/R seconds, by Temporal's own clock), and sums up;
// --dry-run lists them and sends no update: they stay parked.
func TestOpsBulkRetryParked(t *testing.T) {
	s := newOpsStack(t, "mysql")
	const n, rate = 6, 4.0
	var reject []string
	var parked []ops.RecordKey
	for range n {
		_, k := s.parkAutoX3(&reject, "unknown customer")
		parked = append(parked, k)
	}
	// A parked record of another vendor, which --vendor autox3 leaves alone.
	order := "fbt" + testkit.RandomHex(8)
	reject = append(reject, order)
	if err := s.sim.SetFaults(erpsim.Faults{RejectExternalIDs: reject}); err != nil {
		t.Fatal(err)
	}
	body := fbtBody(order, 700, time.Now())
	s.mustAccept(fbtPath(), body)
	other := ops.RecordKey{Vendor: "fenbeitong", Kind: "car_order", ExternalID: order}
	s.waitParked(other.WorkflowID())
	s.mustResult(fbtWorkflowID(t, body), string(models.EventRejected))
	updates := func(k ops.RecordKey) []time.Time {
		var at []time.Time
		it := s.c.GetWorkflowHistory(context.Background(), k.WorkflowID(), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			if ev.GetEventType() == enums.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED {
				at = append(at, ev.GetEventTime().AsTime())
			}
		}
		return at
	}

	// A dry run lists them and sends nothing.
	if err := s.sim.SetFaults(erpsim.Faults{RejectExternalIDs: []string{order}}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := s.ops("retry", "--parked", "--vendor", "autox3", "--dry-run")
	if code != 0 {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[0] != fmt.Sprintf("%d parked records (vendor autox3)", n) || len(lines) != n+2 ||
		lines[len(lines)-1] != fmt.Sprintf("dry run: %d parked records would be retried; nothing was sent", n) {
		t.Fatalf("dry run printed:\n%s", out)
	}
	for _, k := range parked {
		mustContain(t, "dry run", out, "would-retry  "+k.String()+"\trevision 1, parked since ")
		if u := updates(k); len(u) != 0 {
			t.Errorf("the dry run sent %d updates to %s", len(u), k)
		}
		if st, running := s.syncStatus(k.WorkflowID()); st != string(models.RecordRejected) || !running {
			t.Errorf("%s after the dry run: %s, running %v", k, st, running)
		}
	}
	if len(s.records("reception_order", "")) != 0 {
		t.Fatal("the dry run sent a record to the ERP")
	}

	// The real run, paced.
	started := time.Now()
	code, out, errOut = s.ops("retry", "--parked", "--vendor", "autox3", "--rate", strconv.FormatFloat(rate, 'f', -1, 64), "--reason", "master data fixed")
	took := time.Since(started)
	if code != 0 {
		t.Fatalf("bulk retry: exit %d\n%s%s", code, out, errOut)
	}
	lines = strings.Split(strings.TrimSpace(out), "\n")
	if lines[0] != fmt.Sprintf("%d parked records (vendor autox3)", n) ||
		lines[len(lines)-1] != fmt.Sprintf("%d parked: %d retried (%d synced, 0 parked again, 0 still sending), 0 refused, 0 failed", n, n, n) {
		t.Fatalf("bulk retry printed:\n%s", out)
	}
	minimum := time.Duration(float64(n-1) / rate * float64(time.Second))
	if took < minimum {
		t.Errorf("%d records at %v a second took %s, want at least %s", n, rate, took, minimum)
	}
	var accepted []time.Time
	for _, k := range parked {
		u := updates(k)
		if len(u) != 1 {
			t.Fatalf("%s took %d retry updates, want 1", k, len(u))
		}
		accepted = append(accepted, u[0])
		if recs := s.records(k.Kind, k.ExternalID); len(recs) != 1 {
			t.Errorf("the ERP holds %s %d times, want once", k, len(recs))
		}
	}
	slices.SortFunc(accepted, func(a, b time.Time) int { return a.Compare(b) })
	// Temporal's own times of acceptance (when a worker's workflow task took
	// each update), so allow the jitter of those tasks: unpaced, all six
	// would be accepted within a few tens of milliseconds.
	if spread := accepted[n-1].Sub(accepted[0]); spread < minimum-250*time.Millisecond {
		t.Errorf("Temporal accepted the %d retries within %s, want them paced over at least %s", n, spread, minimum)
	}
	if st, running := s.syncStatus(other.WorkflowID()); st != string(models.RecordRejected) || !running || len(updates(other)) != 0 {
		t.Errorf("the Fenbeitong record outside the filter: %s, running %v", st, running)
	}
	// Nothing is parked for autox3 any more.
	code, out, _ = s.ops("retry", "--parked", "--vendor", "autox3")
	if code != 0 || !strings.HasPrefix(out, "0 parked records (vendor autox3)\n") {
		t.Fatalf("bulk retry with nothing parked: exit %d\n%s", code, out)
	}
}

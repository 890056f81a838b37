package integration

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	commonpb "go.temporal.io/api/common/v1"

	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/internal/app"
	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/vendors/autox3"
)

// This file holds what the connector tests (kingdee_test.go,
// tryton_test.go) share: workers started and stopped by the test, the
// callbacks they post, and what they check of the database, the logs and
// the histories.

// startWorker starts a worker-only erpbridge on the stack's database,
// Temporal and task queue, configured as the stack (change, when not nil,
// alters its copy: a short stop bound, say). stop ends it as SIGTERM does
// and waits for it; with a stop bound shorter than a send, the send is cut
// off as a crash would.
func (s *stack) startWorker(change func(*config.Config)) (stop func()) {
	s.t.Helper()
	cfg := s.cfg
	if change != nil {
		change(&cfg)
	}
	_, stopBridge := startBridge(s.t, app.BridgeDeps{Config: cfg, Logger: s.log, DB: s.db, Temporal: s.c}, false, true, time.Minute)
	var once sync.Once
	stop = func() {
		once.Do(func() {
			if err := stopBridge(); err != nil {
				s.t.Errorf("worker stopped with %v", err)
			}
		})
	}
	s.t.Cleanup(stop)
	return stop
}

// postTwice posts a callback twice at once, as a vendor that redelivers
// before its first delivery was answered, and requires both accepted.
func (s *stack) postTwice(path string, body []byte) {
	s.t.Helper()
	parallel(2, func(int) { s.mustAccept(path, body) })
}

// receptionBody is a signed AutoX3 reception-order callback for rbid, its
// customer's request being remark.
func receptionBody(msgID string, rbid, createTimeMs int64, remark string) []byte {
	content := fmt.Sprintf(`{"carInfo":{"carBrandName":"BMW","carNum":"京A%05d","carOwnerFirstName":"Xiaoming","carOwnerLastName":"Li",`+
		`"carOwnerMobile":"13900000000","carProductionDate":1325347200000,"carStyleName":"530Li","carVin":"LBV5S3100ESJ00001"},`+
		`"preCheckInfo":{"lightInfo":["20_发动机故障"],"odograph":67000.5,"oilGauge":80,"remark":%q},"receiveBaseId":%d,`+
		`"staffInfo":{"mobile":"15010524574","userId":18,"userName":"yang"}}`, rbid%100000, remark, rbid)
	return autox3.BuildBody(msgID, autox3.MsgTypeReceptionCreate, createTimeMs, []byte(`{"staffId":18,"storeId":3}`), []byte(content), false, appSecret)
}

// carBody is a Fenbeitong car-order push with the given status, total
// price and amount of its second price detail (the first is 10).
func carBody(t testing.TB, orderID string, status int, at time.Time, total, detail string) []byte {
	t.Helper()
	b := testkit.Replace(t, fbtBody(orderID, status, at), `"total_price": 14.16`, `"total_price": `+total)
	return testkit.Replace(t, b, `"amount": "14"`, `"amount": "`+detail+`"`)
}

// sent is one record the connector tests posted: its key and the ERP
// document's number.
type sent struct {
	kind, externalID string
	events           []string // its event workflows
}

func (r sent) number() string {
	source := "autox3"
	if r.kind == "car_order" {
		source = "fenbeitong"
	}
	return erp.DocumentNumber(erp.Record{Source: source, Kind: r.kind, ExternalID: r.externalID})
}

func (r sent) vendor() string {
	if r.kind == "car_order" {
		return "fenbeitong"
	}
	return "autox3"
}

func (r sent) recordWorkflow() string { return flow.RecordWorkflowID(r.vendor(), r.kind, r.externalID) }

// postReception posts a new reception order (twice: a redelivery) and returns it.
func (s *stack) postReception(remark string) sent {
	rbid := uniqueID()
	msgID := uuid.NewString()
	s.postTwice("/webhooks/autox3", receptionBody(msgID, rbid, time.Now().UnixMilli(), remark))
	return sent{kind: "reception_order", externalID: strconv.FormatInt(rbid, 10), events: []string{flow.EventWorkflowID("autox3", msgID)}}
}

// updateReception posts a newer state of a reception order.
func (s *stack) updateReception(r *sent, remark string) {
	rbid, _ := strconv.ParseInt(r.externalID, 10, 64)
	msgID := uuid.NewString()
	s.mustAccept("/webhooks/autox3", receptionBody(msgID, rbid, time.Now().UnixMilli(), remark))
	r.events = append(r.events, flow.EventWorkflowID("autox3", msgID))
}

// postCar posts a car order's state (twice: a redelivery) and returns it.
func (s *stack) postCar(orderID string, status int, total, detail string) sent {
	body := carBody(s.t, orderID, status, time.Now(), total, detail)
	s.postTwice(fbtPath(), body)
	return sent{kind: "car_order", externalID: orderID, events: []string{fbtWorkflowID(s.t, body)}}
}

// synced waits until every event of r is settled synced.
func (s *stack) synced(records ...sent) {
	s.t.Helper()
	for _, r := range records {
		for _, ev := range r.events {
			s.mustResult(ev, string(models.EventSynced))
		}
	}
}

// recordRow is r's row in record_states.
func (s *stack) recordRow(r sent) models.RecordState {
	s.t.Helper()
	var st models.RecordState
	if err := s.db.Where("vendor = ? AND kind = ? AND external_id = ?", r.vendor(), r.kind, r.externalID).Take(&st).Error; err != nil {
		s.t.Fatalf("record %s/%s: %v", r.kind, r.externalID, err)
	}
	return st
}

// attempts are r's rows in sync_attempts, oldest first.
func (s *stack) attempts(r sent) []models.SyncAttempt {
	var out []models.SyncAttempt
	s.db.Where("vendor = ? AND kind = ? AND external_id = ?", r.vendor(), r.kind, r.externalID).Order("id").Find(&out)
	return out
}

// outcomes lists the outcomes of attempts.
func outcomes(attempts []models.SyncAttempt) string {
	var b strings.Builder
	for i, a := range attempts {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(string(a.Outcome))
	}
	return b.String()
}

// retry asks r's record workflow to send its parked state again, as an
// operator does once the ERP is fixed.
func (s *stack) retry(r sent) {
	s.t.Helper()
	if err := s.c.SignalWorkflow(context.Background(), r.recordWorkflow(), "", flow.UpdateRetry, flow.OperatorRequest{Reason: "fixed in the ERP"}); err != nil {
		s.t.Fatal(err)
	}
}

// checkNothingLeaks requires that none of secrets is in the stack's logs or
// in the raw history of any workflow on its task queue; mustLog are lines
// the logs must hold, so the logs checked are the ones that matter. A
// failure names a secret by its index in secrets, never by its text.
func (s *stack) checkNothingLeaks(logs *testkit.Buffer, secrets []string, mustLog []string) {
	s.t.Helper()
	text := logs.String()
	for _, want := range mustLog {
		if !strings.Contains(text, want) {
			s.t.Errorf("the logs do not hold %q: the check below may not see what it should", want)
		}
	}
	for i, secret := range secrets {
		if strings.Contains(text, secret) {
			s.t.Errorf("the logs hold secrets[%d]", i)
		}
	}
	runs := s.allRuns()
	if len(runs) == 0 {
		s.t.Fatal("no workflows on the stack's task queue")
	}
	for _, r := range runs {
		raw := s.rawRunHistory(r.GetWorkflowId(), r.GetRunId())
		for i, secret := range secrets {
			if bytes.Contains(raw, []byte(secret)) {
				s.t.Errorf("the raw history of %s (run %s) holds secrets[%d]", r.GetWorkflowId(), r.GetRunId(), i)
			}
		}
	}
}

// allRuns lists every workflow run on the stack's task queue.
func (s *stack) allRuns() []*commonpb.WorkflowExecution {
	s.t.Helper()
	runs, err := s.listRuns(fmt.Sprintf("TaskQueue = %q", s.cfg.Temporal.TaskQueue))
	if err != nil {
		s.t.Fatal(err)
	}
	return runs
}

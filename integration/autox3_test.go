package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/erpbridge/erpbridge/erp/erpsim"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/vendors/autox3"
)

// A signed reception callback over HTTP ends as rows in the database and
// one record at the ERP, on both stores.
func TestAutoX3CallbackLandsInDatabaseAndERP(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, s *stack) {
		rc := newReception()
		msgID, rbid, ext, wfID := rc.msgID, rc.rbid, rc.ext, rc.wfID
		created := time.Now().Add(-time.Minute).UnixMilli()
		s.mustAccept("/webhooks/autox3", rc.body(created))
		s.mustResult(wfID, string(models.EventSynced))

		var ev models.InboundEvent
		if err := s.db.Where("vendor = ? AND event_key = ?", "autox3", msgID).Take(&ev).Error; err != nil {
			t.Fatalf("inbound event row: %v", err)
		}
		if ev.SyncStatus != models.EventSynced || ev.Kind != "reception_order" || ev.ExternalID != ext || !ev.Applied || ev.SyncedAt == nil {
			t.Fatalf("inbound event row = %+v", ev)
		}
		var st models.RecordState
		if err := s.db.Where("vendor = ? AND kind = ? AND external_id = ?", "autox3", "reception_order", ext).Take(&st).Error; err != nil {
			t.Fatalf("record state: %v", err)
		}
		if st.Version != created || st.SyncedRevision != st.Revision || st.SyncStatus != models.RecordSynced {
			t.Fatalf("record state = version %d revision %d synced %d status %s", st.Version, st.Revision, st.SyncedRevision, st.SyncStatus)
		}
		counts := map[string]int64{}
		for _, table := range []string{"autox3_reception_orders", "autox3_warning_lights", "autox3_paint_damages", "autox3_paint_damage_images", "autox3_personal_items"} {
			var n int64
			if err := s.db.Table(table).Where("receive_base_id = ?", rbid).Count(&n).Error; err != nil {
				t.Fatalf("count %s: %v", table, err)
			}
			counts[table] = n
		}
		want := map[string]int64{"autox3_reception_orders": 1, "autox3_warning_lights": 5, "autox3_paint_damages": 1, "autox3_paint_damage_images": 1, "autox3_personal_items": 3}
		for k, v := range want {
			if counts[k] != v {
				t.Errorf("%s has %d rows for the order, want %d", k, counts[k], v)
			}
		}

		r := s.oneRecord("reception_order", ext)
		if r.Source != "autox3" || r.Version != created || !r.OccurredAt.Equal(time.UnixMilli(created)) {
			t.Fatalf("ERP record = %+v", r)
		}
		var data struct {
			ReceiveBaseID int64 `json:"receive_base_id"`
			PreCheck      struct {
				WarningLights []struct {
					Code *int   `json:"code"`
					Name string `json:"name"`
				} `json:"warning_lights"`
			} `json:"pre_check"`
		}
		if err := json.Unmarshal(r.Data, &data); err != nil {
			t.Fatal(err)
		}
		if data.ReceiveBaseID != rbid || len(data.PreCheck.WarningLights) != 5 || data.PreCheck.WarningLights[0].Name != "发动机故障" {
			t.Fatalf("ERP data = %s", r.Data)
		}
		if !strings.HasPrefix(r.IdempotencyKey, "autox3:reception_order:"+ext+":v") {
			t.Fatalf("idempotency key %q", r.IdempotencyKey)
		}

		// Operators find it by its business keys: the event, handed over,
		// and its order's record workflow, synced.
		testenv.Eventually(t, "event and record searchable by every attribute", 30*time.Second, func() error {
			q := fmt.Sprintf(`Vendor = "autox3" AND EventType = %q AND OrderID = %q AND SyncStatus = %q AND WorkflowId = %q`,
				"event.autox3.order.receivebase.create", ext, string(flow.EventHandedOver), wfID)
			if n, err := s.count(q); err != nil || n != 1 {
				return fmt.Errorf("event: count %d, err %v", n, err)
			}
			q = fmt.Sprintf(`Vendor = "autox3" AND EventType = "reception_order" AND OrderID = %q AND SyncStatus = %q AND WorkflowId = %q`,
				ext, string(models.RecordSynced), flow.RecordWorkflowID("autox3", "reception_order", ext))
			if n, err := s.count(q); err != nil || n != 1 {
				return fmt.Errorf("record: count %d, err %v", n, err)
			}
			return nil
		})
	})
}

// All four documented message types and an unknown one are stored and synced.
func TestAutoX3EveryMessageType(t *testing.T) {
	t.Parallel()
	s := newStack(t, "mysql")
	rbid := uniqueID()
	now := time.Now().UnixMilli()
	type sent struct{ msgID, kind, ext string }
	var all []sent
	post := func(body []byte, msgID, kind, ext string) {
		s.mustAccept("/webhooks/autox3", body)
		all = append(all, sent{msgID, kind, ext})
	}
	ext := strconv.FormatInt(rbid, 10)
	id1, id2, id3, id4, id5 := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	post(autox3.SampleReceptionBody(id1, rbid, now, appSecret), id1, "reception_order", ext)
	post(autox3.SampleReportBody(id2, rbid, now, appSecret), id2, "inspection_report", ext)
	// Maintenance messages are split into one event per plan (and v1's job).
	io := strconv.FormatInt(rbid*10, 10)
	post(autox3.SampleMaintenanceBody(id3, rbid, now, appSecret), id3, autox3.KindMaintenanceMessage, id3)
	post(autox3.SampleMaintenanceV2Body(id4, rbid+1, now, appSecret), id4, autox3.KindMaintenanceMessage, id4)
	unknown := autox3.BuildBody(id5, "event.autox3.order.something.new", now, json.RawMessage(`{"staffId":1}`), json.RawMessage(`{"anything":[1,2,3]}`), false, appSecret)
	post(unknown, id5, "event", id5)
	for _, m := range all {
		status := string(models.EventSynced)
		if m.kind == autox3.KindMaintenanceMessage {
			status = string(models.EventSplit)
		}
		s.mustResult(flow.EventWorkflowID("autox3", m.msgID), status)
	}
	v2 := strconv.FormatInt(rbid+1, 10)
	parts := []sent{
		{id3 + "#job", autox3.KindMaintenanceJob, io},
		{id4 + "#plan:" + v2 + "-1", autox3.KindMaintenancePlanItem, v2 + "-1"},
		{id4 + "#plan:" + v2 + "-2", autox3.KindMaintenancePlanItem, v2 + "-2"},
	}
	// v1's items have no plan id: their records are addressed within the job.
	var v1Plans []models.InboundEvent
	if err := s.db.Where("parent_key = ? AND kind = ?", id3, autox3.KindMaintenancePlanItem).Find(&v1Plans).Error; err != nil || len(v1Plans) != 2 {
		t.Fatalf("v1 plans stored: %d, %v", len(v1Plans), err)
	}
	for _, p := range v1Plans {
		parts = append(parts, sent{p.EventKey, p.Kind, p.ExternalID})
	}
	// A part has no workflow of its own: the message's workflow persisted it
	// and told its record's workflow, which settles it synced.
	isPart := map[string]bool{}
	for _, p := range parts {
		isPart[p.msgID] = true
	}
	for _, m := range append(all, parts...) {
		if m.kind == autox3.KindMaintenanceMessage {
			continue
		}
		if isPart[m.msgID] {
			if s.exists(flow.EventWorkflowID("autox3", m.msgID)) {
				t.Errorf("part %s has a workflow of its own", m.msgID)
			}
		} else {
			s.mustResult(flow.EventWorkflowID("autox3", m.msgID), string(models.EventSynced))
		}
		var ev models.InboundEvent
		testenv.Eventually(t, "event "+m.kind+" synced", 2*time.Minute, func() error {
			if err := s.db.Where("event_key = ?", m.msgID).Take(&ev).Error; err != nil {
				return fmt.Errorf("event %s: %v", m.kind, err)
			}
			if ev.SyncStatus != models.EventSynced {
				return fmt.Errorf("event %s is %s", m.kind, ev.SyncStatus)
			}
			return nil
		})
		if ev.Kind != m.kind || (m.ext != "" && ev.ExternalID != m.ext) {
			t.Fatalf("event %s stored as kind %s external id %s", m.msgID, ev.Kind, ev.ExternalID)
		}
		if recs := s.records(ev.Kind, ev.ExternalID); len(recs) != 1 {
			t.Fatalf("ERP has %d %s records for %s, want 1", len(recs), ev.Kind, ev.ExternalID)
		}
	}
	var g erpsim.Entry
	for _, e := range s.records("event", id5) {
		g = e
	}
	if !strings.Contains(string(g.Data), "anything") {
		t.Fatalf("generic event data lost the content: %s", g.Data)
	}
}

// Five concurrent deliveries of one msgId, and a redelivery after it closed:
// one workflow, one set of rows, one ERP record, every delivery answered 0.
func TestAutoX3ConcurrentRedeliveries(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *stack) {
		r := newReception()
		msgID, rbid, wfID := r.msgID, r.rbid, r.wfID
		body := r.body(time.Now().UnixMilli())
		parallel(5, func(int) { s.mustAccept("/webhooks/autox3", body) })
		s.mustResult(wfID, string(models.EventSynced))
		s.mustAccept("/webhooks/autox3", body) // after the run closed

		testenv.Eventually(t, "one workflow for the msgId", 30*time.Second, func() error {
			n, err := s.count(fmt.Sprintf("WorkflowId = %q", wfID))
			if err != nil || n != 1 {
				return fmt.Errorf("%d workflows, err %v", n, err)
			}
			return nil
		})
		var events, orders int64
		s.db.Model(&models.InboundEvent{}).Where("event_key = ?", msgID).Count(&events)
		s.db.Table("autox3_reception_orders").Where("receive_base_id = ?", rbid).Count(&orders)
		if events != 1 || orders != 1 {
			t.Fatalf("%d event rows and %d order rows, want 1 and 1", events, orders)
		}
		s.oneRecord("reception_order", r.ext)
		_, metricsText := s.get("/metrics")
		if !strings.Contains(metricsText, `erpbridge_callback_duplicates_total{vendor="autox3"} 5`) {
			t.Fatalf("duplicates metric does not count 5 redeliveries")
		}
	})
}

// A forged signature is refused with 401 and starts nothing.
func TestAutoX3ForgedSignatureRefused(t *testing.T) {
	t.Parallel()
	s := newStack(t, "mysql")
	msgID := uuid.NewString()
	body := autox3.SampleReceptionBody(msgID, uniqueID(), time.Now().UnixMilli(), "not-the-secret")
	code, ans := s.post("/webhooks/autox3", body)
	if code != http.StatusUnauthorized || ans["status"] == float64(0) || !strings.Contains(ans["errorInfo"].(string), "msgSignature") {
		t.Fatalf("forged callback answered %d %v", code, ans)
	}
	tampered := strings.Replace(string(autox3.SampleReceptionBody(msgID, 1, time.Now().UnixMilli(), appSecret)), `"oilGauge":100`, `"oilGauge":10`, 1)
	if code, ans := s.post("/webhooks/autox3", []byte(tampered)); code != http.StatusUnauthorized {
		t.Fatalf("tampered callback answered %d %v", code, ans)
	}
	if s.exists(flow.EventWorkflowID("autox3", msgID)) {
		t.Fatal("a workflow was started for a forged callback")
	}
	var n int64
	s.db.Model(&models.InboundEvent{}).Where("event_key = ?", msgID).Count(&n)
	if n != 0 {
		t.Fatal("a forged callback was stored")
	}
}

// With the ERP failing half its calls, every record is still accepted exactly once.
func TestAutoX3FlakyERPExactlyOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *stack) {
		if err := s.sim.SetFaults(erpsim.Faults{FailureRate: 0.5}); err != nil {
			t.Fatal(err)
		}
		const n = 16 // with half the calls failing, P(no failure at all) = 2^-16
		ids := make([]string, n)
		rbids := make([]int64, n)
		for i := range n {
			ids[i], rbids[i] = uuid.NewString(), uniqueID()+int64(i)*7
			s.mustAccept("/webhooks/autox3", autox3.SampleReceptionBody(ids[i], rbids[i], time.Now().UnixMilli(), appSecret))
		}
		for i := range n {
			s.mustResult(flow.EventWorkflowID("autox3", ids[i]), string(models.EventSynced))
			s.oneRecord("reception_order", strconv.FormatInt(rbids[i], 10))
		}
		st := s.sim.Stats()
		if st.FailedInjected == 0 || st.Accepted != n {
			t.Fatalf("simulator stats %+v: want failures injected and exactly %d accepted", st, n)
		}
		var failed int64
		s.db.Model(&models.SyncAttempt{}).Where("outcome = ?", "retry").Count(&failed)
		if failed == 0 {
			t.Fatal("no retried attempt was recorded")
		}
	})
}

// Invalid content from an authentic sender fails visibly with a typed error and is kept raw.
func TestAutoX3InvalidContentFailsVisibly(t *testing.T) {
	s := newStack(t, "mysql")
	msgID := uuid.NewString()
	body := autox3.BuildBody(msgID, "event.autox3.order.receivebase.create", time.Now().UnixMilli(),
		json.RawMessage(`{"staffId":1}`), json.RawMessage(`{"carInfo":{"carBrandName":"BMW"},"preCheckInfo":{"oilGauge":100}}`), false, appSecret)
	s.mustAccept("/webhooks/autox3", body)
	_, err := s.result(flow.EventWorkflowID("autox3", msgID))
	if err == nil || !strings.Contains(err.Error(), flow.ErrInvalidContent) || !strings.Contains(err.Error(), "receiveBaseId") {
		t.Fatalf("workflow error = %v, want an InvalidContent failure naming receiveBaseId", err)
	}
	var ev models.InboundEvent
	if err := s.db.Where("event_key = ?", msgID).Take(&ev).Error; err != nil {
		t.Fatalf("invalid event not kept: %v", err)
	}
	if ev.SyncStatus != models.EventInvalid || string(ev.Body) != string(body) || !strings.Contains(ev.SyncDetail, "receiveBaseId") {
		t.Fatalf("invalid event row: status %s detail %q", ev.SyncStatus, ev.SyncDetail)
	}
}

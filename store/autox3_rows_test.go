package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/store"
	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/vendors/autox3"
)

// save writes an event's tables the way Persist does, in one transaction.
func save(t *testing.T, db *gorm.DB, ev *vendors.Event) {
	t.Helper()
	if ev.Tables == nil {
		t.Fatalf("event %s has no rows", ev.EventType)
	}
	if err := db.Transaction(func(tx *gorm.DB) error { _, err := store.ReplaceTables(tx, ev.Tables); return err }); err != nil {
		t.Fatalf("replace tables: %v", err)
	}
}

// decodeOK decodes an AutoX3 callback that must be valid.
func decodeOK(t *testing.T, b []byte) *vendors.Event {
	t.Helper()
	ev, err := autox3.Decode(b)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return ev
}

func count(t *testing.T, db *gorm.DB, model any, where string, args ...any) int64 {
	t.Helper()
	var n int64
	q := db.Model(model)
	if where != "" {
		q = q.Where(where, args...)
	}
	if err := q.Count(&n).Error; err != nil {
		t.Fatalf("count: %v", err)
	}
	return n
}

// receptionSnapshot is every row of one reception order, for comparing states.
type receptionSnapshot struct {
	Order    models.AutoX3ReceptionOrder
	Lights   []models.AutoX3WarningLight
	Damages  []models.AutoX3PaintDamage
	Images   []models.AutoX3PaintDamageImage
	Personal []models.AutoX3PersonalItem
}

func snapshot(t *testing.T, db *gorm.DB, id int64) receptionSnapshot {
	t.Helper()
	var s receptionSnapshot
	if err := db.First(&s.Order, "receive_base_id = ?", id).Error; err != nil {
		t.Fatalf("load order %d: %v", id, err)
	}
	for _, q := range []struct {
		dest  any
		order string
	}{
		{&s.Lights, "seq"}, {&s.Damages, "seq"}, {&s.Images, "damage_seq, seq"}, {&s.Personal, "seq"},
	} {
		if err := db.Where("receive_base_id = ?", id).Order(q.order).Find(q.dest).Error; err != nil {
			t.Fatalf("load children of %d: %v", id, err)
		}
	}
	return s
}

func TestAutoX3SaveReceptionOrder(t *testing.T) {
	t.Parallel()
	testenv.EachStore(t, func(t *testing.T, db *gorm.DB) {
		ev := decodeOK(t, readSeed(t))
		save(t, db, ev)

		s := snapshot(t, db, 6482)
		o := s.Order
		if o.MsgID != "e6ddea1d-0b8b-24e7-cb26-91c3aa0969db" || o.CarBrand != "BMW" || o.CarPlate != "JING" || o.CarVIN != "123456" ||
			o.OwnerFirstName != "xiaohaha" || o.OwnerGender != "FEMALE" || o.Remark != "老客户了" ||
			o.Version != 1616502610117 || !o.CreatedTime.Equal(time.UnixMilli(1616502610117)) {
			t.Fatalf("order row = %+v", o)
		}
		if o.CarProductionDate.String() != "2012-01-01" {
			t.Fatalf("production date = %v", o.CarProductionDate)
		}
		if o.StaffName != "A梦 哆啦" || o.StaffMobile != "17666166190" || o.StaffAreaCode != "+44" ||
			o.OperatorUserName != "yang xing xingxing2" || o.OperatorMobile != "15010524574" || o.OperatorAreaCode != "+44" {
			t.Fatalf("staff and operator = %+v", o)
		}
		if o.Odometer == nil || !o.Odometer.Equal(decimal.NewFromInt(67000)) || o.OilGauge == nil || !o.OilGauge.Equal(decimal.NewFromInt(100)) {
			t.Fatalf("odometer %v oil %v", o.Odometer, o.OilGauge)
		}
		if *o.OperatorStoreID != 3 || *o.OperatorUserID != 18 || *o.OperatorBrandID != 1 ||
			*o.StaffID != 380 || *o.StaffStoreID != 84 || *o.StaffBrandID != 114 {
			t.Fatalf("ids = %+v", o)
		}
		if len(s.Lights) != 5 || *s.Lights[0].Code != 20 || s.Lights[0].Name != "发动机故障" || s.Lights[4].Name != "安全气囊故障" {
			t.Fatalf("lights = %+v", s.Lights)
		}
		if len(s.Damages) != 1 || s.Damages[0].Position != "sys_feature_0013_01" || s.Damages[0].PositionName != "右前叶子板" || s.Damages[0].Description != "凹陷" {
			t.Fatalf("damages = %+v", s.Damages)
		}
		if len(s.Images) != 1 || s.Images[0].URL != "${url}" || s.Images[0].DamageSeq != 0 {
			t.Fatalf("images = %+v", s.Images)
		}
		if len(s.Personal) != 3 || s.Personal[2].Name != "海百合" {
			t.Fatalf("personal items = %+v", s.Personal)
		}

		// Idempotent: the same event again leaves the very same rows.
		save(t, db, ev)
		if again := snapshot(t, db, 6482); !reflect.DeepEqual(again, s) {
			t.Fatalf("second Save changed rows:\n%+v\n%+v", again, s)
		}

		// Another order is not touched by what follows.
		save(t, db, decodeOK(t, autox3.SampleReceptionBody("other", 9, 1700000000000, "k")))

		// A newer state with fewer lights, no damages and other items replaces the children.
		content := `{"receiveBaseId":6482,"carInfo":{"carBrandName":"BMW","carNum":"JING"},` +
			`"preCheckInfo":{"lightInfo":["16_机油不足","无前缀"],"odograph":67010.25,"oilGauge":40,` +
			`"personalItemList":["雨伞"],"remark":""}}`
		newer := autox3.BuildBody("m-newer", autox3.MsgTypeReceptionCreate, 1616502999999, json.RawMessage(`{"staffId":381}`), json.RawMessage(content), false, "k")
		save(t, db, decodeOK(t, newer))
		s = snapshot(t, db, 6482)
		if s.Order.MsgID != "m-newer" || s.Order.Version != 1616502999999 || s.Order.Remark != "" || s.Order.CarVIN != "" ||
			s.Order.CarProductionDate.Valid || s.Order.OperatorUserID != nil || *s.Order.StaffID != 381 || s.Order.StaffStoreID != nil {
			t.Fatalf("order not replaced: %+v", s.Order)
		}
		if !s.Order.Odometer.Equal(decimal.RequireFromString("67010.25")) || !s.Order.OilGauge.Equal(decimal.NewFromInt(40)) {
			t.Fatalf("odometer %v oil %v", s.Order.Odometer, s.Order.OilGauge)
		}
		if len(s.Lights) != 2 || *s.Lights[0].Code != 16 || s.Lights[1].Code != nil || s.Lights[1].Name != "无前缀" {
			t.Fatalf("lights = %+v", s.Lights)
		}
		if len(s.Damages) != 0 || len(s.Images) != 0 || len(s.Personal) != 1 || s.Personal[0].Name != "雨伞" {
			t.Fatalf("children not replaced: %+v", s)
		}
		if n := count(t, db, &models.AutoX3WarningLight{}, "receive_base_id = ?", 6482); n != 2 {
			t.Fatalf("%d lights of 6482", n)
		}
		if n := count(t, db, &models.AutoX3ReceptionOrder{}, ""); n != 2 {
			t.Fatalf("%d orders, want 2", n)
		}
		other := snapshot(t, db, 9)
		if len(other.Lights) != 5 || len(other.Damages) != 1 || len(other.Images) != 1 || len(other.Personal) != 3 {
			t.Fatalf("other order changed: %+v", other)
		}
	})
}

func TestAutoX3SaveInspectionReport(t *testing.T) {
	t.Parallel()
	testenv.EachStore(t, func(t *testing.T, db *gorm.DB) {
		ev := decodeOK(t, autox3.SampleReportBody("r-1", 7001, 1700000000000, "k"))
		save(t, db, ev)
		save(t, db, ev)
		var rows []models.AutoX3InspectionReport
		if err := db.Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 {
			t.Fatalf("%d reports", len(rows))
		}
		r := rows[0]
		if r.ReceiveBaseID != 7001 || r.MsgID != "r-1" || r.CarPlate != "JING" || !r.DetectionPercentage.Equal(decimal.RequireFromString("85.5")) ||
			r.WorkBaseStatus != "FINISH" || r.ServiceBaseName != "常规保养" || r.Version != 1700000000000 {
			t.Fatalf("report row = %+v", r)
		}
		var items []map[string]any
		if err := json.Unmarshal([]byte(r.Items), &items); err != nil || len(items) != 2 || items[1]["checkItemName"] != "前刹车片" {
			t.Fatalf("items = %s (%v)", r.Items, err)
		}

		newer := build(autox3.MsgTypeReport, `{"receiveBaseId":7001,"detectionPercentage":"99.999","reportJson":{"list":[]}}`, false)
		save(t, db, decodeOK(t, newer))
		rows = nil
		if err := db.Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].Items != "[]" || rows[0].CarPlate != "" || rows[0].DetectionPercentage.String() != "99.999" || rows[0].MsgID != "m-1" {
			t.Fatalf("report not replaced: %+v", rows)
		}
	})
}

func loadPlans(t *testing.T, db *gorm.DB) map[string]models.AutoX3MaintenancePlan {
	t.Helper()
	var rows []models.AutoX3MaintenancePlan
	if err := db.Order("id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := map[string]models.AutoX3MaintenancePlan{}
	for _, r := range rows {
		out[r.ID] = r
	}
	return out
}

// persistMessage stores a maintenance message as the edge does, persists it
// (which splits it) and then its parts in batches of two, as its workflow
// does, running the first batch twice, and returns the part keys.
func persistMessage(t *testing.T, s *store.Store, body []byte) []string {
	t.Helper()
	ctx := context.Background()
	ev := decodeOK(t, body)
	in := store.Inbound{Vendor: vendors.AutoX3, EventKey: ev.EventKey, EventType: ev.EventType, Body: body, ReceivedAt: time.Now(),
		WorkflowID: "autox3:" + ev.EventKey}
	if _, err := s.Receive(ctx, in); err != nil {
		t.Fatal(err)
	}
	in.Body = nil // runs carry the claim check only
	res, _, err := s.Persist(ctx, in, autox3.Decode)
	if err != nil {
		t.Fatal(err)
	}
	if res.Applied || res.PartCount != len(ev.Parts) {
		t.Fatalf("message persisted as %+v", res)
	}
	var first []store.PartPersisted
	for from := 0; from < res.PartCount; from += 2 {
		to := min(from+2, res.PartCount)
		got, err := s.PersistParts(ctx, in, ev, from, to)
		if err != nil {
			t.Fatalf("persist parts [%d, %d): %v", from, to, err)
		}
		if from == 0 {
			first = got
		}
	}
	// A retried batch changes nothing and answers the same.
	if again, err := s.PersistParts(ctx, in, ev, 0, min(2, res.PartCount)); err != nil || !reflect.DeepEqual(again, first) {
		t.Fatalf("the first batch again = %+v, %v; want %+v", again, err, first)
	}
	for _, key := range ev.PartKeys() {
		got, ok, err := s.Callback(ctx, vendors.AutoX3, key)
		if err != nil || !ok || string(got) != string(body) {
			t.Fatalf("part %s claim check resolves to %q, %v, %v", key, got, ok, err)
		}
	}
	again, _, err := s.Persist(ctx, in, autox3.Decode)
	if err != nil || again.PartCount != res.PartCount {
		t.Fatalf("persisting the message again = %+v, %v", again, err)
	}
	return ev.PartKeys()
}

func TestAutoX3MaintenancePlansPerPlan(t *testing.T) {
	t.Parallel()
	testenv.EachStore(t, func(t *testing.T, db *gorm.DB) {
		s := store.New(db)

		// v1: the job and one plan per item.
		keys := persistMessage(t, s, autox3.SampleMaintenanceBody("p-1", 7001, 1700000000000, "k"))
		if len(keys) != 3 {
			t.Fatalf("parts = %v", keys)
		}
		plans := loadPlans(t, db)
		var p models.AutoX3MaintenancePlan
		var ids []string
		for id, row := range plans {
			ids = append(ids, id)
			if row.ServiceBaseName == "更换空气滤芯" {
				p = row
			}
		}
		slices.Sort(ids)
		if len(plans) != 2 || p.Source != models.AutoX3PlanV1 || p.RecordID != p.ID || p.InspectionOrderID != "70010" ||
			*p.ReceiveBaseID != 7001 || !p.NextReplaceCycleKm.Equal(decimal.NewFromInt(97000)) ||
			p.Item != `{"currentMiles":67000,"inspectionOrderId":70010,"nextReplaceCycleKm":97000,"perMiles":30000,"reductionType":"MILE","serviceBaseName":"更换空气滤芯"}` {
			t.Fatalf("v1 plans = %+v", plans)
		}
		var job models.AutoX3MaintenanceJob
		if err := db.Take(&job, "id = ?", "70010").Error; err != nil || job.CarPlate != "JING" || *job.ReceiveBaseID != 7001 ||
			len(ids) != 2 || !strings.Contains(job.PlanIDs, ids[0]) || !strings.Contains(job.PlanIDs, ids[1]) || job.Questions != `[{"question":"前刹车片磨损严重","suggestion":"建议更换"}]` {
			t.Fatalf("job = %+v, %v", job, err)
		}

		// v2, out of order: the newer message (plan 1 modified, plan 2
		// deleted) is persisted before the older one that added both and a third.
		newer := `[{"action":"MODIFY","id":"9001-1","inspectionOrderId":9001,"currentMiles":"68000.04","reductionType":"MILE"},` +
			`{"action":"DELETE","id":"9001-2","inspectionOrderId":9001}]`
		persistMessage(t, s, autox3.BuildBody("v-2", autox3.MsgTypeMaintenanceV2, 1700000005000, nil, json.RawMessage(newer), true, "k"))
		older := `[{"action":"ADD","id":"9001-1","inspectionOrderId":9001,"currentMiles":67000,"perMiles":5000},` +
			`{"action":"ADD","id":"9001-2","inspectionOrderId":9001},{"action":"ADD","id":"9001-3","inspectionOrderId":9001,"warningDate":"2026-09-01"}]`
		persistMessage(t, s, autox3.BuildBody("v-1", autox3.MsgTypeMaintenanceV2, 1700000000000, nil, json.RawMessage(older), true, "k"))

		plans = loadPlans(t, db)
		a, b, c := plans["9001-1"], plans["9001-2"], plans["9001-3"]
		if a.Action != autox3.ActionModify || a.MsgID != "v-2" || a.Version != 1700000005000 || a.PerMiles != nil || a.Deleted {
			t.Fatalf("plan 1 = %+v", a)
		}
		if b.Action != autox3.ActionDelete || !b.Deleted || b.MsgID != "v-2" {
			t.Fatalf("plan 2 = %+v", b)
		}
		if c.Action != autox3.ActionAdd || c.MsgID != "v-1" || c.WarningDate.String() != "2026-09-01" {
			t.Fatalf("plan 3 = %+v", c)
		}
		for id, want := range map[string]string{"9001-1": `"action":"MODIFY"`, "9001-2": `"deleted":true`, "9001-3": `"action":"ADD"`} {
			st, err := s.Record(context.Background(), vendors.AutoX3, autox3.KindMaintenancePlanItem, id)
			if err != nil || !strings.Contains(st.Data, want) {
				t.Fatalf("record %s = %s, %v; want %s", id, st.Data, err, want)
			}
		}
		var split []models.InboundEvent
		if err := db.Where("sync_status = ?", string(models.EventSplit)).Order("event_key").Find(&split).Error; err != nil || len(split) != 3 {
			t.Fatalf("split messages = %d, %v", len(split), err)
		}
		var superseded int64
		db.Model(&models.InboundEvent{}).Where("parent_key = ? AND sync_status = ?", "v-1", string(models.EventSuperseded)).Count(&superseded)
		if superseded != 2 {
			t.Fatalf("%d parts of the older message superseded, want 2", superseded)
		}
	})
}

func TestAutoX3GenericEventHasNoRows(t *testing.T) {
	t.Parallel()
	ev := decodeOK(t, build("event.autox3.something.new", `{}`, false))
	if ev.Tables != nil {
		t.Fatal("generic event has a Save")
	}
}

// Saves of different reception orders run side by side without deadlocking
// each other (an empty DELETE's gap lock would).
func TestAutoX3SaveConcurrentNewOrders(t *testing.T) {
	t.Parallel()
	testenv.EachStore(t, func(t *testing.T, db *gorm.DB) {
		// Rows of an older order sit after the gap the new ones go into.
		save(t, db, decodeOK(t, autox3.SampleReceptionBody("seed", 1_000_000, 1700000000000, "k")))
		const n = 12
		events := make([]*vendors.Event, n)
		for i := range events {
			events[i] = decodeOK(t, autox3.SampleReceptionBody(fmt.Sprintf("c-%d", i), int64(100+i), 1700000000000, "k"))
		}
		saveAtOnce(t, db, "concurrent Save", events)
		if got := count(t, db, &models.AutoX3WarningLight{}, ""); got != 5*(n+1) {
			t.Fatalf("%d warning lights, want %d", got, 5*(n+1))
		}

		// Newer states of all of them, side by side, each with one light fewer.
		content := `{"receiveBaseId":%d,"preCheckInfo":{"lightInfo":["1_a","2_b","3_c","4_d"],"personalItemList":["x"]}}`
		for i := range events {
			b := build(autox3.MsgTypeReceptionCreate, fmt.Sprintf(content, 100+i), false)
			events[i] = decodeOK(t, b)
		}
		saveAtOnce(t, db, "concurrent Save of newer states", events)
		if got := count(t, db, &models.AutoX3WarningLight{}, ""); got != 4*n+5 {
			t.Fatalf("%d warning lights, want %d", got, 4*n+5)
		}
	})
}

// saveAtOnce saves the tables of every event in a transaction of its own,
// all released at the same moment, and reports each failure under what.
func saveAtOnce(t *testing.T, db *gorm.DB, what string, events []*vendors.Event) {
	t.Helper()
	start := make(chan struct{})
	errs := make(chan error, len(events))
	for _, ev := range events {
		go func() {
			<-start
			errs <- db.Transaction(func(tx *gorm.DB) error { _, err := store.ReplaceTables(tx, ev.Tables); return err })
		}()
	}
	close(start)
	for range events {
		if err := <-errs; err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
}

// readSeed is the reception order sample of AutoX3's callback page.
func readSeed(t testing.TB) []byte {
	t.Helper()
	return testkit.ReadFile(t, "../vendors/autox3/testdata/receivebase_create.json")
}

// build signs a callback of msgType around content, as AutoX3 would.
func build(msgType, content string, asString bool) []byte {
	return autox3.BuildBody("m-1", msgType, 1700000000000, json.RawMessage(`{"staffId":380,"storeId":84,"brandId":114}`), json.RawMessage(content), asString, "k")
}

// A split message's parts are persisted batch by batch, each part an event
// of its own handled by the message's workflow: applied to its record only
// if newer, its row marked as it came out; a range outside the message's
// parts is refused.
func TestPersistPartsInBatches(t *testing.T) {
	t.Parallel()
	testenv.EachStore(t, func(t *testing.T, db *gorm.DB) {
		s := store.New(db)
		ctx := context.Background()
		// A newer message already changed A2: the older message's A2 is superseded.
		newer := autox3.BuildBody("b-2", autox3.MsgTypeMaintenanceV2, 1700000009000, nil, json.RawMessage(`[{"action":"MODIFY","id":"A2"}]`), true, "k")
		persistMessage(t, s, newer)
		change := `[{"action":"ADD","id":"A1"},{"action":"ADD","id":"A2"},{"action":"ADD","id":"A3"}]`
		body := autox3.BuildBody("b-1", autox3.MsgTypeMaintenanceV2, 1700000000000, nil, json.RawMessage(change), true, "k")
		ev := decodeOK(t, body)
		in := store.Inbound{Vendor: vendors.AutoX3, EventKey: "b-1", EventType: autox3.MsgTypeMaintenanceV2, Body: body,
			ReceivedAt: time.Now(), WorkflowID: "autox3:b-1"}
		if _, err := s.Receive(ctx, in); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Persist(ctx, in, autox3.Decode); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PersistParts(ctx, in, ev, 2, 4); err == nil {
			t.Fatal("a range past the message's parts was taken")
		}
		got, err := s.PersistParts(ctx, in, ev, 0, 3)
		if err != nil {
			t.Fatal(err)
		}
		applied := map[string]bool{}
		for _, p := range got {
			applied[p.ExternalID] = p.Applied
			if p.Kind != autox3.KindMaintenancePlanItem || (p.Applied && p.Revision == 0) {
				t.Errorf("part %+v", p)
			}
		}
		if !applied["A1"] || applied["A2"] || !applied["A3"] {
			t.Fatalf("applied %v, want A1 and A3 (A2 has a newer state)", applied)
		}
		var rows []models.InboundEvent
		db.Where("parent_key = ?", "b-1").Order("event_key").Find(&rows)
		if len(rows) != 3 {
			t.Fatalf("%d part rows, want 3", len(rows))
		}
		for _, r := range rows {
			want := models.EventPending
			if r.ExternalID == "A2" {
				want = models.EventSuperseded
			}
			if r.SyncStatus != want || r.WorkflowID != "autox3:b-1" || r.StartedAt == nil {
				t.Errorf("part %s: status %s, workflow %q, started %v; want %s under the message's workflow", r.EventKey, r.SyncStatus, r.WorkflowID, r.StartedAt, want)
			}
		}
		// Nothing is left for the relay: the parts were never waiting for a workflow of their own.
		if n, _, err := s.Backlog(ctx); err != nil || n != 0 {
			t.Fatalf("backlog %d, %v; want 0", n, err)
		}
	})
}

// Persist says how an event came on every path: from its stored row, the
// first time and when a retried run persists it again, and from the run's
// input when no row was stored (a callback when the input names none).
func TestPersistReportsOrigin(t *testing.T) {
	t.Parallel()
	testenv.EachStore(t, func(t *testing.T, db *gorm.DB) {
		s := store.New(db)
		ctx := context.Background()
		inbound := func(body []byte) store.Inbound {
			ev := decodeOK(t, body)
			return store.Inbound{Vendor: vendors.AutoX3, EventKey: ev.EventKey, EventType: ev.EventType, Body: body,
				ReceivedAt: time.Now(), WorkflowID: "autox3:" + ev.EventKey}
		}

		pulled := inbound(autox3.SampleReceptionBody("origin-1", 8101, 1700000000000, "k"))
		pulled.Origin = models.OriginPull
		if _, err := s.Receive(ctx, pulled); err != nil {
			t.Fatal(err)
		}
		// Runs carry the claim check only: the stored row says how it came.
		run := pulled
		run.Origin, run.Body = "", nil
		for _, attempt := range []string{"first", "again"} {
			res, _, err := s.Persist(ctx, run, autox3.Decode)
			if err != nil || res.Origin != models.OriginPull || !res.Applied {
				t.Fatalf("%s persist of a pulled event = %+v, %v; want it applied, origin %q", attempt, res, err, models.OriginPull)
			}
		}

		carried := inbound(autox3.SampleReceptionBody("origin-2", 8102, 1700000000000, "k"))
		res, _, err := s.Persist(ctx, carried, autox3.Decode)
		if err != nil || res.Origin != models.OriginCallback {
			t.Fatalf("persist of a run carrying its body = %+v, %v; want origin %q", res, err, models.OriginCallback)
		}
	})
}

package autox3

import (
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/vendors"
)

const testStaff = `{"staffId":380,"storeId":84,"brandId":114}`

func build(msgType, content string, asString bool) []byte {
	return BuildBody("m-1", msgType, 1700000000000, json.RawMessage(testStaff), json.RawMessage(content), asString, "k")
}

func decodeOK(t *testing.T, b []byte) *vendors.Event {
	t.Helper()
	ev, err := Decode(b)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if ev.Vendor != vendors.AutoX3 {
		t.Fatalf("vendor = %q", ev.Vendor)
	}
	if _, err := json.Marshal(ev.Data); err != nil {
		t.Fatalf("data does not marshal: %v", err)
	}
	return ev
}

func TestDecodeReceptionSeed(t *testing.T) {
	ev := decodeOK(t, readSeed(t))
	if ev.Kind != KindReceptionOrder || ev.ExternalID != "6482" || ev.EventKey != seedMsgID ||
		ev.EventType != MsgTypeReceptionCreate || ev.Version != 1616502610117 {
		t.Fatalf("event = %+v", ev)
	}
	if want := time.Date(2021, 3, 23, 12, 30, 10, 117e6, time.UTC); !ev.OccurredAt.Equal(want) || ev.OccurredAt.Location() != time.UTC {
		t.Fatalf("occurred at %v, want %v UTC", ev.OccurredAt, want)
	}
	if ev.Tables == nil {
		t.Fatal("no Save")
	}
	o := ev.Data.(ReceptionOrder)
	if o.ReceiveBaseID != 6482 || o.Car.Brand != "BMW" || o.Car.Plate != "JING" || o.Car.VIN != "123456" ||
		o.Car.OwnerFirstName != "xiaohaha" || o.Car.OwnerLastName != "Brown" || o.Car.OwnerGender != "FEMALE" ||
		o.Car.OwnerMobile != "" || o.Car.Style != "5" {
		t.Fatalf("car = %+v", o.Car)
	}
	// 1325347200000 is midnight of 2012-01-01 in China: that day, not 2011-12-31 in UTC.
	if o.Car.ProductionDate.String() != "2012-01-01" {
		t.Fatalf("production date = %v", o.Car.ProductionDate)
	}
	if *o.PreCheck.Odometer != "67000" || *o.PreCheck.OilGauge != "100" || o.PreCheck.Remark != "老客户了" {
		t.Fatalf("pre-check = %+v", o.PreCheck)
	}
	if got := testkit.JSON(t, o.PreCheck.WarningLights); got !=
		`[{"code":20,"name":"发动机故障"},{"code":16,"name":"机油不足"},{"code":1,"name":"门窗未关闭"},{"code":15,"name":"水温异常"},{"code":19,"name":"安全气囊故障"}]` {
		t.Fatalf("warning lights = %s", got)
	}
	if got := testkit.JSON(t, o.PreCheck.PaintDamages); got !=
		`[{"position":"sys_feature_0013_01","position_name":"右前叶子板","describe":"凹陷","images":["${url}"]}]` {
		t.Fatalf("paint damages = %s", got)
	}
	if got := testkit.JSON(t, o.PreCheck.PersonalItems); got != `["面包","饮用水","海百合"]` {
		t.Fatalf("personal items = %s", got)
	}
	if got := testkit.JSON(t, o.Operator); got !=
		`{"store_id":3,"user_id":18,"brand_id":1,"user_name":"yang xing xingxing2","mobile":"15010524574","area_code":"+44"}` {
		t.Fatalf("operator = %s", got)
	}
	if got := testkit.JSON(t, o.Staff); got != `{"staff_id":380,"store_id":84,"brand_id":114,"staff_name":"A梦 哆啦","mobile":"17666166190","area_code":"+44"}` {
		t.Fatalf("staff = %s", got)
	}
	if len(o.Extra) != 0 || len(ev.Warnings) != 0 {
		t.Fatalf("the documented sample left extra %v, warnings %v", o.Extra, ev.Warnings)
	}
	m := testkit.JSONObject(t, ev.Data)
	if m["receive_base_id"] != float64(6482) {
		t.Fatalf("receive_base_id = %v", m["receive_base_id"])
	}
	car := m["car"].(map[string]any)
	if car["production_date"] != "2012-01-01" {
		t.Fatalf("production_date = %v", car["production_date"])
	}
	pre := m["pre_check"].(map[string]any)
	if pre["odometer"] != "67000" || pre["oil_gauge"] != "100" {
		t.Fatalf("pre_check = %v", pre)
	}
	if got := testkit.JSON(t, m["extra"]); got != `{}` {
		t.Fatalf("extra = %s", got)
	}
}

func TestDecodeKeepsNumbersExactly(t *testing.T) {
	content := `{"receiveBaseId":1,"preCheckInfo":{"odograph":12345.67,"oilGauge":"37.25"}}`
	o := decodeOK(t, build(MsgTypeReceptionCreate, content, false)).Data.(ReceptionOrder)
	if *o.PreCheck.Odometer != "12345.67" || *o.PreCheck.OilGauge != "37.25" {
		t.Fatalf("odometer %s oil %s", *o.PreCheck.Odometer, *o.PreCheck.OilGauge)
	}
	r := decodeOK(t, build(MsgTypeReport, `{"receiveBaseId":1,"detectionPercentage":"85.555%"}`, false)).Data.(InspectionReport)
	if *r.DetectionPercentage != "85.555" {
		t.Fatalf("percentage %s", *r.DetectionPercentage)
	}
	p := decodeOK(t, build(MsgTypeMaintenanceV2, `[{"action":"ADD","id":1,"currentMiles":67000.25}]`, true)).Parts[0].Data.(Plan)
	if *p.CurrentMiles != "67000.25" {
		t.Fatalf("miles %s", *p.CurrentMiles)
	}
}

// Values the documents do not foresee are kept as sent and reported as
// warnings that name the field, never refused and never quoted.
func TestDecodeWarnsInsteadOfRefusing(t *testing.T) {
	rc := MsgTypeReceptionCreate
	cases := []struct {
		name, msgType, content string
		asString               bool
		warning                string
	}{
		{"oilGauge 150", rc, `{"receiveBaseId":1,"preCheckInfo":{"oilGauge":150}}`, false, "content.preCheckInfo.oilGauge: is over 100"},
		{"oilGauge negative", rc, `{"receiveBaseId":1,"preCheckInfo":{"oilGauge":"-0.5"}}`, false, "content.preCheckInfo.oilGauge: is negative"},
		{"odograph negative", rc, `{"receiveBaseId":1,"preCheckInfo":{"odograph":-1}}`, false, "content.preCheckInfo.odograph: is negative"},
		{"production date with a time of day", rc, `{"receiveBaseId":1,"carInfo":{"carProductionDate":1325390400000}}`, false,
			"content.carInfo.carProductionDate: is a date with a time of day; the day in UTC+08:00 is kept"},
		{"report percentage 120", MsgTypeReport, `{"receiveBaseId":1,"detectionPercentage":120}`, false, "content.detectionPercentage: is over 100"},
		{"report percentage negative", MsgTypeReport, `{"receiveBaseId":1,"detectionPercentage":"-3%"}`, false, "content.detectionPercentage: is negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := decodeOK(t, build(c.msgType, c.content, c.asString))
			if len(ev.Warnings) != 1 || !strings.HasPrefix(ev.Warnings[0], c.warning) {
				t.Fatalf("warnings %q, want one starting %q", ev.Warnings, c.warning)
			}
		})
	}
	o := decodeOK(t, build(rc, `{"receiveBaseId":1,"preCheckInfo":{"oilGauge":150,"odograph":"-12.50"}}`, false)).Data.(ReceptionOrder)
	if *o.PreCheck.OilGauge != "150" || *o.PreCheck.Odometer != "-12.5" {
		t.Fatalf("kept %s %s", *o.PreCheck.OilGauge, *o.PreCheck.Odometer)
	}
	o = decodeOK(t, build(rc, `{"receiveBaseId":1,"carInfo":{"carProductionDate":1325390400000}}`, false)).Data.(ReceptionOrder)
	if o.Car.ProductionDate.String() != "2012-01-01" {
		t.Fatalf("production date %s", o.Car.ProductionDate)
	}
	// Maintenance distances are kept too: negative, or larger than any column held before.
	ev := decodeOK(t, build(MsgTypeMaintenanceV2, `[{"action":"ADD","id":1,"currentMiles":-1,"nextReplaceCycleKm":"100000000000"}]`, true))
	p := ev.Parts[0].Data.(Plan)
	if *p.CurrentMiles != "-1" || *p.NextReplaceCycleKm != "100000000000" {
		t.Fatalf("miles %s, next cycle %s", *p.CurrentMiles, *p.NextReplaceCycleKm)
	}
	if len(ev.Warnings) != 1 || !strings.HasPrefix(ev.Warnings[0], "content[0].currentMiles: is negative") {
		t.Fatalf("warnings %q", ev.Warnings)
	}
}

// Fields the message carries and the record does not map reach the ERP
// under data.extra, by path, their JSON text as received.
func TestDecodeKeepsUnmappedFields(t *testing.T) {
	staff := `{"staffId":380,"staffName":"A梦 哆啦","mobile":"17666166190","areaCode":"+44","staffRole":"技师"}`
	content := `{"receiveBaseId":1,"receiveBaseSn":"RB-0001","carInfo":{"carNum":"JING","carColor":"白色","carMileage":12.50},` +
		`"preCheckInfo":{"odograph":1,"paintsInfo":[{"position":"p","depth":0.10}]},"staffInfo":{"userId":18,"nickName":"x"}}`
	body := BuildBody("m-7", MsgTypeReceptionCreate, 1700000000000, json.RawMessage(staff), json.RawMessage(content), false, "k")
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		t.Fatal(err)
	}
	top["appId"] = json.RawMessage(`"app-1"`)
	body, _ = json.Marshal(top)
	ev := decodeOK(t, body)
	o := ev.Data.(ReceptionOrder)
	if got := testkit.JSON(t, o.Extra); got != `{"appId":"app-1","content.carInfo.carColor":"白色","content.carInfo.carMileage":12.50,`+
		`"content.preCheckInfo.paintsInfo[0].depth":0.10,"content.receiveBaseSn":"RB-0001","content.staffInfo.nickName":"x","staffInfo.staffRole":"技师"}` {
		t.Fatalf("extra = %s", got)
	}
	if o.Staff.StaffName != "A梦 哆啦" || o.Staff.Mobile != "17666166190" || o.Staff.AreaCode != "+44" {
		t.Fatalf("staff = %+v", o.Staff)
	}

	report := `{"receiveBaseId":2,"reportUrl":"https://r.example.com/2","reportJson":{"list":[{"a":1,"new":2}],"score":9.50}}`
	r := decodeOK(t, build(MsgTypeReport, report, false)).Data.(InspectionReport)
	if got := testkit.JSON(t, r.Extra); got != `{"content.reportJson.score":9.50,"content.reportUrl":"https://r.example.com/2"}` {
		t.Fatalf("report extra = %s", got)
	}
	if r.Staff.StaffID == nil || *r.Staff.StaffID != 380 {
		t.Fatalf("report staff = %+v", r.Staff)
	}

	// An unknown type keeps content and staffInfo whole; only the envelope's other fields are extra.
	top["msgType"] = json.RawMessage(`"event.autox3.order.unknown"`)
	body, _ = json.Marshal(top)
	g := decodeOK(t, body).Data.(GenericEvent)
	if got := testkit.JSON(t, g.Extra); got != `{"appId":"app-1"}` {
		t.Fatalf("generic extra = %s", got)
	}
}

func TestDecodeReceptionLenientInput(t *testing.T) {
	content := `{"receiveBaseId":"6483","carInfo":{"carNum":12345,"carProductionDate":"1325347200000"},` +
		`"preCheckInfo":{"odograph":"67000.46","oilGauge":"37.5","lightInfo":["仪表盘异常","7_",null,"x_y","1234567890_长"],` +
		`"paintsInfo":[null,{"position":"p"}],"personalItemList":null}}`
	ev := decodeOK(t, build(MsgTypeReceptionCreate, content, false))
	o := ev.Data.(ReceptionOrder)
	if ev.ExternalID != "6483" || o.Car.Plate != "12345" || o.Car.ProductionDate.String() != "2012-01-01" {
		t.Fatalf("order = %+v", o)
	}
	if *o.PreCheck.Odometer != "67000.46" || *o.PreCheck.OilGauge != "37.5" {
		t.Fatalf("odometer %s oil %s", *o.PreCheck.Odometer, *o.PreCheck.OilGauge)
	}
	if got := testkit.JSON(t, o.PreCheck.WarningLights); got !=
		`[{"code":null,"name":"仪表盘异常"},{"code":7,"name":""},{"code":null,"name":"x_y"},{"code":null,"name":"1234567890_长"}]` {
		t.Fatalf("warning lights = %s", got)
	}
	if got := testkit.JSON(t, o.PreCheck.PaintDamages); got != `[{"position":"p","position_name":"","describe":"","images":[]}]` {
		t.Fatalf("paint damages = %s", got)
	}
	if o.PreCheck.PersonalItems == nil || len(o.PreCheck.PersonalItems) != 0 {
		t.Fatalf("personal items = %#v", o.PreCheck.PersonalItems)
	}
	if o.Staff.StaffID == nil || *o.Staff.StaffID != 380 {
		t.Fatalf("staff = %+v", o.Staff)
	}

	// Only receiveBaseId is required; a content sent as a JSON string is read too.
	ev = decodeOK(t, build(MsgTypeReceptionCreate, `{"receiveBaseId":1}`, true))
	o = ev.Data.(ReceptionOrder)
	if ev.ExternalID != "1" || o.PreCheck.Odometer != nil || o.Car.ProductionDate.Valid {
		t.Fatalf("minimal order = %+v", o)
	}
	if got := testkit.JSON(t, o.PreCheck); got != `{"odometer":null,"oil_gauge":null,"remark":"","warning_lights":[],"paint_damages":[],"personal_items":[]}` {
		t.Fatalf("minimal pre-check = %s", got)
	}

	// A null envelope staffInfo leaves the staff ids null.
	b := BuildBody("m-9", MsgTypeReceptionCreate, 5, nil, json.RawMessage(`{"receiveBaseId":2}`), false, "k")
	o = decodeOK(t, b).Data.(ReceptionOrder)
	if o.Staff.StaffID != nil {
		t.Fatalf("staff = %+v", o.Staff)
	}
}

func TestDecodeReport(t *testing.T) {
	ev := decodeOK(t, SampleReportBody("r-1", 7001, 1700000000000, "sec"))
	if ev.Kind != KindInspectionReport || ev.ExternalID != "7001" || ev.EventKey != "r-1" || ev.Version != 1700000000000 {
		t.Fatalf("event = %+v", ev)
	}
	r := ev.Data.(InspectionReport)
	if r.Plate != "JING" || *r.DetectionPercentage != "85.5" || r.WorkBaseStatus != "FINISH" || r.ServiceBaseName != "常规保养" || len(r.Items) != 2 {
		t.Fatalf("report = %+v", r)
	}
	if string(r.Items[0]) != `{"checkItemName":"机油","checkResult":"正常","images":[],"level":1}` {
		t.Fatalf("item kept as given? %s", r.Items[0])
	}
	m := testkit.JSONObject(t, ev.Data)
	if m["detection_percentage"] != "85.5" || m["work_base_status"] != "FINISH" || len(m["items"].([]any)) != 2 {
		t.Fatalf("data = %v", m)
	}

	// reportJson as a JSON string, a percentage as text, the plate only inside the report.
	content := `{"receiveBaseId":7002,"detectionPercentage":"90%","reportJson":` +
		jsonString(`{"carNum":"ABC","workBaseStatus":2,"serviceBaseName":"检测","list":[{"a":1}]}`) + `}`
	r = decodeOK(t, build(MsgTypeReport, content, false)).Data.(InspectionReport)
	if r.Plate != "ABC" || *r.DetectionPercentage != "90" || r.WorkBaseStatus != "2" || len(r.Items) != 1 {
		t.Fatalf("report = %+v", r)
	}

	// No report section at all.
	r = decodeOK(t, build(MsgTypeReport, `{"receiveBaseId":7003}`, false)).Data.(InspectionReport)
	if r.DetectionPercentage != nil || r.Items == nil || len(r.Items) != 0 {
		t.Fatalf("report = %+v", r)
	}
}

// part returns the event of the part of ev with the given part key.
func part(t *testing.T, ev *vendors.Event, key string) *vendors.Event {
	t.Helper()
	p, ok := ev.Part(vendors.PartKey(ev.EventKey, key))
	if !ok {
		t.Fatalf("no part %q among %v", key, ev.PartKeys())
	}
	return p
}

func TestDecodeMaintenance(t *testing.T) {
	ev := decodeOK(t, SampleMaintenanceBody("p-1", 7001, 1700000000000, "sec"))
	if ev.Kind != KindMaintenanceMessage || ev.ExternalID != "p-1" || len(ev.Parts) != 3 {
		t.Fatalf("event = %+v", ev)
	}
	// v1 items carry no plan id: each is addressed within its inspection
	// order by its service, as printable ASCII (a digest of a Chinese name).
	keys := ev.PartKeys()
	planKey := regexp.MustCompile(`^p-1#plan:70010/~[0-9a-f]{32}$`)
	if keys[0] != "p-1#job" || !planKey.MatchString(keys[1]) || !planKey.MatchString(keys[2]) || keys[1] == keys[2] {
		t.Fatalf("part keys = %v", keys)
	}
	if again := decodeOK(t, SampleMaintenanceBody("p-1", 7001, 1700000009000, "sec")).PartKeys(); !slices.Equal(again, keys) {
		t.Fatalf("part keys differ between messages of one job: %v, %v", again, keys)
	}
	job := part(t, ev, "job")
	if job.Kind != KindMaintenanceJob || job.ExternalID != "70010" || job.Version != 1700000000000 || job.EventKey != "p-1#job" {
		t.Fatalf("job = %+v", job)
	}
	oilID := strings.TrimPrefix(keys[1], "p-1#plan:")
	m := testkit.JSONObject(t, job.Data)
	if m["receive_base_id"] != float64(7001) || m["plate"] != "JING" || len(m["work_procedure_questions"].([]any)) != 1 ||
		testkit.JSON(t, m["plan_ids"]) != testkit.JSON(t, []string{oilID, strings.TrimPrefix(keys[2], "p-1#plan:")}) {
		t.Fatalf("job data = %v", m)
	}
	oil := part(t, ev, "plan:"+oilID)
	if oil.Kind != KindMaintenancePlanItem || oil.ExternalID != oilID || oil.Version != 1700000000000 {
		t.Fatalf("plan = %+v", oil)
	}
	m = testkit.JSONObject(t, oil.Data)
	if m["plan_id"] != "" || m["source"] != "v1" || m["action"] != "" || m["deleted"] != false || m["inspection_order_id"] != "70010" ||
		m["receive_base_id"] != float64(7001) || m["current_miles"] != "67000" || m["next_replace_cycle_km"] != "72000" ||
		m["service_base_name"] != "更换机油" {
		t.Fatalf("plan data = %v", m)
	}

	// The job is the inspection order whichever other ids the message carries.
	cases := []struct{ content, job string }{
		{`{"carMaintenancePlanList":[{"inspectionOrderId":"IO-5"},{"inspectionOrderId":6}]}`, "IO-5"},
		{`{"receiveBaseId":"42","carMaintenancePlanList":[{"inspectionOrderId":5}]}`, "5"},
		{`{"inspectionOrderId":9,"receiveBaseId":"42","carMaintenancePlanList":[]}`, "9"},
		{`{"receiveBaseId":"42"}`, "receive-base:42"},
		{`{"carMaintenancePlanList":[{"name":"x"}],"carNum":"JING"}`, "message:m-1"},
		{`{}`, "message:m-1"},
	}
	for _, c := range cases {
		ev := decodeOK(t, build(MsgTypeMaintenance, c.content, false))
		if job := part(t, ev, "job"); job.ExternalID != c.job {
			t.Errorf("%s: job %q, want %q", c.content, job.ExternalID, c.job)
		}
	}
	// A v1 item with AutoX3's plan id addresses the same record as a v2 item of that plan.
	ev = decodeOK(t, build(MsgTypeMaintenance, `{"carMaintenancePlanList":[{"id":"P-1","inspectionOrderId":5,"serviceBaseSn":"SB"},{"inspectionOrderId":5,"serviceBaseSn":"SB-OIL"},{"inspectionOrderId":5},{"inspectionOrderId":5}]}`, false))
	if got := strings.Join(ev.PartKeys(), ","); got != "m-1#job,m-1#plan:P-1,m-1#plan:5/SB-OIL,m-1#plan:5/#2,m-1#plan:5/#3" {
		t.Fatalf("part keys = %s", got)
	}
	// Ids that cannot be part of a workflow id (not printable ASCII, longer than the column) become digests.
	ev = decodeOK(t, build(MsgTypeMaintenanceV2, `[{"action":"ADD","id":"计划 1"},{"action":"ADD","id":"`+strings.Repeat("9", 128)+`"}]`, true))
	digest := regexp.MustCompile(`^~[0-9a-f]{32}$`)
	if !digest.MatchString(ev.Parts[0].ExternalID) || ev.Parts[1].ExternalID != strings.Repeat("9", 128) || ev.Parts[0].Data.(Plan).PlanID != "计划 1" {
		t.Fatalf("parts = %+v", ev.Parts)
	}
	long := decodeOK(t, build(MsgTypeMaintenance, `{"inspectionOrderId":"`+strings.Repeat("7", 100)+`","carMaintenancePlanList":[{"serviceBaseName":"`+strings.Repeat("x", 200)+`"}]}`, false))
	for _, key := range long.PartKeys() {
		if len(key) > 191 || len(long.Parts[1].ExternalID) > 128 {
			t.Fatalf("key %q or external id %q too long", key, long.Parts[1].ExternalID)
		}
	}
}

func TestDecodeMaintenanceV2(t *testing.T) {
	ev := decodeOK(t, SampleMaintenanceV2Body("v-1", 9001, 1700000000000, "sec"))
	if ev.Kind != KindMaintenanceMessage || ev.ExternalID != "v-1" || ev.EventType != MsgTypeMaintenanceV2 || len(ev.Parts) != 2 {
		t.Fatalf("event = %+v", ev)
	}
	a, b := part(t, ev, "plan:9001-1"), part(t, ev, "plan:9001-2")
	if a.Kind != KindMaintenancePlanItem || a.ExternalID != "9001-1" || a.EventKey != "v-1#plan:9001-1" || a.Version != 1700000000000 {
		t.Fatalf("part = %+v", a)
	}
	pa, pb := a.Data.(Plan), b.Data.(Plan)
	if pa.Action != ActionAdd || pa.PlanID != "9001-1" || pa.InspectionOrderID != "9001" || pa.ReceiveBaseID != nil ||
		*pa.CurrentMiles != "67000" || *pa.NextReplaceCycleKm != "72000" || *pa.PerMiles != "5000" || pa.ReductionType != "MILE" ||
		pa.ServiceBaseName != "更换机油" || pa.ServiceBaseSn != "SB-OIL" ||
		string(pa.Checkpoints) != `[{"checkpointName":"机油","status":"NORMAL"}]` {
		t.Fatalf("plan 0 = %+v", pa)
	}
	// Warning dates are calendar dates in AutoX3's zone, whether sent as epoch ms or as a date.
	if want := time.UnixMilli(1700000000000 + 90*24*3600*1000).In(time.FixedZone("", 8*3600)).Format(time.DateOnly); pa.WarningDate.String() != want {
		t.Fatalf("warning date = %v, want %s", pa.WarningDate, want)
	}
	if pb.ReductionType != "TIME" || pb.WarningDate.String() != "2026-09-01" || string(pb.Checkpoints) != "[]" {
		t.Fatalf("plan 1 = %+v", pb)
	}
	m := testkit.JSONObject(t, b.Data)
	if m["warning_date"] != "2026-09-01" || m["source"] != "v2" || m["deleted"] != false || m["plan_id"] != "9001-2" {
		t.Fatalf("data = %v", m)
	}

	cases := []struct {
		name, content string
		plans         []string
		receiveBase   any
	}{
		{"wrapper with list and receiveBaseId", `{"receiveBaseId":77,"list":[{"action":"modify","id":5,"inspectionOrderId":3}]}`, []string{"5"}, float64(77)},
		{"wrapper with unnamed list", `{"whatever":[{"action":"FINISH","id":"5"}],"inspectionOrderId":"IO-1"}`, []string{"5"}, nil},
		{"single item", `{"action":"DELETE","id":"5","receiveBaseId":"78","checkpointList":"[1,2]"}`, []string{"5"}, float64(78)},
		{"items of several orders", `[{"action":"ADD","id":"1","inspectionOrderId":5},{"action":"ADD","id":"2","inspectionOrderId":6}]`, []string{"1", "2"}, nil},
		{"a plan twice: the later item wins", `[{"action":"ADD","id":"1"},{"action":"ADD","id":"2"},{"action":"DELETE","id":"1"}]`, []string{"1", "2"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := decodeOK(t, build(MsgTypeMaintenanceV2, c.content, true))
			var ids []string
			for _, p := range ev.Parts {
				ids = append(ids, p.ExternalID)
			}
			if strings.Join(ids, ",") != strings.Join(c.plans, ",") {
				t.Fatalf("plans %v, want %v", ids, c.plans)
			}
			if m := testkit.JSONObject(t, part(t, ev, "plan:"+c.plans[0]).Data); m["receive_base_id"] != c.receiveBase {
				t.Fatalf("receive_base_id = %v, want %v", m["receive_base_id"], c.receiveBase)
			}
		})
	}
	ev = decodeOK(t, build(MsgTypeMaintenanceV2, `[{"action":"ADD","id":"1"},{"action":"DELETE","id":"1"}]`, true))
	if p := ev.Parts[0].Data.(Plan); !p.Deleted || p.Action != ActionDelete {
		t.Fatalf("plan = %+v", p)
	}
	inOrder := decodeOK(t, build(MsgTypeMaintenanceV2, `{"inspectionOrderId":"IO-1","list":[{"action":"ADD","id":"5"}]}`, true))
	if p := inOrder.Parts[0].Data.(Plan); p.InspectionOrderID != "IO-1" {
		t.Fatalf("plan = %+v", p)
	}

	// An empty list changes nothing: the message is kept and sent raw.
	empty := decodeOK(t, build(MsgTypeMaintenanceV2, `[]`, true))
	if !empty.Generic || empty.Kind != KindEvent || len(empty.Parts) != 0 {
		t.Fatalf("empty = %+v", empty)
	}

	// Lower-case action is normalised; a content sent as a plain array is accepted too.
	p := decodeOK(t, build(MsgTypeMaintenanceV2, `[{"action":"delete","id":8,"checkpointList":[1]}]`, false)).Parts[0].Data.(Plan)
	if p.Action != ActionDelete || !p.Deleted || p.PlanID != "8" || string(p.Checkpoints) != "[1]" {
		t.Fatalf("plan = %+v", p)
	}
}

func TestDecodeUnknownType(t *testing.T) {
	for name, c := range map[string]struct {
		content  string
		asString bool
		want     string
	}{
		"object":            {`{"a": [1, "二"]}`, false, `{"a":[1,"二"]}`},
		"string":            {`not json at all`, true, `"not json at all"`},
		"string holds json": {`{"a":1}`, true, `"{\"a\":1}"`},
		"array":             {`[]`, false, `[]`},
	} {
		t.Run(name, func(t *testing.T) {
			ev := decodeOK(t, build("event.autox3.order.detection.finish", c.content, c.asString))
			if ev.Kind != KindEvent || ev.ExternalID != "m-1" || ev.EventKey != "m-1" || ev.Tables != nil {
				t.Fatalf("event = %+v", ev)
			}
			m := testkit.JSONObject(t, ev.Data)
			if m["msg_type"] != "event.autox3.order.detection.finish" {
				t.Fatalf("msg_type = %v", m["msg_type"])
			}
			if got := testkit.JSON(t, m["content"]); got != c.want {
				t.Fatalf("content = %s, want %s", got, c.want)
			}
			if got := testkit.JSON(t, ev.Data.(GenericEvent).StaffInfo); got != testStaff {
				t.Fatalf("staff_info = %s", got)
			}
		})
	}
}

func TestDecodeEnvelopeErrors(t *testing.T) {
	_, err := Decode([]byte(`{"msgId":"x"}`))
	if !errors.Is(err, vendors.ErrMalformed) {
		t.Fatalf("Decode = %v, want ErrMalformed", err)
	}
	var ce *vendors.ContentError
	if errors.As(err, &ce) {
		t.Fatalf("envelope problem reported as content: %v", err)
	}
	// Decode does not check the signature: that is the edge's job.
	b := BuildBody("m-1", MsgTypeReceptionCreate, 5, nil, json.RawMessage(`{"receiveBaseId":3}`), false, "one secret")
	if _, err := Decode(b); err != nil {
		t.Fatalf("Decode refused on signature grounds: %v", err)
	}
}

func TestDecodeContentErrors(t *testing.T) {
	rc := MsgTypeReceptionCreate
	cases := []struct {
		name, msgType, content string
		asString               bool
		field, problem         string
	}{
		{"reception content array", rc, `[]`, false, "content", "must be a JSON object"},
		{"reception content string not json", rc, `{"receiveBaseId":`, true, "content", "does not hold valid JSON"},
		{"reception content string of number", rc, `5`, true, "content", "must be a JSON object"},
		{"missing receiveBaseId", rc, `{"carInfo":{}}`, false, "content.receiveBaseId", "is required"},
		{"null receiveBaseId", rc, `{"receiveBaseId":null}`, false, "content.receiveBaseId", "is required"},
		{"empty receiveBaseId", rc, `{"receiveBaseId":""}`, false, "content.receiveBaseId", "is required"},
		{"receiveBaseId text", rc, `{"receiveBaseId":"abc"}`, false, "content.receiveBaseId", "must be an integer"},
		{"receiveBaseId fraction", rc, `{"receiveBaseId":1.5}`, false, "content.receiveBaseId", "must be an integer"},
		{"receiveBaseId object", rc, `{"receiveBaseId":{}}`, false, "content.receiveBaseId", "must be an integer"},
		{"receiveBaseId negative", rc, `{"receiveBaseId":-5}`, false, "content.receiveBaseId", "must be a positive integer"},
		{"receiveBaseId huge", rc, `{"receiveBaseId":99999999999999999999}`, false, "content.receiveBaseId", "must be an integer"},
		{"receiveBaseId exponent", rc, `{"receiveBaseId":1e99}`, false, "content.receiveBaseId", "must be an integer"},
		{"carInfo array", rc, `{"receiveBaseId":1,"carInfo":[]}`, false, "content.carInfo", "must be a JSON object"},
		{"carNum object", rc, `{"receiveBaseId":1,"carInfo":{"carNum":{}}}`, false, "content.carInfo.carNum", "must be a string"},
		{"carNum bool", rc, `{"receiveBaseId":1,"carInfo":{"carNum":true}}`, false, "content.carInfo.carNum", "must be a string"},
		{"production date text", rc, `{"receiveBaseId":1,"carInfo":{"carProductionDate":"soon"}}`, false, "content.carInfo.carProductionDate", "must be an epoch-milliseconds timestamp"},
		{"production date range", rc, `{"receiveBaseId":1,"carInfo":{"carProductionDate":253402300800000}}`, false, "content.carInfo.carProductionDate", "is out of range"},
		{"preCheckInfo string", rc, `{"receiveBaseId":1,"preCheckInfo":"x"}`, false, "content.preCheckInfo", "must be a JSON object"},
		{"odograph text", rc, `{"receiveBaseId":1,"preCheckInfo":{"odograph":"far"}}`, false, "content.preCheckInfo.odograph", "must be a number"},
		{"odograph bool", rc, `{"receiveBaseId":1,"preCheckInfo":{"odograph":false}}`, false, "content.preCheckInfo.odograph", "must be a number"},
		{"odograph beyond any decimal", rc, `{"receiveBaseId":1,"preCheckInfo":{"odograph":1e41}}`, false, "content.preCheckInfo.odograph", "must be a number"},
		{"remark array", rc, `{"receiveBaseId":1,"preCheckInfo":{"remark":[]}}`, false, "content.preCheckInfo.remark", "must be a string"},
		{"lightInfo object", rc, `{"receiveBaseId":1,"preCheckInfo":{"lightInfo":{}}}`, false, "content.preCheckInfo.lightInfo", "must be a JSON array"},
		{"light item object", rc, `{"receiveBaseId":1,"preCheckInfo":{"lightInfo":["1_a",{}]}}`, false, "content.preCheckInfo.lightInfo[1]", "must be a string"},
		{"paint item string", rc, `{"receiveBaseId":1,"preCheckInfo":{"paintsInfo":["x"]}}`, false, "content.preCheckInfo.paintsInfo[0]", "must be a JSON object"},
		{"paint images object", rc, `{"receiveBaseId":1,"preCheckInfo":{"paintsInfo":[{"images":{}}]}}`, false, "content.preCheckInfo.paintsInfo[0].images", "must be a JSON array"},
		{"paint image bool", rc, `{"receiveBaseId":1,"preCheckInfo":{"paintsInfo":[{},{"images":["u",true]}]}}`, false, "content.preCheckInfo.paintsInfo[1].images[1]", "must be a string"},
		{"personal item bool", rc, `{"receiveBaseId":1,"preCheckInfo":{"personalItemList":[true]}}`, false, "content.preCheckInfo.personalItemList[0]", "must be a string"},
		{"operator userId text", rc, `{"receiveBaseId":1,"staffInfo":{"userId":"x"}}`, false, "content.staffInfo.userId", "must be an integer"},
		{"operator array", rc, `{"receiveBaseId":1,"staffInfo":[]}`, false, "content.staffInfo", "must be a JSON object"},

		{"report missing receiveBaseId", MsgTypeReport, `{"carNum":"A"}`, false, "content.receiveBaseId", "is required"},
		{"report content array", MsgTypeReport, `[{}]`, false, "content", "must be a JSON object"},
		{"report percentage text", MsgTypeReport, `{"receiveBaseId":1,"detectionPercentage":"high"}`, false, "content.detectionPercentage", "must be a number"},
		{"reportJson bad string", MsgTypeReport, `{"receiveBaseId":1,"reportJson":"{oops"}`, false, "content.reportJson", "does not hold valid JSON"},
		{"reportJson number", MsgTypeReport, `{"receiveBaseId":1,"reportJson":3}`, false, "content.reportJson", "must be a JSON object"},
		{"report list object", MsgTypeReport, `{"receiveBaseId":1,"reportJson":{"list":{}}}`, false, "content.reportJson.list", "must be a JSON array"},
		{"report list item number", MsgTypeReport, `{"receiveBaseId":1,"reportJson":{"list":[{},2]}}`, false, "content.reportJson.list[1]", "must be a JSON object"},
		{"report status object", MsgTypeReport, `{"receiveBaseId":1,"reportJson":{"workBaseStatus":{}}}`, false, "content.reportJson.workBaseStatus", "must be a string"},

		{"maintenance content string", MsgTypeMaintenance, `x`, true, "content", "does not hold valid JSON"},
		{"maintenance plan list object", MsgTypeMaintenance, `{"carMaintenancePlanList":{}}`, false, "content.carMaintenancePlanList", "must be a JSON array"},
		{"maintenance plan item string", MsgTypeMaintenance, `{"carMaintenancePlanList":["x"]}`, false, "content.carMaintenancePlanList[0]", "must be a JSON object"},
		{"maintenance question number", MsgTypeMaintenance, `{"workProcedureQuestionList":[1]}`, false, "content.workProcedureQuestionList[0]", "must be a JSON object"},
		{"maintenance receiveBaseId zero", MsgTypeMaintenance, `{"receiveBaseId":0}`, false, "content.receiveBaseId", "must be a positive integer"},
		{"maintenance inspection order object", MsgTypeMaintenance, `{"carMaintenancePlanList":[{"inspectionOrderId":{}}]}`, false, "content.carMaintenancePlanList[0].inspectionOrderId", "must be an integer or a string"},
		{"maintenance inspection order fraction", MsgTypeMaintenance, `{"carMaintenancePlanList":[{},{"inspectionOrderId":1.5}]}`, false, "content.carMaintenancePlanList[1].inspectionOrderId", "must be an integer or a string"},

		{"v2 string not json", MsgTypeMaintenanceV2, `[{"action":`, true, "content", "does not hold valid JSON"},
		{"v2 string of number", MsgTypeMaintenanceV2, `5`, true, "content", "must hold a JSON array of plan items"},
		{"v2 empty string", MsgTypeMaintenanceV2, ``, true, "content", "must hold a JSON array of plan items"},
		{"v2 object without list", MsgTypeMaintenanceV2, `{"a":1}`, true, "content", "holds no list of plan items"},
		{"v2 object with two unnamed lists", MsgTypeMaintenanceV2, `{"a":[],"b":[]}`, true, "content", "holds no list of plan items"},
		{"v2 item not object", MsgTypeMaintenanceV2, `[{"action":"ADD","id":1},"x"]`, true, "content[1]", "must be a JSON object"},
		{"v2 unknown action", MsgTypeMaintenanceV2, `[{"action":"UPSERT","id":1}]`, true, "content[0].action", "must be one of ADD, MODIFY, FINISH, DELETE"},
		{"v2 missing action", MsgTypeMaintenanceV2, `[{"id":1}]`, true, "content[0].action", "is required"},
		{"v2 action number", MsgTypeMaintenanceV2, `[{"action":1,"id":1}]`, true, "content[0].action", "must be one of ADD, MODIFY, FINISH, DELETE"},
		{"v2 missing id", MsgTypeMaintenanceV2, `{"list":[{"action":"ADD"}]}`, true, "content.list[0].id", "is required"},
		{"v2 id bool", MsgTypeMaintenanceV2, `[{"action":"ADD","id":true}]`, true, "content[0].id", "must be an integer or a string"},
		{"v2 reduction type", MsgTypeMaintenanceV2, `[{"action":"ADD","id":1,"reductionType":"DAY"}]`, true, "content[0].reductionType", "must be MILE or TIME"},
		{"v2 per miles text", MsgTypeMaintenanceV2, `[{"action":"ADD","id":1,"perMiles":"often"}]`, true, "content[0].perMiles", "must be a number"},
		{"v2 warning date text", MsgTypeMaintenanceV2, `[{"action":"ADD","id":1,"warningDate":"tomorrow"}]`, true, "content[0].warningDate", "must be an epoch-milliseconds timestamp or a date"},
		{"v2 warning date bool", MsgTypeMaintenanceV2, `[{"action":"ADD","id":1,"warningDate":true}]`, true, "content[0].warningDate", "must be an epoch-milliseconds timestamp"},
		{"v2 checkpoints object", MsgTypeMaintenanceV2, `[{"action":"ADD","id":1,"checkpointList":{}}]`, true, "content[0].checkpointList", "must be a JSON array"},
		{"v2 checkpoints bad string", MsgTypeMaintenanceV2, `[{"action":"ADD","id":1,"checkpointList":"[1,"}]`, true, "content[0].checkpointList", "does not hold valid JSON"},
		{"v2 wrapper receiveBaseId text", MsgTypeMaintenanceV2, `{"receiveBaseId":"x","list":[]}`, true, "content.receiveBaseId", "must be an integer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev, err := Decode(build(c.msgType, c.content, c.asString))
			if err == nil {
				t.Fatalf("accepted: %+v", ev.Data)
			}
			var ce *vendors.ContentError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T) is not a ContentError", err, err)
			}
			if errors.Is(err, vendors.ErrMalformed) || errors.Is(err, vendors.ErrUnauthorized) {
				t.Fatalf("content error %v wraps an envelope sentinel", err)
			}
			if ce.Field != c.field || !strings.Contains(ce.Problem, c.problem) {
				t.Fatalf("ContentError{%q, %q}, want field %q saying %q", ce.Field, ce.Problem, c.field, c.problem)
			}
			if !strings.HasPrefix(err.Error(), "invalid content: "+c.field+": ") {
				t.Fatalf("message %q", err)
			}
		})
	}
}

func TestContentErrorsDoNotEchoValues(t *testing.T) {
	content := `{"receiveBaseId":1,"carInfo":{"carNum":{"plate":"京A12345"},"carOwnerMobile":"13800138000"}}`
	_, err := Decode(build(MsgTypeReceptionCreate, content, false))
	if err == nil || strings.Contains(err.Error(), "京A12345") {
		t.Fatalf("error %v", err)
	}
	content = `{"receiveBaseId":"` + strings.Repeat("1", 70) + `x"}`
	_, err = Decode(build(MsgTypeReceptionCreate, content, false))
	if err == nil || strings.Contains(err.Error(), "1111111111") {
		t.Fatalf("error %v", err)
	}
}

// Free text is never a reason to refuse: remarks, names, plates and report
// text of any length are kept whole in the record's data.
func TestDecodeKeepsLongFreeTextWhole(t *testing.T) {
	remark := strings.Repeat("备注", 50_000)
	light := strings.Repeat("灯", 5000)
	plate := strings.Repeat("长", 300)
	content := `{"receiveBaseId":1,"carInfo":{"carNum":"` + plate + `"},"preCheckInfo":{"remark":"` + remark + `","lightInfo":["` + light + `"]}}`
	ev, err := Decode(build(MsgTypeReceptionCreate, content, false))
	if err != nil {
		t.Fatalf("long free text refused: %v", err)
	}
	o, ok := ev.Data.(ReceptionOrder)
	if !ok {
		t.Fatalf("data is a %T", ev.Data)
	}
	if o.PreCheck.Remark != remark || o.Car.Plate != plate || len(o.PreCheck.WarningLights) != 1 || o.PreCheck.WarningLights[0].Name != light {
		t.Fatal("free text was not kept whole")
	}
	base := strings.Repeat("x", 20_000)
	ev, err = Decode(build(MsgTypeMaintenanceV2, `[{"action":"ADD","id":1,"serviceBaseName":"`+base+`"}]`, true))
	if err != nil {
		t.Fatalf("a long service base name refused: %v", err)
	}
	if len(ev.Parts) != 1 || !strings.Contains(string(mustJSON(t, ev.Parts[0].Data)), base) {
		t.Fatal("the plan's service base name was not kept whole")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A plan's record carries the fields of its own item and of the envelope
// that nothing maps, never another item's; a warning names its item.
func TestDecodeMaintenanceExtraPerPlan(t *testing.T) {
	staff := json.RawMessage(`{"staffId":380,"staffName":"A梦 哆啦","staffRole":"技师"}`)
	content := json.RawMessage(`{"list":[{"action":"ADD","id":"1","planName":"机油","currentMiles":-5},{"action":"ADD","id":"2","level":3}],"source":"app"}`)
	ev := decodeOK(t, BuildBody("m-9", MsgTypeMaintenanceV2, 1700000000000, staff, content, true, "k"))
	one, two := ev.Parts[0].Data.(Plan), ev.Parts[1].Data.(Plan)
	if got := testkit.JSON(t, one.Extra); got != `{"content.list[0].planName":"机油","content.source":"app","staffInfo.staffRole":"技师"}` {
		t.Fatalf("plan 1 extra = %s", got)
	}
	if got := testkit.JSON(t, two.Extra); got != `{"content.list[1].level":3,"content.source":"app","staffInfo.staffRole":"技师"}` {
		t.Fatalf("plan 2 extra = %s", got)
	}
	if one.Staff.StaffName != "A梦 哆啦" || *one.CurrentMiles != "-5" {
		t.Fatalf("plan 1 = %+v", one)
	}
	if len(ev.Warnings) != 1 || !strings.HasPrefix(ev.Warnings[0], "content.list[0].currentMiles: is negative") {
		t.Fatalf("warnings = %q", ev.Warnings)
	}
	v1 := decodeOK(t, build(MsgTypeMaintenance, `{"carMaintenancePlanList":[{"inspectionOrderId":5,"serviceBaseSn":"S","color":"red"}],"carNum":"JING","shopNote":"x"}`, false))
	job, plan := v1.Parts[0].Data.(MaintenanceJob), v1.Parts[1].Data.(Plan)
	if got := testkit.JSON(t, job.Extra); got != `{"content.shopNote":"x"}` {
		t.Fatalf("job extra = %s", got)
	}
	if got := testkit.JSON(t, plan.Extra); got != `{"content.carMaintenancePlanList[0].color":"red","content.shopNote":"x"}` {
		t.Fatalf("v1 plan extra = %s", got)
	}
}

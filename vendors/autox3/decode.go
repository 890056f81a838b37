package autox3

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/vendors"
)

// Message types AutoX3 sends (msgType).
const (
	MsgTypeReceptionCreate = "event.autox3.order.receivebase.create"
	MsgTypeReport          = "event.autox3.order.detection.finish.report"
	MsgTypeMaintenance     = "event.autox3.order.detection.finish.maintenance"
	MsgTypeMaintenanceV2   = "event.autox3.order.detection.finish.maintenance.v2"
)

// Record kinds the AutoX3 events describe.
const (
	KindReceptionOrder   = "reception_order"
	KindInspectionReport = "inspection_report"
	KindMaintenancePlan  = "maintenance_plan"
	KindEvent            = "event" // an authentic message of a type this service does not know
)

// InspectionOrderIDPrefix marks a maintenance_plan external id taken from an
// inspection order id: those ids and receiveBaseIds are separate sequences.
const InspectionOrderIDPrefix = "inspection-order:"

// Text limits, matching the column sizes in models/autox3.go.
const (
	maxShort    = 64    // plates, VINs, phone numbers, statuses
	maxName     = 128   // names, brands, codes, ids
	maxLong     = 255   // styles, labels, service base names
	maxText     = 10000 // text columns
	maxIDLen    = 100   // ids that become part of an external id
	maxGender   = 32
	maxAreaCode = 16
)

// Bounds of decimal values: DECIMAL(12,1) columns hold less than 1e11 and
// percentages run to 100.
const (
	milesLimitExp = 11
	percentLimit  = 100
)

// ReceptionOrder is the normalised receivebase.create content, the ERP's "data".
type ReceptionOrder struct {
	ReceiveBaseID int64    `json:"receive_base_id"`
	Car           Car      `json:"car"`
	PreCheck      PreCheck `json:"pre_check"`
	Operator      Operator `json:"operator"` // who created the reception order
	Staff         Staff    `json:"staff"`    // the staff member the message is about
}

// Car is the vehicle of a reception order.
type Car struct {
	Brand          string     `json:"brand"`
	Style          string     `json:"style"`
	Plate          string     `json:"plate"`
	VIN            string     `json:"vin"`
	OwnerFirstName string     `json:"owner_first_name"`
	OwnerLastName  string     `json:"owner_last_name"`
	OwnerGender    string     `json:"owner_gender"`
	OwnerMobile    string     `json:"owner_mobile"`
	ProductionDate *time.Time `json:"production_date"`
}

// PreCheck is what was noted when the vehicle arrived.
type PreCheck struct {
	Odometer      *string        `json:"odometer"`  // km, decimal text
	OilGauge      *string        `json:"oil_gauge"` // percent, decimal text
	Remark        string         `json:"remark"`
	WarningLights []WarningLight `json:"warning_lights"`
	PaintDamages  []PaintDamage  `json:"paint_damages"`
	PersonalItems []string       `json:"personal_items"`
}

// WarningLight is a dashboard light, parsed from AutoX3's "20_发动机故障".
type WarningLight struct {
	Code *int   `json:"code"` // nil when the text has no "N_" prefix
	Name string `json:"name"`
}

// PaintDamage is one noted paint or body damage.
type PaintDamage struct {
	Position     string   `json:"position"`
	PositionName string   `json:"position_name"`
	Describe     string   `json:"describe"`
	Images       []string `json:"images"`
}

// Operator is the user who created the reception order (content.staffInfo).
type Operator struct {
	StoreID  *int64 `json:"store_id"`
	UserID   *int64 `json:"user_id"`
	BrandID  *int64 `json:"brand_id"`
	UserName string `json:"user_name"`
	Mobile   string `json:"mobile"`
	AreaCode string `json:"area_code"`
}

// Staff is the envelope's staffInfo, reduced to its ids.
type Staff struct {
	StaffID *int64 `json:"staff_id"`
	StoreID *int64 `json:"store_id"`
	BrandID *int64 `json:"brand_id"`
}

// InspectionReport is the normalised detection.finish.report content.
type InspectionReport struct {
	ReceiveBaseID       int64             `json:"receive_base_id"`
	Plate               string            `json:"plate"`
	DetectionPercentage *string           `json:"detection_percentage"` // decimal text
	WorkBaseStatus      string            `json:"work_base_status"`
	ServiceBaseName     string            `json:"service_base_name"`
	Items               []json.RawMessage `json:"items"` // as AutoX3 sent them
}

// MaintenancePlan is the normalised detection.finish.maintenance content.
type MaintenancePlan struct {
	Format                 string            `json:"format"` // "v1"
	ReceiveBaseID          *int64            `json:"receive_base_id"`
	InspectionOrderID      string            `json:"inspection_order_id"` // of the first plan item, "" when none
	Plate                  string            `json:"plate"`
	Plans                  []json.RawMessage `json:"plans"`                    // as AutoX3 sent them
	WorkProcedureQuestions []json.RawMessage `json:"work_procedure_questions"` // as AutoX3 sent them
}

// MaintenancePlanChange is the normalised detection.finish.maintenance.v2
// content: plan items, each an addition, change, completion or deletion.
type MaintenancePlanChange struct {
	Format            string     `json:"format"` // "v2"
	ReceiveBaseID     *int64     `json:"receive_base_id"`
	InspectionOrderID string     `json:"inspection_order_id"` // shared by the items, "" when none
	Items             []PlanItem `json:"items"`
}

// Actions of a v2 plan item.
const (
	ActionAdd    = "ADD"
	ActionModify = "MODIFY"
	ActionFinish = "FINISH"
	ActionDelete = "DELETE"
)

// PlanItem is one v2 maintenance plan item.
type PlanItem struct {
	Action             string          `json:"action"`
	ID                 string          `json:"id"`
	InspectionOrderID  string          `json:"inspection_order_id"`
	CurrentMiles       *string         `json:"current_miles"`
	NextReplaceCycleKm *string         `json:"next_replace_cycle_km"`
	PerMiles           *string         `json:"per_miles"`
	ReductionType      string          `json:"reduction_type"` // MILE, TIME or empty
	ServiceBaseName    string          `json:"service_base_name"`
	ServiceBaseSn      string          `json:"service_base_sn"`
	WarningDate        *time.Time      `json:"warning_date"`
	Checkpoints        json.RawMessage `json:"checkpoints"` // JSON array as given

	item           json.RawMessage
	receiveBaseID  *int64
	currentMiles   *decimal.Decimal
	nextReplaceKm  *decimal.Decimal
	perMiles       *decimal.Decimal
	checkpointText string
}

// GenericEvent is the data of a message of a type this service does not know.
type GenericEvent struct {
	MsgType   string          `json:"msg_type"`
	Content   json.RawMessage `json:"content"` // as sent; a string content stays a string
	StaffInfo json.RawMessage `json:"staff_info"`
}

// Decode parses an AutoX3 callback and validates its content by msgType.
// The signature is not checked again: the edge verified it before accepting
// the body. Envelope problems wrap vendors.ErrMalformed; content problems are
// a *vendors.ContentError naming the field. Unknown types become generic
// events.
func Decode(body []byte) (*vendors.Event, error) {
	env, err := ParseEnvelope(body)
	if err != nil {
		return nil, err
	}
	ev := &vendors.Event{
		Vendor:     vendors.AutoX3,
		EventKey:   env.MsgID,
		EventType:  env.MsgType,
		Version:    env.CreateTime,
		OccurredAt: time.UnixMilli(env.CreateTime).UTC(),
	}
	switch env.MsgType {
	case MsgTypeReceptionCreate:
		err = decodeReception(env, ev)
	case MsgTypeReport:
		err = decodeReport(env, ev)
	case MsgTypeMaintenance:
		err = decodeMaintenance(env, ev)
	case MsgTypeMaintenanceV2:
		err = decodeMaintenanceV2(env, ev)
	default:
		ev.Kind, ev.ExternalID, ev.Generic = KindEvent, env.MsgID, true
		ev.Data = GenericEvent{MsgType: env.MsgType, Content: env.Content, StaffInfo: env.StaffInfo}
	}
	if err != nil {
		return nil, err
	}
	return ev, nil
}

// reader reads fields and keeps the first problem, so decoding reads as a
// list of fields; every read after a problem is a no-op.
type reader struct{ err error }

func (r *reader) fail(err error) {
	if r.err == nil && err != nil {
		r.err = err
	}
}

func (r *reader) str(n node, max int) string {
	if r.err != nil {
		return ""
	}
	s, err := n.asString(max)
	r.fail(err)
	return s
}

func (r *reader) id(n node, max int) string {
	if r.err != nil {
		return ""
	}
	s, err := n.asID(max)
	r.fail(err)
	return s
}

func (r *reader) int(n node) *int64 {
	if r.err != nil {
		return nil
	}
	v, err := n.asInt()
	r.fail(err)
	return v
}

func (r *reader) obj(n node) object {
	if r.err != nil {
		return object{path: n.path}
	}
	o, err := n.asObject()
	r.fail(err)
	return o
}

func (r *reader) arr(n node) []node {
	if r.err != nil {
		return nil
	}
	a, err := n.asArray()
	r.fail(err)
	return a
}

func (r *reader) objects(n node) []json.RawMessage {
	if r.err != nil {
		return nil
	}
	a, err := n.asObjects()
	r.fail(err)
	if a == nil {
		a = []json.RawMessage{}
	}
	return a
}

func (r *reader) unwrap(n node) node {
	if r.err != nil {
		return n
	}
	u, err := n.unwrapString()
	r.fail(err)
	return u
}

func (r *reader) epoch(n node) *time.Time {
	if r.err != nil {
		return nil
	}
	t, err := n.asEpochMs()
	r.fail(err)
	return t
}

func (r *reader) time(n node) *time.Time {
	if r.err != nil {
		return nil
	}
	t, err := n.asTime()
	r.fail(err)
	return t
}

// miles reads a non-negative distance that fits DECIMAL(12,1), rounded to one place.
func (r *reader) miles(n node) *decimal.Decimal {
	v := r.nonNegative(n, 1)
	if v != nil && !v.LessThan(decimal.New(1, milesLimitExp)) {
		r.fail(vendors.Invalid(n.path, "must be less than %s", decimal.New(1, milesLimitExp)))
		return nil
	}
	return v
}

// percent reads a percentage from 0 to 100, rounded to places.
func (r *reader) percent(n node, places int32) *decimal.Decimal {
	v := r.nonNegative(n, places)
	if v != nil && v.GreaterThan(decimal.NewFromInt(percentLimit)) {
		r.fail(vendors.Invalid(n.path, "must be between 0 and %d", percentLimit))
		return nil
	}
	return v
}

// nonNegative reads a decimal that must not be negative, rounded to places.
func (r *reader) nonNegative(n node, places int32) *decimal.Decimal {
	if r.err != nil {
		return nil
	}
	d, err := n.asDecimal()
	if err != nil || d == nil {
		r.fail(err)
		return nil
	}
	if d.IsNegative() {
		r.fail(vendors.Invalid(n.path, "must not be negative"))
		return nil
	}
	v := d.Round(places)
	return &v
}

// requiredID reads a positive integer id that must be present.
func (r *reader) requiredID(n node) int64 {
	if r.err != nil {
		return 0
	}
	if n.absent() {
		r.fail(vendors.Invalid(n.path, "is required"))
		return 0
	}
	v := r.optionalID(n)
	if v == nil {
		r.fail(vendors.Invalid(n.path, "is required"))
		return 0
	}
	return *v
}

// optionalID reads a positive integer id that may be absent.
func (r *reader) optionalID(n node) *int64 {
	v := r.int(n)
	if r.err == nil && v != nil && *v <= 0 {
		r.fail(vendors.Invalid(n.path, "must be a positive integer"))
		return nil
	}
	return v
}

// strings reads a list of texts; null items are skipped.
func (r *reader) strings(n node, max int) []string {
	out := []string{}
	for _, it := range r.arr(n) {
		if it.absent() {
			continue
		}
		out = append(out, r.str(it, max))
	}
	return out
}

// content returns the content as a JSON object; a JSON string holding an
// object is accepted too, as AutoX3 double-encodes some contents.
func (r *reader) content(env *Envelope) object {
	n := r.unwrap(node{path: "content", raw: env.Content})
	if r.err == nil && n.kind() != '{' {
		r.fail(vendors.Invalid("content", "must be a JSON object"))
	}
	return r.obj(n)
}

func decodeReception(env *Envelope, ev *vendors.Event) error {
	r := &reader{}
	c := r.content(env)
	rb := r.requiredID(c.get("receiveBaseId"))
	car := r.obj(c.get("carInfo"))
	pre := r.obj(c.get("preCheckInfo"))
	op := r.obj(c.get("staffInfo"))
	staff := r.obj(node{path: "staffInfo", raw: env.StaffInfo})

	o := ReceptionOrder{
		ReceiveBaseID: rb,
		Car: Car{
			Brand:          r.str(car.get("carBrandName"), maxName),
			Style:          r.str(car.get("carStyleName"), maxLong),
			Plate:          r.str(car.get("carNum"), maxShort),
			VIN:            r.str(car.get("carVin"), maxShort),
			OwnerFirstName: r.str(car.get("carOwnerFirstName"), maxName),
			OwnerLastName:  r.str(car.get("carOwnerLastName"), maxName),
			OwnerGender:    r.str(car.get("carOwnerGender"), maxGender),
			OwnerMobile:    r.str(car.get("carOwnerMobile"), maxShort),
			ProductionDate: r.epoch(car.get("carProductionDate")),
		},
		Operator: Operator{
			StoreID:  r.int(op.get("storeId")),
			UserID:   r.int(op.get("userId")),
			BrandID:  r.int(op.get("brandId")),
			UserName: r.str(op.get("userName"), maxName),
			Mobile:   r.str(op.get("mobile"), maxShort),
			AreaCode: r.str(op.get("areaCode"), maxAreaCode),
		},
		Staff: Staff{
			StaffID: r.int(staff.get("staffId")),
			StoreID: r.int(staff.get("storeId")),
			BrandID: r.int(staff.get("brandId")),
		},
	}
	odometer := r.miles(pre.get("odograph"))
	oil := r.percent(pre.get("oilGauge"), 1)
	o.PreCheck = PreCheck{
		Odometer:      decimalText(odometer),
		OilGauge:      decimalText(oil),
		Remark:        r.str(pre.get("remark"), maxText),
		WarningLights: []WarningLight{},
		PaintDamages:  []PaintDamage{},
		PersonalItems: r.strings(pre.get("personalItemList"), maxText),
	}
	for _, text := range r.strings(pre.get("lightInfo"), maxLong) {
		o.PreCheck.WarningLights = append(o.PreCheck.WarningLights, parseWarningLight(text))
	}
	for _, it := range r.arr(pre.get("paintsInfo")) {
		if it.absent() {
			continue
		}
		if r.err == nil && it.kind() != '{' {
			r.fail(vendors.Invalid(it.path, "must be a JSON object"))
		}
		p := r.obj(it)
		o.PreCheck.PaintDamages = append(o.PreCheck.PaintDamages, PaintDamage{
			Position:     r.str(p.get("position"), maxName),
			PositionName: r.str(p.get("positionName"), maxLong),
			Describe:     r.str(p.get("describe"), maxText),
			Images:       r.strings(p.get("images"), maxText),
		})
	}
	if r.err != nil {
		return r.err
	}

	ev.Kind, ev.ExternalID, ev.Data = KindReceptionOrder, strconv.FormatInt(rb, 10), o
	ev.Tables = receptionRows(env, o, odometer, oil).tables()
	return nil
}

// parseWarningLight splits "20_发动机故障" into code 20 and its name; text
// without the "N_" prefix is all name.
func parseWarningLight(text string) WarningLight {
	digits, name, ok := strings.Cut(text, "_")
	if ok && digits != "" && len(digits) <= 9 && strings.Trim(digits, "0123456789") == "" {
		if code, err := strconv.Atoi(digits); err == nil {
			return WarningLight{Code: &code, Name: name}
		}
	}
	return WarningLight{Name: text}
}

func decodeReport(env *Envelope, ev *vendors.Event) error {
	r := &reader{}
	c := r.content(env)
	rep := InspectionReport{
		ReceiveBaseID: r.requiredID(c.get("receiveBaseId")),
		Plate:         r.str(c.get("carNum"), maxShort),
	}
	pct := r.percent(percentNode(c.get("detectionPercentage")), 2)
	rep.DetectionPercentage = decimalText(pct)
	body := r.obj(r.unwrap(c.get("reportJson")))
	rep.WorkBaseStatus = r.str(body.get("workBaseStatus"), maxShort)
	if plate := r.str(body.get("carNum"), maxShort); rep.Plate == "" {
		rep.Plate = plate
	}
	rep.ServiceBaseName = r.str(body.get("serviceBaseName"), maxLong)
	rep.Items = r.objects(body.get("list"))
	if r.err != nil {
		return r.err
	}
	ev.Kind, ev.ExternalID, ev.Data = KindInspectionReport, strconv.FormatInt(rep.ReceiveBaseID, 10), rep
	ev.Tables = reportTables(reportRow(env, rep, pct))
	return nil
}

// percentNode drops a trailing "%" from a percentage sent as text.
func percentNode(n node) node {
	if n.kind() != '"' {
		return n
	}
	var s string
	if json.Unmarshal(n.raw, &s) != nil {
		return n
	}
	if t := strings.TrimSpace(s); strings.HasSuffix(t, "%") {
		return node{path: n.path, raw: json.RawMessage(jsonString(strings.TrimSuffix(t, "%")))}
	}
	return n
}

func decodeMaintenance(env *Envelope, ev *vendors.Event) error {
	r := &reader{}
	c := r.content(env)
	p := MaintenancePlan{
		Format:                 "v1",
		ReceiveBaseID:          r.optionalID(c.get("receiveBaseId")),
		Plate:                  r.str(c.get("carNum"), maxShort),
		Plans:                  r.objects(c.get("carMaintenancePlanList")),
		WorkProcedureQuestions: r.objects(c.get("workProcedureQuestionList")),
	}
	orderIDs := make([]string, len(p.Plans))
	for i, raw := range p.Plans {
		item := r.obj(node{path: "content.carMaintenancePlanList[" + strconv.Itoa(i) + "]", raw: raw})
		orderIDs[i] = r.id(item.get("inspectionOrderId"), maxIDLen)
	}
	if len(orderIDs) > 0 {
		p.InspectionOrderID = orderIDs[0]
	}
	if r.err != nil {
		return r.err
	}
	ev.Kind, ev.Data = KindMaintenancePlan, p
	ev.ExternalID = planRecordID(p.ReceiveBaseID, p.InspectionOrderID, env.MsgID)
	ev.Tables = maintenanceV1Tables(ev.ExternalID, maintenanceV1Rows(env, ev.ExternalID, p, orderIDs))
	return nil
}

// planRecordID is the external id of a maintenance_plan record: its
// reception order, else its inspection order, else the message itself.
func planRecordID(receiveBaseID *int64, inspectionOrderID, msgID string) string {
	switch {
	case receiveBaseID != nil:
		return strconv.FormatInt(*receiveBaseID, 10)
	case inspectionOrderID != "":
		return InspectionOrderIDPrefix + inspectionOrderID
	default:
		return msgID
	}
}

// planItems finds the v2 plan items: the content may be the list itself, an
// object holding it, or a single item.
func (r *reader) planItems(env *Envelope) (object, []node) {
	root := r.unwrap(node{path: "content", raw: env.Content})
	if r.err != nil {
		return object{}, nil
	}
	switch root.kind() {
	case '[':
		return object{path: "content"}, r.arr(root)
	case '{':
	default:
		r.fail(vendors.Invalid("content", "must hold a JSON array of plan items or an object holding one"))
		return object{}, nil
	}
	wrapper := r.obj(root)
	if wrapper.has("action") {
		return object{path: "content"}, []node{root}
	}
	// The documentation does not say under which name AutoX3 puts the list.
	for _, k := range []string{"list", "carMaintenancePlanList", "maintenancePlanList", "planList", "items", "data"} {
		if n := wrapper.get(k); n.kind() == '[' {
			return wrapper, r.arr(n)
		}
	}
	var found []node
	var count int
	for k := range wrapper.m {
		if n := wrapper.get(k); n.kind() == '[' {
			found, count = r.arr(n), count+1
		}
	}
	if count != 1 {
		r.fail(vendors.Invalid("content", "holds no list of plan items"))
		return object{}, nil
	}
	return wrapper, found
}

func decodeMaintenanceV2(env *Envelope, ev *vendors.Event) error {
	r := &reader{}
	wrapper, nodes := r.planItems(env)
	ch := MaintenancePlanChange{
		Format:            "v2",
		ReceiveBaseID:     r.optionalID(wrapper.get("receiveBaseId")),
		InspectionOrderID: r.id(wrapper.get("inspectionOrderId"), maxIDLen),
		Items:             []PlanItem{},
	}
	fromWrapperRB, fromWrapperIO := ch.ReceiveBaseID != nil, ch.InspectionOrderID != ""
	for _, n := range nodes {
		if r.err != nil {
			break
		}
		if n.kind() != '{' {
			r.fail(vendors.Invalid(n.path, "must be a JSON object"))
			break
		}
		it := r.planItem(n)
		if r.err != nil {
			break
		}
		if !fromWrapperRB && it.receiveBaseID != nil {
			if ch.ReceiveBaseID != nil && *ch.ReceiveBaseID != *it.receiveBaseID {
				r.fail(vendors.Invalid(n.path+".receiveBaseId", "differs from that of the other items"))
			}
			ch.ReceiveBaseID = it.receiveBaseID
		}
		if !fromWrapperIO && it.InspectionOrderID != "" {
			if ch.InspectionOrderID != "" && ch.InspectionOrderID != it.InspectionOrderID {
				r.fail(vendors.Invalid(n.path+".inspectionOrderId", "differs from that of the other items"))
			}
			ch.InspectionOrderID = it.InspectionOrderID
		}
		ch.Items = append(ch.Items, it)
	}
	if r.err != nil {
		return r.err
	}
	ev.Kind, ev.Data = KindMaintenancePlan, ch
	ev.ExternalID = planRecordID(ch.ReceiveBaseID, ch.InspectionOrderID, env.MsgID)
	ev.Tables = maintenanceV2Tables(maintenanceV2Rows(env, ev.ExternalID, ch))
	return nil
}

func (r *reader) planItem(n node) PlanItem {
	o := r.obj(n)
	it := PlanItem{item: n.raw}

	action := o.get("action")
	it.Action = strings.ToUpper(strings.TrimSpace(r.str(action, maxShort)))
	switch it.Action {
	case ActionAdd, ActionModify, ActionFinish, ActionDelete:
	case "":
		r.fail(vendors.Invalid(action.path, "is required"))
	default:
		r.fail(vendors.Invalid(action.path, "must be one of ADD, MODIFY, FINISH, DELETE"))
	}
	if it.ID = r.id(o.get("id"), maxName); it.ID == "" {
		r.fail(vendors.Invalid(o.get("id").path, "is required"))
	}
	it.InspectionOrderID = r.id(o.get("inspectionOrderId"), maxIDLen)
	it.receiveBaseID = r.optionalID(o.get("receiveBaseId"))

	it.currentMiles = r.miles(o.get("currentMiles"))
	it.nextReplaceKm = r.miles(o.get("nextReplaceCycleKm"))
	it.perMiles = r.miles(o.get("perMiles"))
	it.CurrentMiles, it.NextReplaceCycleKm, it.PerMiles = decimalText(it.currentMiles), decimalText(it.nextReplaceKm), decimalText(it.perMiles)

	rt := o.get("reductionType")
	it.ReductionType = strings.ToUpper(strings.TrimSpace(r.str(rt, maxShort)))
	if it.ReductionType != "" && it.ReductionType != "MILE" && it.ReductionType != "TIME" {
		r.fail(vendors.Invalid(rt.path, "must be MILE or TIME"))
	}
	it.ServiceBaseName = r.str(o.get("serviceBaseName"), maxLong)
	it.ServiceBaseSn = r.str(o.get("serviceBaseSn"), maxName)
	it.WarningDate = r.time(o.get("warningDate"))

	cp := r.unwrap(o.get("checkpointList"))
	if r.err == nil && !cp.absent() && cp.kind() != '[' {
		r.fail(vendors.Invalid(cp.path, "must be a JSON array"))
	}
	it.checkpointText = compactJSON(r.objectsOrValues(cp))
	it.Checkpoints = json.RawMessage(it.checkpointText)
	return it
}

// objectsOrValues returns the items of an array whatever their kind.
func (r *reader) objectsOrValues(n node) []json.RawMessage {
	out := []json.RawMessage{}
	for _, it := range r.arr(n) {
		out = append(out, it.raw)
	}
	return out
}

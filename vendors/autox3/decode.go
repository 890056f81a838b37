package autox3

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/vendors/lenient"
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
	KindEvent            = "event" // an authentic message of a type this service does not know
)

// maxIDLen is the longest id, in characters, that may become part of an
// external id (an inspection order id).
const maxIDLen = 100

// percentLimit is where a percentage ends; a larger one is kept, with a warning.
const percentLimit = 100

// ReceptionOrder is the normalised receivebase.create content, the ERP's "data".
type ReceptionOrder struct {
	ReceiveBaseID int64    `json:"receive_base_id"`
	Car           Car      `json:"car"`
	PreCheck      PreCheck `json:"pre_check"`
	Operator      Operator `json:"operator"` // who created the reception order
	Staff         Staff    `json:"staff"`    // the staff member the message is about
	// Extra holds the fields of the message this record does not map, by
	// path (see lenient.Reader.Extra).
	Extra lenient.Extra `json:"extra"`
}

// Car is the vehicle of a reception order.
type Car struct {
	Brand          string `json:"brand"`
	Style          string `json:"style"`
	Plate          string `json:"plate"`
	VIN            string `json:"vin"`
	OwnerFirstName string `json:"owner_first_name"`
	OwnerLastName  string `json:"owner_last_name"`
	OwnerGender    string `json:"owner_gender"`
	OwnerMobile    string `json:"owner_mobile"`
	// ProductionDate is a calendar date ("2012-01-01"): AutoX3 sends
	// midnight of that day in China as epoch milliseconds.
	ProductionDate lenient.Date `json:"production_date"`
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

// Staff is the envelope's staffInfo: the staff member the message is about.
type Staff struct {
	StaffID   *int64 `json:"staff_id"`
	StoreID   *int64 `json:"store_id"`
	BrandID   *int64 `json:"brand_id"`
	StaffName string `json:"staff_name"`
	Mobile    string `json:"mobile"`
	AreaCode  string `json:"area_code"` // the country calling code of the mobile, e.g. "+44"
}

// InspectionReport is the normalised detection.finish.report content.
type InspectionReport struct {
	ReceiveBaseID       int64             `json:"receive_base_id"`
	Plate               string            `json:"plate"`
	DetectionPercentage *string           `json:"detection_percentage"` // decimal text
	WorkBaseStatus      string            `json:"work_base_status"`
	ServiceBaseName     string            `json:"service_base_name"`
	Items               []json.RawMessage `json:"items"` // as AutoX3 sent them
	Staff               Staff             `json:"staff"` // the envelope's staffInfo
	// Extra holds the fields of the message this record does not map.
	Extra lenient.Extra `json:"extra"`
}

// GenericEvent is the data of a message of a type this service does not know.
type GenericEvent struct {
	MsgType   string          `json:"msg_type"`
	Content   json.RawMessage `json:"content"` // as sent; a string content stays a string
	StaffInfo json.RawMessage `json:"staff_info"`
	// Extra holds the envelope's other fields, those AutoX3 does not document.
	Extra lenient.Extra `json:"extra"`
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
		err = decodeReception(env, body, ev)
	case MsgTypeReport:
		err = decodeReport(env, body, ev)
	case MsgTypeMaintenance:
		err = decodeMaintenance(env, body, ev)
	case MsgTypeMaintenanceV2:
		err = decodeMaintenanceV2(env, body, ev)
	default:
		r := lenient.NewReader(&dialect)
		envelope(r, body).Use("content", "staffInfo")
		ev.Kind, ev.ExternalID, ev.Generic = KindEvent, env.MsgID, true
		ev.Data = GenericEvent{MsgType: env.MsgType, Content: env.Content, StaffInfo: env.StaffInfo, Extra: r.Extra()}
	}
	if err != nil {
		return nil, err
	}
	return ev, nil
}

// dialect is how AutoX3 writes values. Times without an offset are at its
// servers' UTC+8: the seed sample's production date 1325347200000 is
// midnight of 2012-01-01 there. Times must fit a DATETIME column.
var dialect = lenient.Dialect{
	Zone: lenient.China,
	Wording: map[lenient.Problem]string{
		lenient.TooManyDigits: "must be a number",
		lenient.NotTime:       "must be an epoch-milliseconds timestamp or a date (YYYY-MM-DD[ hh:mm:ss] or RFC 3339)",
		lenient.TimeRange:     "is out of range (years 1000 to 9999)",
	},
}

// anyTime is every form AutoX3 sends dates and times in.
const anyTime = lenient.EpochMillis | lenient.LocalTime | lenient.LocalDate | lenient.RFC3339

// miles reads a distance in km exactly as sent (see nonNegative).
func miles(v lenient.Value) *decimal.Decimal {
	return nonNegative(v)
}

// percent reads a percentage exactly as sent; one below 0 or over 100 is
// kept, with a warning.
func percent(v lenient.Value) *decimal.Decimal {
	d := nonNegative(v)
	if d != nil && d.GreaterThan(decimal.NewFromInt(percentLimit)) {
		v.Warn("is over %d, which a percentage should not be; kept as sent", percentLimit)
	}
	return d
}

// nonNegative reads a number the documents imply is not negative (a
// distance, a level), exactly as AutoX3 wrote it: never rounded. A negative
// one is kept, with a warning, rather than refused: the callback is
// authentic, and the ERP decides what a negative reading means. Whether the
// value fits its column is the store's business (see models.DecimalFits).
func nonNegative(v lenient.Value) *decimal.Decimal {
	d := v.Decimal()
	if !d.Valid {
		return nil
	}
	if d.Value.IsNegative() {
		v.Warn("is negative, which the documents do not foresee; kept as sent")
	}
	exact := d.Value
	return &exact
}

// decimalText renders a decimal for the ERP payload; nil stays null.
func decimalText(d *decimal.Decimal) *string {
	if d == nil {
		return nil
	}
	s := lenient.Format(*d)
	return &s
}

// requiredID reads a positive integer id that must be present.
func requiredID(v lenient.Value) int64 {
	id := optionalID(v)
	if id == nil {
		v.Invalid("is required")
		return 0
	}
	return *id
}

// optionalID reads a positive integer id that may be absent.
func optionalID(v lenient.Value) *int64 {
	n := v.Int()
	if n.Valid && n.Value <= 0 {
		v.Invalid("must be a positive integer")
		return nil
	}
	return n.Ptr()
}

// texts reads a list of texts; null items are skipped.
func texts(v lenient.Value) []string {
	out := []string{}
	for _, it := range v.Array() {
		if !it.Absent() {
			out = append(out, it.String())
		}
	}
	return out
}

// objects reads a list whose items must all be objects; none gives an empty list.
func objects(v lenient.Value) []lenient.Value {
	items := v.Array()
	for _, it := range items {
		if it.Kind() != lenient.KindObject {
			it.Fail(lenient.NotObject)
		}
	}
	return items
}

// raws returns the JSON text of values as AutoX3 sent them.
func raws(items []lenient.Value) []json.RawMessage {
	out := make([]json.RawMessage, len(items))
	for i, it := range items {
		out[i] = it.Raw()
	}
	return out
}

// content returns the content as a JSON object; a JSON string holding an
// object is accepted too, as AutoX3 double-encodes some contents.
func content(r *lenient.Reader, env *Envelope) lenient.Object {
	return contentObject(r.Value("content", env.Content))
}

// contentObject reads the content value c as a JSON object (see content).
func contentObject(c lenient.Value) lenient.Object {
	c = c.Unwrap()
	if c.Kind() != lenient.KindObject {
		c.Fail(lenient.NotObject)
	}
	return c.Object()
}

// envelope returns the message's top level as an object of r, with the
// envelope fields the event itself carries (msgId, msgType, createTime) and
// the signature marked as mapped. A decoder reads content and staffInfo from
// it, so any other top-level field lands in the record's extra.
//
// Every decoder follows the same steps (see decodeReception):
//
//	r := lenient.NewReader(&dialect)
//	root := envelope(r, body)
//	c := contentObject(root.Get("content"))  // content, or the JSON it holds as a string
//	staff := readStaff(root.Get("staffInfo").Object())
//	... read c; numbers with nonNegative, percent or miles (exact, warnings), dates with Value.Date ...
//	data.Extra, ev.Warnings = r.Extra(), r.Warnings()  // after r.Err() is nil
//
// A value the record keeps whole as received is either never read as an
// object (raws of a list) or marked with Object.Keep, so its fields are not
// listed again in extra.
func envelope(r *lenient.Reader, body []byte) lenient.Object {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil { // ParseEnvelope has read it as one object
		top = map[string]json.RawMessage{}
	}
	root := r.Object("", top)
	root.Use("msgId", "msgType", "createTime", "msgSignature")
	return root
}

// readStaff reads the envelope's staffInfo, the staff member the message is
// about; an absent staffInfo gives empty fields.
func readStaff(o lenient.Object) Staff {
	return Staff{
		StaffID:   o.Get("staffId").Int().Ptr(),
		StoreID:   o.Get("storeId").Int().Ptr(),
		BrandID:   o.Get("brandId").Int().Ptr(),
		StaffName: o.Get("staffName").String(),
		Mobile:    o.Get("mobile").String(),
		AreaCode:  o.Get("areaCode").String(),
	}
}

func decodeReception(env *Envelope, body []byte, ev *vendors.Event) error {
	r := lenient.NewReader(&dialect)
	root := envelope(r, body)
	c := contentObject(root.Get("content"))
	rb := requiredID(c.Get("receiveBaseId"))
	car := c.Get("carInfo").Object()
	pre := c.Get("preCheckInfo").Object()
	op := c.Get("staffInfo").Object()
	staff := root.Get("staffInfo").Object()

	o := ReceptionOrder{
		ReceiveBaseID: rb,
		Car: Car{
			Brand:          car.Get("carBrandName").String(),
			Style:          car.Get("carStyleName").String(),
			Plate:          car.Get("carNum").String(),
			VIN:            car.Get("carVin").String(),
			OwnerFirstName: car.Get("carOwnerFirstName").String(),
			OwnerLastName:  car.Get("carOwnerLastName").String(),
			OwnerGender:    car.Get("carOwnerGender").String(),
			OwnerMobile:    car.Get("carOwnerMobile").String(),
			ProductionDate: car.Get("carProductionDate").Date(lenient.EpochMillis),
		},
		Operator: Operator{
			StoreID:  op.Get("storeId").Int().Ptr(),
			UserID:   op.Get("userId").Int().Ptr(),
			BrandID:  op.Get("brandId").Int().Ptr(),
			UserName: op.Get("userName").String(),
			Mobile:   op.Get("mobile").String(),
			AreaCode: op.Get("areaCode").String(),
		},
		Staff: readStaff(staff),
	}
	odometer := miles(pre.Get("odograph"))
	oil := percent(pre.Get("oilGauge"))
	o.PreCheck = PreCheck{
		Odometer:      decimalText(odometer),
		OilGauge:      decimalText(oil),
		Remark:        pre.Get("remark").String(),
		WarningLights: []WarningLight{},
		PaintDamages:  []PaintDamage{},
		PersonalItems: texts(pre.Get("personalItemList")),
	}
	for _, text := range texts(pre.Get("lightInfo")) {
		o.PreCheck.WarningLights = append(o.PreCheck.WarningLights, parseWarningLight(text))
	}
	for _, p := range pre.Get("paintsInfo").Objects() {
		o.PreCheck.PaintDamages = append(o.PreCheck.PaintDamages, PaintDamage{
			Position:     p.Get("position").String(),
			PositionName: p.Get("positionName").String(),
			Describe:     p.Get("describe").String(),
			Images:       texts(p.Get("images")),
		})
	}
	if err := r.Err(); err != nil {
		return err
	}
	o.Extra, ev.Warnings = r.Extra(), r.Warnings()
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

func decodeReport(env *Envelope, body []byte, ev *vendors.Event) error {
	r := lenient.NewReader(&dialect)
	root := envelope(r, body)
	c := contentObject(root.Get("content"))
	rep := InspectionReport{
		ReceiveBaseID: requiredID(c.Get("receiveBaseId")),
		Plate:         c.Get("carNum").String(),
		Staff:         readStaff(root.Get("staffInfo").Object()),
	}
	pct := percent(percentValue(r, c.Get("detectionPercentage")))
	rep.DetectionPercentage = decimalText(pct)
	report := c.Get("reportJson").Unwrap().Object()
	rep.WorkBaseStatus = report.Get("workBaseStatus").String()
	if plate := report.Get("carNum").String(); rep.Plate == "" {
		rep.Plate = plate
	}
	rep.ServiceBaseName = report.Get("serviceBaseName").String()
	rep.Items = raws(objects(report.Get("list")))
	if err := r.Err(); err != nil {
		return err
	}
	rep.Extra, ev.Warnings = r.Extra(), r.Warnings()
	ev.Kind, ev.ExternalID, ev.Data = KindInspectionReport, strconv.FormatInt(rep.ReceiveBaseID, 10), rep
	ev.Tables = reportTables(reportRow(env, rep, pct))
	return nil
}

// percentValue drops a trailing "%" from a percentage sent as text.
func percentValue(r *lenient.Reader, v lenient.Value) lenient.Value {
	var s string
	if v.Kind() != lenient.KindString || json.Unmarshal(v.Raw(), &s) != nil {
		return v
	}
	if t := strings.TrimSpace(s); strings.HasSuffix(t, "%") {
		return r.Value(v.Path(), json.RawMessage(jsonString(strings.TrimSuffix(t, "%"))))
	}
	return v
}

// compactJSON returns the compact text of a list of JSON values ("[]" for none).
func compactJSON(items []json.RawMessage) string {
	if items == nil {
		items = []json.RawMessage{}
	}
	b, err := json.Marshal(items)
	if err != nil { // items were validated as JSON when decoded
		return "[]"
	}
	return string(b)
}

// compactOne returns the compact text of one JSON value.
func compactOne(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil { // raw was validated when decoded
		return string(raw)
	}
	return b.String()
}

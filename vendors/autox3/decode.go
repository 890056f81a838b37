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

// miles reads a non-negative distance that fits DECIMAL(12,1), rounded to one place.
func miles(v lenient.Value) *decimal.Decimal {
	d := nonNegative(v, 1)
	if d != nil && !d.LessThan(decimal.New(1, milesLimitExp)) {
		v.Invalid("must be less than %s", decimal.New(1, milesLimitExp))
		return nil
	}
	return d
}

// percent reads a percentage from 0 to 100, rounded to places.
func percent(v lenient.Value, places int32) *decimal.Decimal {
	d := nonNegative(v, places)
	if d != nil && d.GreaterThan(decimal.NewFromInt(percentLimit)) {
		v.Invalid("must be between 0 and %d", percentLimit)
		return nil
	}
	return d
}

// nonNegative reads a decimal that must not be negative, rounded to places.
// This is the one place AutoX3 values are rounded: to the scale of their
// DECIMAL columns, until those columns keep the values exactly.
func nonNegative(v lenient.Value, places int32) *decimal.Decimal {
	d := v.Decimal()
	if !d.Valid {
		return nil
	}
	if d.Value.IsNegative() {
		v.Invalid("must not be negative")
		return nil
	}
	rounded := d.Value.Round(places)
	return &rounded
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
func texts(v lenient.Value, max int) []string {
	out := []string{}
	for _, it := range v.Array() {
		if !it.Absent() {
			out = append(out, it.String(max))
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
	c := r.Value("content", env.Content).Unwrap()
	if c.Kind() != lenient.KindObject {
		c.Fail(lenient.NotObject)
	}
	return c.Object()
}

func decodeReception(env *Envelope, ev *vendors.Event) error {
	r := lenient.NewReader(&dialect)
	c := content(r, env)
	rb := requiredID(c.Get("receiveBaseId"))
	car := c.Get("carInfo").Object()
	pre := c.Get("preCheckInfo").Object()
	op := c.Get("staffInfo").Object()
	staff := r.Value("staffInfo", env.StaffInfo).Object()

	o := ReceptionOrder{
		ReceiveBaseID: rb,
		Car: Car{
			Brand:          car.Get("carBrandName").String(maxName),
			Style:          car.Get("carStyleName").String(maxLong),
			Plate:          car.Get("carNum").String(maxShort),
			VIN:            car.Get("carVin").String(maxShort),
			OwnerFirstName: car.Get("carOwnerFirstName").String(maxName),
			OwnerLastName:  car.Get("carOwnerLastName").String(maxName),
			OwnerGender:    car.Get("carOwnerGender").String(maxGender),
			OwnerMobile:    car.Get("carOwnerMobile").String(maxShort),
			ProductionDate: car.Get("carProductionDate").Time(lenient.EpochMillis).UTC(),
		},
		Operator: Operator{
			StoreID:  op.Get("storeId").Int().Ptr(),
			UserID:   op.Get("userId").Int().Ptr(),
			BrandID:  op.Get("brandId").Int().Ptr(),
			UserName: op.Get("userName").String(maxName),
			Mobile:   op.Get("mobile").String(maxShort),
			AreaCode: op.Get("areaCode").String(maxAreaCode),
		},
		Staff: Staff{
			StaffID: staff.Get("staffId").Int().Ptr(),
			StoreID: staff.Get("storeId").Int().Ptr(),
			BrandID: staff.Get("brandId").Int().Ptr(),
		},
	}
	odometer := miles(pre.Get("odograph"))
	oil := percent(pre.Get("oilGauge"), 1)
	o.PreCheck = PreCheck{
		Odometer:      decimalText(odometer),
		OilGauge:      decimalText(oil),
		Remark:        pre.Get("remark").String(maxText),
		WarningLights: []WarningLight{},
		PaintDamages:  []PaintDamage{},
		PersonalItems: texts(pre.Get("personalItemList"), maxText),
	}
	for _, text := range texts(pre.Get("lightInfo"), maxLong) {
		o.PreCheck.WarningLights = append(o.PreCheck.WarningLights, parseWarningLight(text))
	}
	for _, p := range pre.Get("paintsInfo").Objects() {
		o.PreCheck.PaintDamages = append(o.PreCheck.PaintDamages, PaintDamage{
			Position:     p.Get("position").String(maxName),
			PositionName: p.Get("positionName").String(maxLong),
			Describe:     p.Get("describe").String(maxText),
			Images:       texts(p.Get("images"), maxText),
		})
	}
	if err := r.Err(); err != nil {
		return err
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
	r := lenient.NewReader(&dialect)
	c := content(r, env)
	rep := InspectionReport{
		ReceiveBaseID: requiredID(c.Get("receiveBaseId")),
		Plate:         c.Get("carNum").String(maxShort),
	}
	pct := percent(percentValue(r, c.Get("detectionPercentage")), 2)
	rep.DetectionPercentage = decimalText(pct)
	body := c.Get("reportJson").Unwrap().Object()
	rep.WorkBaseStatus = body.Get("workBaseStatus").String(maxShort)
	if plate := body.Get("carNum").String(maxShort); rep.Plate == "" {
		rep.Plate = plate
	}
	rep.ServiceBaseName = body.Get("serviceBaseName").String(maxLong)
	rep.Items = raws(objects(body.Get("list")))
	if err := r.Err(); err != nil {
		return err
	}
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

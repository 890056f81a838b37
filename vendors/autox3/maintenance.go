package autox3

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/vendors/lenient"
)

// Maintenance messages (detection.finish.maintenance and its v2) change the
// plans of one inspection order (the job) plan by plan: v2 items are ADD,
// MODIFY, FINISH or DELETE of one plan, and v1 lists the job's plans when
// the inspection finishes. So each plan is a record of its own, versioned by
// the createTime of the message that last changed it: a message is split into
// one event per plan (vendors.Event.Parts), and every plan converges to its
// newest state whatever order the messages arrive in, a deletion included.
//
// A plan is addressed by AutoX3's plan id wherever the message carries it,
// v1 or v2, and never by the message's receiveBaseId or inspectionOrderId,
// so the messages of one job address the same records whichever of those ids
// each carries. The documents give v1 items no id; a v1 item without one is
// addressed within its inspection order by its service (serviceBaseSn, else
// serviceBaseName), else by its place in the list.

// Record kinds of maintenance messages.
const (
	// KindMaintenancePlanItem is one maintenance plan, by AutoX3's plan id.
	KindMaintenancePlanItem = "maintenance_plan_item"
	// KindMaintenanceJob is what a v1 message says of the whole inspection
	// order besides its plans (plate, work procedure questions, the plans it
	// listed), by inspection order id.
	KindMaintenanceJob = "maintenance_job"
	// KindMaintenanceMessage names a maintenance message itself, split into
	// its plans: it is applied to no record.
	KindMaintenanceMessage = "maintenance_message"
)

// Plan sources: which message format set a plan's state.
const (
	PlanSourceV1 = "v1"
	PlanSourceV2 = "v2"
)

// Actions of a v2 plan item.
const (
	ActionAdd    = "ADD"
	ActionModify = "MODIFY"
	ActionFinish = "FINISH"
	ActionDelete = "DELETE"
)

// jobPartKey is the part key of a v1 message's job record; plan ids are
// prefixed so that no plan id can take it.
const (
	jobPartKey    = "job"
	planPartKey   = "plan:"
	maxPlanIDText = 128 // the external id column
)

// Plan is the newest state of one maintenance plan, the ERP's "data" of a
// maintenance_plan_item record.
type Plan struct {
	// PlanID is AutoX3's plan id as sent; "" for a v1 item without one.
	// The record's external id is the plan id too when it is printable
	// ASCII of at most 128 characters (see recordID).
	PlanID string `json:"plan_id"`
	Source string `json:"source"` // "v1" or "v2": the message format that set this state
	// Action is the v2 change that set this state (ADD, MODIFY, FINISH,
	// DELETE); "" for v1.
	Action string `json:"action"`
	// Deleted is true once AutoX3 deleted the plan (v2 DELETE): the ERP
	// receives the deletion as the plan's newest state.
	Deleted            bool            `json:"deleted"`
	InspectionOrderID  string          `json:"inspection_order_id"` // the job
	ReceiveBaseID      *int64          `json:"receive_base_id"`     // null when the message did not say
	CurrentMiles       *string         `json:"current_miles"`       // km, decimal text
	NextReplaceCycleKm *string         `json:"next_replace_cycle_km"`
	PerMiles           *string         `json:"per_miles"`
	ReductionType      string          `json:"reduction_type"` // MILE, TIME or empty
	ServiceBaseName    string          `json:"service_base_name"`
	ServiceBaseSn      string          `json:"service_base_sn"`
	WarningDate        models.Date     `json:"warning_date"` // a calendar date, YYYY-MM-DD in AutoX3's zone
	Checkpoints        json.RawMessage `json:"checkpoints"`  // JSON array as given
	Staff              Staff           `json:"staff"`        // the envelope's staffInfo
	// Extra holds the fields of the plan's item and of the message's
	// envelope that no field above maps, by path in the message, as sent.
	Extra lenient.Extra `json:"extra"`

	row      models.AutoX3MaintenancePlan
	recordID string
	path     string // the item's path in the message, for its extra
}

// MaintenanceJob is what a v1 message says of its inspection order besides
// the plans, the ERP's "data" of a maintenance_job record.
type MaintenanceJob struct {
	InspectionOrderID      string            `json:"inspection_order_id"`
	ReceiveBaseID          *int64            `json:"receive_base_id"`
	Plate                  string            `json:"plate"`
	PlanIDs                []string          `json:"plan_ids"`                 // external ids of the plans it listed, each a maintenance_plan_item
	WorkProcedureQuestions []json.RawMessage `json:"work_procedure_questions"` // as AutoX3 sent them
	Staff                  Staff             `json:"staff"`                    // the envelope's staffInfo
	// Extra holds the message's fields outside its plan items that no field
	// above maps, by path, as sent (each plan's own are in its record).
	Extra lenient.Extra `json:"extra"`
}

// MaintenanceMessage is the data of a maintenance message kept as a whole
// (the inbound row): which plans it changed.
type MaintenanceMessage struct {
	Format  string   `json:"format"`   // "v1" or "v2"
	PlanIDs []string `json:"plan_ids"` // external ids of the plans it changed
}

// decodeMaintenance splits a v1 message into its job and one part per plan.
func decodeMaintenance(env *Envelope, body []byte, ev *vendors.Event) error {
	r := lenient.NewReader(&dialect)
	root := envelope(r, body)
	c := contentObject(root.Get("content"))
	staff := readStaff(root.Get("staffInfo").Object())
	items := objects(c.Get("carMaintenancePlanList"))
	job := MaintenanceJob{
		InspectionOrderID:      c.Get("inspectionOrderId").ID(maxIDLen),
		ReceiveBaseID:          optionalID(c.Get("receiveBaseId")),
		Plate:                  c.Get("carNum").String(),
		PlanIDs:                []string{},
		WorkProcedureQuestions: raws(objects(c.Get("workProcedureQuestionList"))),
		Staff:                  staff,
	}
	plans := make([]Plan, 0, len(items))
	for _, v := range items {
		p := readPlan(v, v.Object(), PlanSourceV1, job.ReceiveBaseID, staff)
		if r.Err() != nil {
			break
		}
		if job.InspectionOrderID == "" {
			job.InspectionOrderID = p.InspectionOrderID
		}
		plans = append(plans, p)
	}
	if err := r.Err(); err != nil {
		return err
	}
	jobID := recordID("", job.InspectionOrderID)
	switch {
	case job.InspectionOrderID != "":
	case job.ReceiveBaseID != nil:
		// No inspection order named: the reception order is all there is.
		jobID = "receive-base:" + strconv.FormatInt(*job.ReceiveBaseID, 10)
	default:
		jobID = recordID("message:", env.MsgID)
	}
	for i := range plans {
		if plans[i].recordID == "" {
			plans[i].recordID = v1PlanID(plans[i], jobID, i)
		}
	}
	job.Extra = splitExtra(r.Extra(), plans)
	ev.Warnings = r.Warnings()
	plans = lastPerPlan(plans)
	for _, p := range plans {
		job.PlanIDs = append(job.PlanIDs, p.recordID)
	}
	at := time.UnixMilli(env.CreateTime).UTC()
	ev.Kind, ev.ExternalID = KindMaintenanceMessage, env.MsgID
	ev.Data = MaintenanceMessage{Format: PlanSourceV1, PlanIDs: job.PlanIDs}
	ev.Parts = append(ev.Parts, vendors.Part{Key: jobPartKey, Kind: KindMaintenanceJob, ExternalID: jobID,
		Version: env.CreateTime, OccurredAt: at, Data: job, Tables: jobTables(env, jobID, job)})
	ev.Parts = append(ev.Parts, planParts(env, plans)...)
	return nil
}

// decodeMaintenanceV2 splits a v2 message into one part per plan it changes.
func decodeMaintenanceV2(env *Envelope, body []byte, ev *vendors.Event) error {
	r := lenient.NewReader(&dialect)
	root := envelope(r, body)
	staff := readStaff(root.Get("staffInfo").Object())
	wrapper, items := planItems(r, root.Get("content"))
	receiveBaseID := optionalID(wrapper.Get("receiveBaseId"))
	inspectionOrderID := wrapper.Get("inspectionOrderId").ID(maxIDLen)
	plans := make([]Plan, 0, len(items))
	for _, v := range items {
		if v.Kind() != lenient.KindObject {
			v.Fail(lenient.NotObject)
		}
		p := readPlan(v, v.Object(), PlanSourceV2, receiveBaseID, staff)
		if r.Err() != nil {
			break
		}
		if p.InspectionOrderID == "" {
			p.InspectionOrderID = inspectionOrderID
			p.row.InspectionOrderID = inspectionOrderID
		}
		plans = append(plans, p)
	}
	if err := r.Err(); err != nil {
		return err
	}
	splitExtra(r.Extra(), plans)
	ev.Warnings = r.Warnings()
	plans = lastPerPlan(plans)
	if len(plans) == 0 {
		// Nothing to apply: kept raw and sent as it came, like a message of an unknown type.
		ev.Kind, ev.ExternalID, ev.Generic = KindEvent, env.MsgID, true
		ev.Data = GenericEvent{MsgType: env.MsgType, Content: env.Content, StaffInfo: env.StaffInfo}
		return nil
	}
	ids := make([]string, len(plans))
	for i, p := range plans {
		ids[i] = p.recordID
	}
	ev.Kind, ev.ExternalID = KindMaintenanceMessage, env.MsgID
	ev.Data = MaintenanceMessage{Format: PlanSourceV2, PlanIDs: ids}
	ev.Parts = planParts(env, plans)
	return nil
}

// planItems finds the v2 plan items: the content may be the list itself, an
// object holding it, or a single item.
func planItems(r *lenient.Reader, content lenient.Value) (lenient.Object, []lenient.Value) {
	root := content.Unwrap()
	none := r.Object("content", nil)
	if r.Err() != nil {
		return none, nil
	}
	switch root.Kind() {
	case lenient.KindArray:
		return none, root.Array()
	case lenient.KindObject:
	default:
		root.Invalid("must hold a JSON array of plan items or an object holding one")
		return none, nil
	}
	wrapper := root.Object()
	if wrapper.Has("action") {
		return none, []lenient.Value{root}
	}
	// The documentation does not say under which name AutoX3 puts the list.
	for _, k := range []string{"list", "carMaintenancePlanList", "maintenancePlanList", "planList", "items", "data"} {
		if v := wrapper.Get(k); v.Kind() == lenient.KindArray {
			return wrapper, v.Array()
		}
	}
	var found []lenient.Value
	var count int
	for _, k := range wrapper.Keys() {
		if v := wrapper.Get(k); v.Kind() == lenient.KindArray {
			found, count = v.Array(), count+1
		}
	}
	if count != 1 {
		root.Invalid("holds no list of plan items")
		return none, nil
	}
	return wrapper, found
}

// readPlan reads one plan item, the object o of the value v. A v2 item
// needs its action and id; a v1 item has neither in the documents.
func readPlan(v lenient.Value, o lenient.Object, source string, receiveBaseID *int64, staff Staff) Plan {
	p := Plan{Source: source, Staff: staff, path: o.Path()}
	action := o.Get("action")
	p.Action = strings.ToUpper(strings.TrimSpace(action.String()))
	switch p.Action {
	case ActionAdd, ActionModify, ActionFinish, ActionDelete:
	case "":
		if source == PlanSourceV2 {
			action.Invalid("is required")
		}
	default:
		action.Invalid("must be one of ADD, MODIFY, FINISH, DELETE")
	}
	p.Deleted = p.Action == ActionDelete
	p.PlanID = o.Get("id").ID(maxPlanIDText)
	if p.PlanID == "" && source == PlanSourceV2 {
		o.Get("id").Invalid("is required")
	}
	if p.PlanID != "" {
		p.recordID = recordID("", p.PlanID)
	}
	p.InspectionOrderID = o.Get("inspectionOrderId").ID(maxIDLen)
	p.ReceiveBaseID = optionalID(o.Get("receiveBaseId"))
	if p.ReceiveBaseID == nil {
		p.ReceiveBaseID = receiveBaseID
	}

	current, next, per := miles(o.Get("currentMiles")), miles(o.Get("nextReplaceCycleKm")), miles(o.Get("perMiles"))
	p.CurrentMiles, p.NextReplaceCycleKm, p.PerMiles = decimalText(current), decimalText(next), decimalText(per)

	rt := o.Get("reductionType")
	p.ReductionType = strings.ToUpper(strings.TrimSpace(rt.String()))
	if p.ReductionType != "" && p.ReductionType != "MILE" && p.ReductionType != "TIME" {
		rt.Invalid("must be MILE or TIME")
	}
	p.ServiceBaseName = o.Get("serviceBaseName").String()
	p.ServiceBaseSn = o.Get("serviceBaseSn").String()
	// A calendar date in AutoX3's zone, whatever form it came in.
	p.WarningDate = o.Get("warningDate").Date(anyTime)
	checkpoints := compactJSON(raws(o.Get("checkpointList").Unwrap().Array()))
	p.Checkpoints = json.RawMessage(checkpoints)

	p.row = models.AutoX3MaintenancePlan{
		Source: source, Action: p.Action, InspectionOrderID: p.InspectionOrderID, ReceiveBaseID: p.ReceiveBaseID,
		CurrentMiles: current, NextReplaceCycleKm: next, PerMiles: per, ReductionType: p.ReductionType,
		ServiceBaseName: p.ServiceBaseName, ServiceBaseSn: p.ServiceBaseSn, WarningDate: p.WarningDate,
		Checkpoints: checkpoints, Item: compactOne(v.Raw()), Deleted: p.Deleted,
	}
	return p
}

// v1PlanID addresses a v1 plan item that carries no plan id: by its
// inspection order (else the job) and service, else its place in the list.
func v1PlanID(p Plan, jobID string, index int) string {
	if p.InspectionOrderID != "" {
		jobID = recordID("", p.InspectionOrderID)
	}
	switch {
	case p.ServiceBaseSn != "":
		return recordID(jobID+"/", p.ServiceBaseSn)
	case p.ServiceBaseName != "":
		return recordID(jobID+"/", p.ServiceBaseName)
	default:
		return recordID(jobID+"/#", strconv.Itoa(index))
	}
}

// recordID is prefix+rest as a record's external id when it is printable
// ASCII without spaces and fits the column (maxPlanIDText): it becomes part
// of workflow ids, which travel in gRPC headers. Otherwise rest (else the
// whole) is replaced by "~" and a digest of it, the same for the same text.
func recordID(prefix, rest string) string {
	id := prefix + rest
	if len(id) <= maxPlanIDText && strings.IndexFunc(id, func(r rune) bool { return r <= ' ' || r > '~' }) < 0 {
		return id
	}
	sum := sha256.Sum256([]byte(rest))
	if id = prefix + "~" + hex.EncodeToString(sum[:16]); len(id) <= maxPlanIDText {
		return id
	}
	sum = sha256.Sum256([]byte(prefix + rest))
	return "~" + hex.EncodeToString(sum[:16])
}

// splitExtra gives each plan the unmapped fields under its item and those
// of the envelope (outside every item), and returns the latter.
func splitExtra(all lenient.Extra, plans []Plan) lenient.Extra {
	outside := lenient.Extra{}
	for i := range plans {
		plans[i].Extra = lenient.Extra{}
	}
	for path, raw := range all {
		owner := -1
		for i, p := range plans {
			if p.path != "" && (path == p.path || strings.HasPrefix(path, p.path+".") || strings.HasPrefix(path, p.path+"[")) {
				owner = i
				break
			}
		}
		if owner >= 0 {
			plans[owner].Extra[path] = raw
		} else {
			outside[path] = raw
		}
	}
	for i := range plans {
		for path, raw := range outside {
			plans[i].Extra[path] = raw
		}
	}
	return outside
}

// lastPerPlan keeps one item per plan: when a message names a plan twice,
// its later item wins, in the place of the first.
func lastPerPlan(plans []Plan) []Plan {
	at := make(map[string]int, len(plans))
	out := make([]Plan, 0, len(plans))
	for _, p := range plans {
		if i, seen := at[p.recordID]; seen {
			out[i] = p
			continue
		}
		at[p.recordID] = len(out)
		out = append(out, p)
	}
	return out
}

// planParts makes each plan a part of the message: its record, versioned by
// the message's createTime, and its row.
func planParts(env *Envelope, plans []Plan) []vendors.Part {
	at := time.UnixMilli(env.CreateTime).UTC()
	parts := make([]vendors.Part, len(plans))
	for i, p := range plans {
		row := p.row
		row.ID, row.RecordID = p.recordID, p.recordID
		row.MsgID, row.Version, row.UpdatedTime = env.MsgID, env.CreateTime, at
		parts[i] = vendors.Part{Key: planPartKey + p.recordID, Kind: KindMaintenancePlanItem, ExternalID: p.recordID,
			Version: env.CreateTime, OccurredAt: at, Data: p,
			Tables: []vendors.Table{{Model: &models.AutoX3MaintenancePlan{}, Match: map[string]any{"id": p.recordID},
				Rows: []models.AutoX3MaintenancePlan{row}}}}
	}
	return parts
}

// jobTables replace the job's row.
func jobTables(env *Envelope, jobID string, job MaintenanceJob) []vendors.Table {
	ids, _ := json.Marshal(job.PlanIDs)
	row := models.AutoX3MaintenanceJob{
		ID: jobID, InspectionOrderID: job.InspectionOrderID, ReceiveBaseID: job.ReceiveBaseID, CarPlate: job.Plate,
		PlanIDs: string(ids), Questions: compactJSON(job.WorkProcedureQuestions),
		MsgID: env.MsgID, Version: env.CreateTime, UpdatedTime: time.UnixMilli(env.CreateTime).UTC(),
	}
	return []vendors.Table{{Model: &models.AutoX3MaintenanceJob{}, Match: map[string]any{"id": jobID},
		Rows: []models.AutoX3MaintenanceJob{row}}}
}

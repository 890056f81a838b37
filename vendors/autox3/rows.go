package autox3

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/vendors"
)

// receptionSet is every row of one reception order.
type receptionSet struct {
	order    models.AutoX3ReceptionOrder
	lights   []models.AutoX3WarningLight
	damages  []models.AutoX3PaintDamage
	images   []models.AutoX3PaintDamageImage
	personal []models.AutoX3PersonalItem
}

func receptionRows(env *Envelope, o ReceptionOrder, odometer, oil *decimal.Decimal) receptionSet {
	id := o.ReceiveBaseID
	set := receptionSet{order: models.AutoX3ReceptionOrder{
		ReceiveBaseID:     id,
		MsgID:             env.MsgID,
		CarBrand:          o.Car.Brand,
		CarStyle:          o.Car.Style,
		CarPlate:          o.Car.Plate,
		CarVIN:            o.Car.VIN,
		OwnerFirstName:    o.Car.OwnerFirstName,
		OwnerLastName:     o.Car.OwnerLastName,
		OwnerGender:       o.Car.OwnerGender,
		OwnerMobile:       o.Car.OwnerMobile,
		CarProductionDate: o.Car.ProductionDate,
		Odometer:          odometer,
		OilGauge:          oil,
		Remark:            o.PreCheck.Remark,
		OperatorStoreID:   o.Operator.StoreID,
		OperatorUserID:    o.Operator.UserID,
		OperatorBrandID:   o.Operator.BrandID,
		OperatorUserName:  o.Operator.UserName,
		OperatorMobile:    o.Operator.Mobile,
		OperatorAreaCode:  o.Operator.AreaCode,
		AutoX3Staff:       staffRow(o.Staff),
		Version:           env.CreateTime,
		CreatedTime:       time.UnixMilli(env.CreateTime).UTC(),
	}}
	for i, l := range o.PreCheck.WarningLights {
		set.lights = append(set.lights, models.AutoX3WarningLight{ReceiveBaseID: id, Seq: i, Code: l.Code, Name: l.Name})
	}
	for i, d := range o.PreCheck.PaintDamages {
		set.damages = append(set.damages, models.AutoX3PaintDamage{
			ReceiveBaseID: id, Seq: i, Position: d.Position, PositionName: d.PositionName, Description: d.Describe,
		})
		for j, url := range d.Images {
			set.images = append(set.images, models.AutoX3PaintDamageImage{ReceiveBaseID: id, DamageSeq: i, Seq: j, URL: url})
		}
	}
	for i, name := range o.PreCheck.PersonalItems {
		set.personal = append(set.personal, models.AutoX3PersonalItem{ReceiveBaseID: id, Seq: i, Name: name})
	}
	return set
}

// tables are the reception order's rows, each table's rows of the order
// replaced, so an older state's lights, damages and items do not survive.
func (set receptionSet) tables() []vendors.Table {
	match := map[string]any{"receive_base_id": set.order.ReceiveBaseID}
	return []vendors.Table{
		{Model: &models.AutoX3ReceptionOrder{}, Match: match, Rows: []models.AutoX3ReceptionOrder{set.order}},
		{Model: &models.AutoX3WarningLight{}, Match: match, Rows: set.lights},
		{Model: &models.AutoX3PaintDamage{}, Match: match, Rows: set.damages},
		{Model: &models.AutoX3PaintDamageImage{}, Match: match, Rows: set.images},
		{Model: &models.AutoX3PersonalItem{}, Match: match, Rows: set.personal},
	}
}

func reportRow(env *Envelope, rep InspectionReport, pct *decimal.Decimal) models.AutoX3InspectionReport {
	return models.AutoX3InspectionReport{
		ReceiveBaseID:       rep.ReceiveBaseID,
		MsgID:               env.MsgID,
		CarPlate:            rep.Plate,
		DetectionPercentage: pct,
		WorkBaseStatus:      rep.WorkBaseStatus,
		ServiceBaseName:     rep.ServiceBaseName,
		Items:               compactJSON(rep.Items),
		AutoX3Staff:         staffRow(rep.Staff),
		Version:             env.CreateTime,
		ReportedAt:          time.UnixMilli(env.CreateTime).UTC(),
	}
}

// reportTables replace the report of its reception order.
func reportTables(row models.AutoX3InspectionReport) []vendors.Table {
	return []vendors.Table{{Model: &models.AutoX3InspectionReport{},
		Match: map[string]any{"receive_base_id": row.ReceiveBaseID}, Rows: []models.AutoX3InspectionReport{row}}}
}

// staffRow is the columns of the envelope's staffInfo.
func staffRow(s Staff) models.AutoX3Staff {
	return models.AutoX3Staff{
		StaffID:       s.StaffID,
		StaffStoreID:  s.StoreID,
		StaffBrandID:  s.BrandID,
		StaffName:     s.StaffName,
		StaffMobile:   s.Mobile,
		StaffAreaCode: s.AreaCode,
	}
}

package autox3

import (
	"fmt"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/erpbridge/erpbridge/models"
)

// batchSize keeps multi-row inserts well under SQLite's bound-variable limit.
const batchSize = 200

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
		StaffID:           o.Staff.StaffID,
		StaffStoreID:      o.Staff.StoreID,
		StaffBrandID:      o.Staff.BrandID,
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

// saveReception upserts the order and replaces its child rows, so an older
// state's lights, damages and items do not survive.
func saveReception(set receptionSet) func(tx *gorm.DB) error {
	return func(tx *gorm.DB) error {
		id := set.order.ReceiveBaseID
		order := set.order
		err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "receive_base_id"}},
			UpdateAll: true,
		}).Create(&order).Error
		if err != nil {
			return fmt.Errorf("save AutoX3 reception order %d: %w", id, err)
		}
		for _, m := range []any{
			&models.AutoX3WarningLight{}, &models.AutoX3PaintDamage{},
			&models.AutoX3PaintDamageImage{}, &models.AutoX3PersonalItem{},
		} {
			if err := clearRows(tx, m, "receive_base_id = ?", id); err != nil {
				return fmt.Errorf("clear older rows of AutoX3 reception order %d: %w", id, err)
			}
		}
		if err := insertAll(tx, set.lights); err != nil {
			return fmt.Errorf("save warning lights of AutoX3 reception order %d: %w", id, err)
		}
		if err := insertAll(tx, set.damages); err != nil {
			return fmt.Errorf("save paint damages of AutoX3 reception order %d: %w", id, err)
		}
		if err := insertAll(tx, set.images); err != nil {
			return fmt.Errorf("save paint damage images of AutoX3 reception order %d: %w", id, err)
		}
		if err := insertAll(tx, set.personal); err != nil {
			return fmt.Errorf("save personal items of AutoX3 reception order %d: %w", id, err)
		}
		return nil
	}
}

// clearRows deletes the rows matching where, and skips the DELETE when there
// are none: on MySQL a DELETE that matches nothing still takes a gap lock,
// which would make concurrent first saves of different records deadlock.
func clearRows(tx *gorm.DB, model any, where string, args ...any) error {
	var n int64
	if err := tx.Model(model).Where(where, args...).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	return tx.Where(where, args...).Delete(model).Error
}

// insertAll inserts a copy of rows (GORM may write back into what it is given).
func insertAll[T any](tx *gorm.DB, rows []T) error {
	if len(rows) == 0 {
		return nil
	}
	cp := append([]T(nil), rows...)
	return tx.CreateInBatches(&cp, batchSize).Error
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
		Version:             env.CreateTime,
		ReportedAt:          time.UnixMilli(env.CreateTime).UTC(),
	}
}

// saveReport upserts the report of its reception order.
func saveReport(row models.AutoX3InspectionReport) func(tx *gorm.DB) error {
	return func(tx *gorm.DB) error {
		r := row
		err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "receive_base_id"}},
			UpdateAll: true,
		}).Create(&r).Error
		if err != nil {
			return fmt.Errorf("save AutoX3 inspection report %d: %w", row.ReceiveBaseID, err)
		}
		return nil
	}
}

func maintenanceV1Rows(env *Envelope, recordID string, p MaintenancePlan, orderIDs []string) []models.AutoX3MaintenancePlan {
	rows := make([]models.AutoX3MaintenancePlan, 0, len(p.Plans))
	for i, item := range p.Plans {
		rows = append(rows, models.AutoX3MaintenancePlan{
			ID:                recordID + "#" + strconv.Itoa(i),
			Source:            models.AutoX3PlanV1,
			RecordID:          recordID,
			InspectionOrderID: orderIDs[i],
			ReceiveBaseID:     p.ReceiveBaseID,
			Checkpoints:       "[]",
			Item:              compactOne(item),
			MsgID:             env.MsgID,
			Version:           env.CreateTime,
			UpdatedTime:       time.UnixMilli(env.CreateTime).UTC(),
		})
	}
	return rows
}

// saveMaintenanceV1 replaces the record's v1 plan list.
func saveMaintenanceV1(recordID string, rows []models.AutoX3MaintenancePlan) func(tx *gorm.DB) error {
	return func(tx *gorm.DB) error {
		err := clearRows(tx, &models.AutoX3MaintenancePlan{}, "source = ? AND record_id = ?", models.AutoX3PlanV1, recordID)
		if err != nil {
			return fmt.Errorf("clear older AutoX3 maintenance plan of record %s: %w", recordID, err)
		}
		if err := insertAll(tx, rows); err != nil {
			return fmt.Errorf("save AutoX3 maintenance plan of record %s: %w", recordID, err)
		}
		return nil
	}
}

func maintenanceV2Rows(env *Envelope, recordID string, ch MaintenancePlanChange) []models.AutoX3MaintenancePlan {
	rows := make([]models.AutoX3MaintenancePlan, 0, len(ch.Items))
	for _, it := range ch.Items {
		rb := it.receiveBaseID
		if rb == nil {
			rb = ch.ReceiveBaseID
		}
		rows = append(rows, models.AutoX3MaintenancePlan{
			ID:                 it.ID,
			Source:             models.AutoX3PlanV2,
			RecordID:           recordID,
			Action:             it.Action,
			InspectionOrderID:  it.InspectionOrderID,
			ReceiveBaseID:      rb,
			CurrentMiles:       it.currentMiles,
			NextReplaceCycleKm: it.nextReplaceKm,
			PerMiles:           it.perMiles,
			ReductionType:      it.ReductionType,
			ServiceBaseName:    it.ServiceBaseName,
			ServiceBaseSn:      it.ServiceBaseSn,
			WarningDate:        it.WarningDate,
			Checkpoints:        it.checkpointText,
			Item:               compactOne(it.item),
			Deleted:            it.Action == ActionDelete,
			MsgID:              env.MsgID,
			Version:            env.CreateTime,
			UpdatedTime:        time.UnixMilli(env.CreateTime).UTC(),
		})
	}
	return rows
}

// saveMaintenanceV2 upserts each plan item by AutoX3's plan id, in message
// order, so a later item for the same plan wins. DELETE keeps the row,
// flagged deleted.
func saveMaintenanceV2(rows []models.AutoX3MaintenancePlan) func(tx *gorm.DB) error {
	return func(tx *gorm.DB) error {
		for _, row := range rows {
			r := row
			err := tx.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "id"}},
				UpdateAll: true,
			}).Create(&r).Error
			if err != nil {
				return fmt.Errorf("save AutoX3 maintenance plan item %s: %w", row.ID, err)
			}
		}
		return nil
	}
}

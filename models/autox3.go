package models

import (
	"time"

	"github.com/shopspring/decimal"
)

// autox3Models lists the AutoX3 tables for migration.
var autox3Models = []any{
	&AutoX3ReceptionOrder{},
	&AutoX3WarningLight{},
	&AutoX3PaintDamage{},
	&AutoX3PaintDamageImage{},
	&AutoX3PersonalItem{},
	&AutoX3InspectionReport{},
	&AutoX3MaintenancePlan{},
	&AutoX3MaintenanceJob{},
}

// AutoX3ReceptionOrder is the newest state of one AutoX3 vehicle reception
// order (接车单), keyed by AutoX3's receiveBaseId.
type AutoX3ReceptionOrder struct {
	ReceiveBaseID     int64            `gorm:"primaryKey;autoIncrement:false"`
	MsgID             string           `gorm:"size:128;not null"` // msgId of the callback this state came from
	CarBrand          string           `gorm:"type:mediumtext"`
	CarStyle          string           `gorm:"type:mediumtext"`
	CarPlate          string           `gorm:"size:64;not null"`
	CarVIN            string           `gorm:"column:car_vin;size:64;not null"`
	OwnerFirstName    string           `gorm:"type:mediumtext"`
	OwnerLastName     string           `gorm:"type:mediumtext"`
	OwnerGender       string           `gorm:"size:32;not null"`
	OwnerMobile       string           `gorm:"size:64;not null"`
	CarProductionDate Date             // a calendar date (DATE): the day in China AutoX3 sent
	Odometer          *decimal.Decimal `gorm:"type:decimal(65,30)"` // km on arrival, exactly as sent
	OilGauge          *decimal.Decimal `gorm:"type:decimal(65,30)"` // fuel level on arrival, percent, exactly as sent
	Remark            string           `gorm:"type:mediumtext"`
	// The operator is content.staffInfo: who created the reception order.
	OperatorStoreID  *int64
	OperatorUserID   *int64
	OperatorBrandID  *int64
	OperatorUserName string `gorm:"type:mediumtext"`
	OperatorMobile   string `gorm:"size:64;not null;default:''"`
	OperatorAreaCode string `gorm:"size:16;not null;default:''"`
	// The staff member is the envelope's staffInfo: whom the message is about.
	AutoX3Staff
	Version     int64     `gorm:"not null"` // createTime (epoch ms) of the callback
	CreatedTime time.Time `gorm:"not null"` // createTime as a time: when AutoX3 reported the order
}

// TableName names the table.
func (AutoX3ReceptionOrder) TableName() string { return "autox3_reception_orders" }

// AutoX3WarningLight is one dashboard warning light noted at reception, in the order AutoX3 listed it.
type AutoX3WarningLight struct {
	ReceiveBaseID int64  `gorm:"primaryKey;autoIncrement:false"`
	Seq           int    `gorm:"primaryKey;autoIncrement:false"`
	Code          *int   // the number before "_" in AutoX3's "20_发动机故障"; nil when absent
	Name          string `gorm:"type:mediumtext"`
}

// TableName names the table.
func (AutoX3WarningLight) TableName() string { return "autox3_warning_lights" }

// AutoX3PaintDamage is one paint or body damage noted at reception.
type AutoX3PaintDamage struct {
	ReceiveBaseID int64  `gorm:"primaryKey;autoIncrement:false"`
	Seq           int    `gorm:"primaryKey;autoIncrement:false"`
	Position      string `gorm:"size:128;not null"` // AutoX3 position code, e.g. sys_feature_0013_01
	PositionName  string `gorm:"type:mediumtext"`
	// Description is AutoX3's "describe" (DESCRIBE is a reserved word in MySQL).
	Description string `gorm:"type:mediumtext"`
}

// TableName names the table.
func (AutoX3PaintDamage) TableName() string { return "autox3_paint_damages" }

// AutoX3PaintDamageImage is one photo of a paint damage.
type AutoX3PaintDamageImage struct {
	ReceiveBaseID int64  `gorm:"primaryKey;autoIncrement:false"`
	DamageSeq     int    `gorm:"primaryKey;autoIncrement:false"`
	Seq           int    `gorm:"primaryKey;autoIncrement:false"`
	URL           string `gorm:"column:url;type:mediumtext;not null"`
}

// TableName names the table.
func (AutoX3PaintDamageImage) TableName() string { return "autox3_paint_damage_images" }

// AutoX3PersonalItem is one personal belonging left in the car at reception.
type AutoX3PersonalItem struct {
	ReceiveBaseID int64  `gorm:"primaryKey;autoIncrement:false"`
	Seq           int    `gorm:"primaryKey;autoIncrement:false"`
	Name          string `gorm:"type:mediumtext"`
}

// TableName names the table.
func (AutoX3PersonalItem) TableName() string { return "autox3_personal_items" }

// AutoX3InspectionReport is the newest published inspection (health-check)
// report of one reception order.
type AutoX3InspectionReport struct {
	ReceiveBaseID       int64            `gorm:"primaryKey;autoIncrement:false"`
	MsgID               string           `gorm:"size:128;not null"`
	CarPlate            string           `gorm:"size:64;not null"`
	DetectionPercentage *decimal.Decimal `gorm:"type:decimal(65,30)"` // exactly as sent, "%" dropped
	WorkBaseStatus      string           `gorm:"size:64;not null"`
	ServiceBaseName     string           `gorm:"type:mediumtext"`
	Items               string           `gorm:"type:mediumtext;not null"` // JSON array of the report's items as given
	// The staff member is the envelope's staffInfo.
	AutoX3Staff
	Version    int64     `gorm:"not null"`
	ReportedAt time.Time `gorm:"not null"`
}

// TableName names the table.
func (AutoX3InspectionReport) TableName() string { return "autox3_inspection_reports" }

// AutoX3Staff is the columns of an AutoX3 envelope's staffInfo, the staff
// member a message is about, in the table of every message that carries one.
type AutoX3Staff struct {
	StaffID       *int64
	StaffStoreID  *int64
	StaffBrandID  *int64
	StaffName     string `gorm:"type:mediumtext"`
	StaffMobile   string `gorm:"size:64;not null;default:''"`
	StaffAreaCode string `gorm:"size:16;not null;default:''"`
}

// Sources of an AutoX3MaintenancePlan row.
const (
	AutoX3PlanV1 = "v1" // one item of a detection.finish.maintenance list
	AutoX3PlanV2 = "v2" // one item of a detection.finish.maintenance.v2 message
)

// AutoX3MaintenancePlan is the newest state of one maintenance plan, keyed by
// AutoX3's plan id (a v1 item without one: "<inspection order>/<service>"),
// written by whichever message, v1 or v2, last changed the plan. A deleted
// plan keeps its row, flagged Deleted. Rows written before plans were
// records of their own are keyed "<record id>#<index>" (v1) and carry the
// record id of the message's job in RecordID.
type AutoX3MaintenancePlan struct {
	ID     string `gorm:"primaryKey;size:191"`
	Source string `gorm:"size:8;not null;index:ix_autox3_plan_record,priority:1"`
	// RecordID is the external id of the maintenance_plan record that wrote the row.
	RecordID           string           `gorm:"size:128;not null;index:ix_autox3_plan_record,priority:2"`
	Action             string           `gorm:"size:16;not null"` // ADD, MODIFY, FINISH or DELETE (v2); empty for v1
	InspectionOrderID  string           `gorm:"size:128;not null;index"`
	ReceiveBaseID      *int64           `gorm:"index"`
	CurrentMiles       *decimal.Decimal `gorm:"type:decimal(65,30)"` // km, exactly as sent
	NextReplaceCycleKm *decimal.Decimal `gorm:"type:decimal(65,30)"`
	PerMiles           *decimal.Decimal `gorm:"type:decimal(65,30)"`
	ReductionType      string           `gorm:"size:8;not null"` // MILE or TIME, or empty
	ServiceBaseName    string           `gorm:"type:mediumtext"`
	ServiceBaseSn      string           `gorm:"size:128;not null"`
	WarningDate        Date             // a calendar date (DATE): the day in China AutoX3 sent
	Checkpoints        string           `gorm:"type:mediumtext;not null"` // JSON array as given
	Item               string           `gorm:"type:mediumtext;not null"` // the whole item as given
	Deleted            bool             `gorm:"not null"`                 // AutoX3 sent DELETE for this plan
	MsgID              string           `gorm:"size:128;not null"`
	Version            int64            `gorm:"not null"`
	UpdatedTime        time.Time        `gorm:"not null"` // createTime of the callback that wrote the row
}

// TableName names the table.
func (AutoX3MaintenancePlan) TableName() string { return "autox3_maintenance_plans" }

// AutoX3MaintenanceJob is what the newest v1 maintenance message said of its
// inspection order besides the plans, keyed by inspection order id.
type AutoX3MaintenanceJob struct {
	ID                string    `gorm:"primaryKey;size:191"` // inspection order id (else "receive-base:<id>")
	InspectionOrderID string    `gorm:"size:128;not null;index"`
	ReceiveBaseID     *int64    `gorm:"index"`
	CarPlate          string    `gorm:"size:64;not null"`
	PlanIDs           string    `gorm:"type:mediumtext;not null"` // JSON array of the plan ids it listed
	Questions         string    `gorm:"type:mediumtext;not null"` // work procedure questions, JSON array as given
	MsgID             string    `gorm:"size:128;not null"`
	Version           int64     `gorm:"not null"`
	UpdatedTime       time.Time `gorm:"not null"` // createTime of the callback that wrote the row
}

// TableName names the table.
func (AutoX3MaintenanceJob) TableName() string { return "autox3_maintenance_jobs" }

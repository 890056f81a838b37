package models

import (
	"time"

	"github.com/shopspring/decimal"
)

// fenbeitongModels lists the Fenbeitong tables for migration.
var fenbeitongModels = []any{
	&FenbeitongOrder{},
	&FenbeitongCarOrder{},
	&FenbeitongPriceDetail{},
	&FenbeitongPriceSummary{},
	&FenbeitongPerson{},
	&FenbeitongCostAttribution{},
	&FenbeitongCostAttributionDetail{},
	&FenbeitongCostInfo{},
	&FenbeitongCostInfoGroup{},
	&FenbeitongCostInfoItem{},
	&FenbeitongNotifier{},
	&FenbeitongThirdIDs{},
}

// Fenbeitong person roles in FenbeitongPerson.Role.
const (
	FenbeitongRoleOrderer   = "orderer"
	FenbeitongRolePassenger = "passenger"
)

// FenbeitongOrder is the newest known state of any Fenbeitong order push,
// whatever its category: the key fields and the push as received.
type FenbeitongOrder struct {
	ID           uint64              `gorm:"primaryKey"`
	Category     int                 `gorm:"not null;uniqueIndex:ux_fbt_orders_order,priority:1"`
	OrderID      string              `gorm:"size:64;not null;uniqueIndex:ux_fbt_orders_order,priority:2"`
	CategoryName string              `gorm:"size:32;not null"`
	Kind         string              `gorm:"size:32;not null"`
	Status       *int64              // nil when the push has no status
	StatusName   string              `gorm:"type:mediumtext"`
	TotalPrice   decimal.NullDecimal `gorm:"type:decimal(65,30)"`
	CreateTime   *time.Time          // UTC
	Raw          string              `gorm:"type:mediumtext;not null"` // the push body as received
}

// TableName names the table.
func (FenbeitongOrder) TableName() string { return "fenbeitong_orders" }

// FenbeitongCarOrder is the order information of a car (用车) order.
// Times are UTC; money and distance are exact decimals (see DecimalType).
type FenbeitongCarOrder struct {
	ID                 uint64    `gorm:"primaryKey"`
	OrderID            string    `gorm:"size:64;not null;uniqueIndex"`
	OriginOrderID      string    `gorm:"size:128;not null;default:''"`
	SupplierOrderID    string    `gorm:"size:128;not null;default:''"`
	Status             int64     `gorm:"not null"`
	StatusName         string    `gorm:"type:mediumtext"`
	SupplierName       string    `gorm:"type:mediumtext"`
	TypeName           string    `gorm:"type:mediumtext"`
	OrderCategoryType  int       `gorm:"not null"`
	OrderCategoryName  string    `gorm:"type:mediumtext"`
	OrderOpType        *int64    // 10 forward, 20 reverse; nil when absent
	OrderOpTypeName    string    `gorm:"type:mediumtext"`
	CreateTime         time.Time `gorm:"not null"`
	PaymentTime        *time.Time
	DepartureTime      *time.Time
	ArrivalTime        *time.Time
	DepartureName      string `gorm:"type:mediumtext"`
	DepartureAddress   string `gorm:"type:mediumtext"`
	DepartureCityID    string `gorm:"size:128;not null;default:''"`
	DepartureCityName  string `gorm:"type:mediumtext"`
	ArrivalName        string `gorm:"type:mediumtext"`
	ArrivalAddress     string `gorm:"type:mediumtext"`
	ArrivalCityID      string `gorm:"size:128;not null;default:''"`
	ArrivalCityName    string `gorm:"type:mediumtext"`
	Sensitive          *bool
	IsExceed           *bool
	ExceedRemarkReason string              `gorm:"type:mediumtext"`
	ExceedRemarkDetail string              `gorm:"type:mediumtext"`
	ActualDistance     decimal.NullDecimal `gorm:"type:decimal(65,30)"`
	SaasIsExceed       *bool
	Remark             string `gorm:"type:mediumtext"` // text, or the JSON of an object remark
	CostCategory       string `gorm:"type:mediumtext"`
}

// TableName names the table.
func (FenbeitongCarOrder) TableName() string { return "fenbeitong_car_orders" }

// FenbeitongPriceDetail is one line of a car order's price_detail_info.
type FenbeitongPriceDetail struct {
	ID      uint64              `gorm:"primaryKey"`
	OrderID string              `gorm:"size:64;not null;uniqueIndex:ux_fbt_price_details_seq,priority:1"`
	Seq     int                 `gorm:"not null;uniqueIndex:ux_fbt_price_details_seq,priority:2"`
	Name    string              `gorm:"type:mediumtext"`
	Amount  decimal.NullDecimal `gorm:"type:decimal(65,30)"`
	Type    string              `gorm:"size:128;not null;default:''"`
}

// TableName names the table.
func (FenbeitongPriceDetail) TableName() string { return "fenbeitong_price_details" }

// FenbeitongPriceSummary is a car order's price_info.
type FenbeitongPriceSummary struct {
	ID               uint64              `gorm:"primaryKey"`
	OrderID          string              `gorm:"size:64;not null;uniqueIndex"`
	TotalPrice       decimal.NullDecimal `gorm:"type:decimal(65,30)"`
	PersonalTotalPay decimal.NullDecimal `gorm:"type:decimal(65,30)"`
	RedEnvelope      decimal.NullDecimal `gorm:"type:decimal(65,30)"`
	CouponAmount     decimal.NullDecimal `gorm:"type:decimal(65,30)"`
}

// TableName names the table.
func (FenbeitongPriceSummary) TableName() string { return "fenbeitong_price_summaries" }

// FenbeitongPerson is the orderer (user_info) or the passenger of a car order.
type FenbeitongPerson struct {
	ID           uint64 `gorm:"primaryKey"`
	OrderID      string `gorm:"size:64;not null;uniqueIndex:ux_fbt_people_role,priority:1"`
	Role         string `gorm:"size:16;not null;uniqueIndex:ux_fbt_people_role,priority:2"` // orderer or passenger
	PersonID     string `gorm:"size:128;not null;default:''"`                               // user_info.id; empty for passengers
	Name         string `gorm:"type:mediumtext"`
	Phone        string `gorm:"size:64;not null;default:''"`
	UnitID       string `gorm:"size:128;not null;default:''"`
	UnitName     string `gorm:"type:mediumtext"`
	FullUnitName string `gorm:"type:mediumtext"`
}

// TableName names the table.
func (FenbeitongPerson) TableName() string { return "fenbeitong_people" }

// FenbeitongCostAttribution is one item of saas_info.cost_attribution_list.
type FenbeitongCostAttribution struct {
	ID        uint64 `gorm:"primaryKey"`
	OrderID   string `gorm:"size:64;not null;uniqueIndex:ux_fbt_cost_attributions_seq,priority:1"`
	Seq       int    `gorm:"not null;uniqueIndex:ux_fbt_cost_attributions_seq,priority:2"`
	Category  *int64 // 1 department, 2 project
	CostID    string `gorm:"size:128;not null;default:''"`
	CostName  string `gorm:"type:mediumtext"`
	CustomExt string `gorm:"type:mediumtext"` // JSON array of {"title","content"}
}

// TableName names the table.
func (FenbeitongCostAttribution) TableName() string { return "fenbeitong_cost_attributions" }

// FenbeitongCostAttributionDetail is one detail of the typed
// saas_info.cost_attribution form, with its group's type and archive.
type FenbeitongCostAttributionDetail struct {
	ID             uint64              `gorm:"primaryKey"`
	OrderID        string              `gorm:"size:64;not null;uniqueIndex:ux_fbt_cost_attr_details_seq,priority:1"`
	GroupSeq       int                 `gorm:"not null;uniqueIndex:ux_fbt_cost_attr_details_seq,priority:2"`
	Seq            int                 `gorm:"not null;uniqueIndex:ux_fbt_cost_attr_details_seq,priority:3"`
	Type           *int64              // 1 department, 2 project, 3 custom archive
	ArchiveID      string              `gorm:"size:128;not null;default:''"`
	ThirdArchiveID string              `gorm:"size:128;not null;default:''"`
	ArchiveName    string              `gorm:"type:mediumtext"`
	DetailID       string              `gorm:"size:128;not null;default:''"`
	ThirdID        string              `gorm:"size:128;not null;default:''"`
	Name           string              `gorm:"type:mediumtext"`
	Weight         decimal.NullDecimal `gorm:"type:decimal(65,30)"` // percent, exactly as sent
	Amount         decimal.NullDecimal `gorm:"type:decimal(65,30)"`
}

// TableName names the table.
func (FenbeitongCostAttributionDetail) TableName() string {
	return "fenbeitong_cost_attribution_details"
}

// FenbeitongCostInfo is one entry of saas_info.cost_info (an expense category
// with its amount).
type FenbeitongCostInfo struct {
	ID               uint64              `gorm:"primaryKey"`
	OrderID          string              `gorm:"size:64;not null;uniqueIndex:ux_fbt_cost_infos_seq,priority:1"`
	Seq              int                 `gorm:"not null;uniqueIndex:ux_fbt_cost_infos_seq,priority:2"`
	Amount           decimal.NullDecimal `gorm:"type:decimal(65,30)"`
	CostCategoryCode string              `gorm:"size:128;not null;default:''"`
	CostCategory     string              `gorm:"type:mediumtext"`
}

// TableName names the table.
func (FenbeitongCostInfo) TableName() string { return "fenbeitong_cost_infos" }

// FenbeitongCostInfoGroup is one costAttributionGroupList entry of a cost_info entry.
type FenbeitongCostInfoGroup struct {
	ID                   uint64 `gorm:"primaryKey"`
	OrderID              string `gorm:"size:64;not null;uniqueIndex:ux_fbt_cost_info_groups_seq,priority:1"`
	InfoSeq              int    `gorm:"not null;uniqueIndex:ux_fbt_cost_info_groups_seq,priority:2"`
	Seq                  int    `gorm:"not null;uniqueIndex:ux_fbt_cost_info_groups_seq,priority:3"`
	Category             string `gorm:"size:32;not null;default:''"` // 1 department, 2 project, 3 custom
	CategoryName         string `gorm:"type:mediumtext"`
	CostAttributionRange *int64
}

// TableName names the table.
func (FenbeitongCostInfoGroup) TableName() string { return "fenbeitong_cost_info_groups" }

// FenbeitongCostInfoItem is one costAttributionList item of a cost_info group.
type FenbeitongCostInfoItem struct {
	ID       uint64              `gorm:"primaryKey"`
	OrderID  string              `gorm:"size:64;not null;uniqueIndex:ux_fbt_cost_info_items_seq,priority:1"`
	InfoSeq  int                 `gorm:"not null;uniqueIndex:ux_fbt_cost_info_items_seq,priority:2"`
	GroupSeq int                 `gorm:"not null;uniqueIndex:ux_fbt_cost_info_items_seq,priority:3"`
	Seq      int                 `gorm:"not null;uniqueIndex:ux_fbt_cost_info_items_seq,priority:4"`
	ItemID   string              `gorm:"size:128;not null;default:''"`
	Code     string              `gorm:"size:128;not null;default:''"`
	Name     string              `gorm:"type:mediumtext"`
	FullName string              `gorm:"type:mediumtext"`
	Weight   decimal.NullDecimal `gorm:"type:decimal(65,30)"` // percent, exactly as sent
	Price    decimal.NullDecimal `gorm:"type:decimal(65,30)"`
}

// TableName names the table.
func (FenbeitongCostInfoItem) TableName() string { return "fenbeitong_cost_info_items" }

// FenbeitongNotifier is one item of saas_info.notifier_info.
type FenbeitongNotifier struct {
	ID              uint64 `gorm:"primaryKey"`
	OrderID         string `gorm:"size:64;not null;uniqueIndex:ux_fbt_notifiers_seq,priority:1"`
	Seq             int    `gorm:"not null;uniqueIndex:ux_fbt_notifiers_seq,priority:2"`
	NotifierID      string `gorm:"size:128;not null;default:''"`
	Name            string `gorm:"type:mediumtext"`
	Phone           string `gorm:"size:64;not null;default:''"`
	OrgUnitID       string `gorm:"size:128;not null;default:''"`
	OrgUnitName     string `gorm:"type:mediumtext"`
	OrgUnitFullName string `gorm:"type:mediumtext"`
}

// TableName names the table.
func (FenbeitongNotifier) TableName() string { return "fenbeitong_notifiers" }

// FenbeitongThirdIDs is a car order's third_info: the company's own ids.
type FenbeitongThirdIDs struct {
	ID              uint64 `gorm:"primaryKey"`
	OrderID         string `gorm:"size:64;not null;uniqueIndex"`
	UserID          string `gorm:"size:128;not null;default:''"`
	UnitID          string `gorm:"size:128;not null;default:''"`
	CostDeptID      string `gorm:"size:128;not null;default:''"`
	CostProjectID   string `gorm:"size:128;not null;default:''"`
	ApplyID         string `gorm:"size:128;not null;default:''"`
	PassengerUserID string `gorm:"size:128;not null;default:''"`
	PassengerUnitID string `gorm:"size:128;not null;default:''"`
}

// TableName names the table.
func (FenbeitongThirdIDs) TableName() string { return "fenbeitong_third_ids" }

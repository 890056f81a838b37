package fenbeitong

import (
	"encoding/json"
	"fmt"

	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/vendors/lenient"
)

// orderRow is the generic row every push of any category keeps.
func orderRow(p *Push, o *Order) models.FenbeitongOrder {
	return models.FenbeitongOrder{
		Category:     p.category,
		OrderID:      p.orderID,
		CategoryName: p.CategoryName(),
		Kind:         p.Kind(),
		Status:       o.Status.Ptr(),
		StatusName:   o.StatusName,
		TotalPrice:   o.TotalPrice.NullDecimal(),
		CreateTime:   o.CreateTime.UTC(),
		Raw:          string(p.rawJSON()),
	}
}

// orderTables are the rows of a push of a category without its own model.
func orderTables(p *Push, o *Order) []vendors.Table {
	return []vendors.Table{{
		Model: &models.FenbeitongOrder{},
		Match: map[string]any{"category": p.category, "order_id": p.orderID},
		Rows:  []models.FenbeitongOrder{orderRow(p, o)},
	}}
}

// carOrderTables are every row of a car order (and its generic row): each
// table's rows of the order are replaced by those of c.
func carOrderTables(p *Push, c *CarOrder) ([]vendors.Table, error) {
	id := c.OrderID
	generic := &Order{Status: lenient.Int{Value: c.Status, Valid: true}, StatusName: c.StatusName, CreateTime: c.CreateTime}
	if c.Price != nil {
		generic.TotalPrice = c.Price.TotalPrice
	}
	tables := orderTables(p, generic)
	byOrder := func(model, rows any) {
		tables = append(tables, vendors.Table{Model: model, Match: map[string]any{"order_id": id}, Rows: rows})
	}
	byOrder(&models.FenbeitongCarOrder{}, []models.FenbeitongCarOrder{{
		OrderID:            id,
		OriginOrderID:      c.OriginOrderID,
		SupplierOrderID:    c.SupplierOrderID,
		Status:             c.Status,
		StatusName:         c.StatusName,
		SupplierName:       c.SupplierName,
		TypeName:           c.TypeName,
		OrderCategoryType:  c.OrderCategoryType,
		OrderCategoryName:  c.OrderCategoryName,
		OrderOpType:        c.OrderOpType.Ptr(),
		OrderOpTypeName:    c.OrderOpTypeName,
		CreateTime:         c.CreateTime.Time.UTC(),
		PaymentTime:        c.PaymentTime.UTC(),
		DepartureTime:      c.DepartureTime.UTC(),
		ArrivalTime:        c.ArrivalTime.UTC(),
		DepartureName:      c.DepartureName,
		DepartureAddress:   c.DepartureAddress,
		DepartureCityID:    c.DepartureCityID,
		DepartureCityName:  c.DepartureCityName,
		ArrivalName:        c.ArrivalName,
		ArrivalAddress:     c.ArrivalAddress,
		ArrivalCityID:      c.ArrivalCityID,
		ArrivalCityName:    c.ArrivalCityName,
		Sensitive:          c.Sensitive.Ptr(),
		IsExceed:           c.IsExceed.Ptr(),
		ExceedRemarkReason: c.ExceedRemarkReason,
		ExceedRemarkDetail: c.ExceedRemarkDetail,
		ActualDistance:     c.ActualDistance.NullDecimal(),
		SaasIsExceed:       c.Saas.IsExceed.Ptr(),
		Remark:             c.Saas.Remark.Value,
		CostCategory:       c.Saas.CostCategory,
	}})

	var details []models.FenbeitongPriceDetail
	for i, d := range c.PriceDetails {
		details = append(details, models.FenbeitongPriceDetail{
			OrderID: id, Seq: i, Name: d.Name, Amount: d.Amount.NullDecimal(), Type: d.Type,
		})
	}
	byOrder(&models.FenbeitongPriceDetail{}, details)

	var summary []models.FenbeitongPriceSummary
	if c.Price != nil {
		summary = append(summary, models.FenbeitongPriceSummary{
			OrderID:          id,
			TotalPrice:       c.Price.TotalPrice.NullDecimal(),
			PersonalTotalPay: c.Price.PersonalTotalPay.NullDecimal(),
			RedEnvelope:      c.Price.RedEnvelope.NullDecimal(),
			CouponAmount:     c.Price.CouponAmount.NullDecimal(),
		})
	}
	byOrder(&models.FenbeitongPriceSummary{}, summary)

	var people []models.FenbeitongPerson
	for _, pr := range []struct {
		role   string
		person *Person
	}{{models.FenbeitongRoleOrderer, c.Orderer}, {models.FenbeitongRolePassenger, c.Passenger}} {
		if pr.person == nil {
			continue
		}
		people = append(people, models.FenbeitongPerson{
			OrderID: id, Role: pr.role, PersonID: pr.person.ID, Name: pr.person.Name,
			Phone: pr.person.Phone, UnitID: pr.person.UnitID, UnitName: pr.person.UnitName,
			FullUnitName: pr.person.FullUnitName,
		})
	}
	byOrder(&models.FenbeitongPerson{}, people)

	var attributions []models.FenbeitongCostAttribution
	for i, a := range c.Saas.CostAttributionList {
		ext, err := json.Marshal(customExtRows(a.CustomExt))
		if err != nil {
			return nil, fmt.Errorf("encode cost attribution custom fields: %w", err)
		}
		attributions = append(attributions, models.FenbeitongCostAttribution{
			OrderID: id, Seq: i, Category: a.Category.Ptr(), CostID: a.ID, CostName: a.Name,
			CustomExt: string(ext),
		})
	}
	byOrder(&models.FenbeitongCostAttribution{}, attributions)

	var attributionDetails []models.FenbeitongCostAttributionDetail
	for g, group := range c.Saas.CostAttribution {
		for i, d := range group.Details {
			attributionDetails = append(attributionDetails, models.FenbeitongCostAttributionDetail{
				OrderID: id, GroupSeq: g, Seq: i, Type: group.Type.Ptr(),
				ArchiveID: group.ArchiveID, ThirdArchiveID: group.ThirdArchiveID, ArchiveName: group.ArchiveName,
				DetailID: d.ID, ThirdID: d.ThirdID, Name: d.Name,
				Weight: d.Weight.NullDecimal(), Amount: d.Amount.NullDecimal(),
			})
		}
	}
	byOrder(&models.FenbeitongCostAttributionDetail{}, attributionDetails)

	var (
		infos  []models.FenbeitongCostInfo
		groups []models.FenbeitongCostInfoGroup
		items  []models.FenbeitongCostInfoItem
	)
	for i, info := range c.Saas.CostInfo {
		infos = append(infos, models.FenbeitongCostInfo{
			OrderID: id, Seq: i, Amount: info.Amount.NullDecimal(),
			CostCategoryCode: info.CostCategoryCode, CostCategory: info.CostCategory,
		})
		for g, group := range info.Groups {
			groups = append(groups, models.FenbeitongCostInfoGroup{
				OrderID: id, InfoSeq: i, Seq: g, Category: group.Category, CategoryName: group.CategoryName,
				CostAttributionRange: group.CostAttributionRange.Ptr(),
			})
			for k, it := range group.Items {
				items = append(items, models.FenbeitongCostInfoItem{
					OrderID: id, InfoSeq: i, GroupSeq: g, Seq: k,
					ItemID: it.ID, Code: it.Code, Name: it.Name, FullName: it.FullName,
					Weight: it.Weight.NullDecimal(), Price: it.Price.NullDecimal(),
				})
			}
		}
	}
	byOrder(&models.FenbeitongCostInfo{}, infos)
	byOrder(&models.FenbeitongCostInfoGroup{}, groups)
	byOrder(&models.FenbeitongCostInfoItem{}, items)

	var notifiers []models.FenbeitongNotifier
	for i, n := range c.Saas.NotifierInfo {
		notifiers = append(notifiers, models.FenbeitongNotifier{
			OrderID: id, Seq: i, NotifierID: n.ID, Name: n.Name, Phone: n.Phone,
			OrgUnitID: n.OrgUnitID, OrgUnitName: n.OrgUnitName, OrgUnitFullName: n.OrgUnitFullName,
		})
	}
	byOrder(&models.FenbeitongNotifier{}, notifiers)

	var third []models.FenbeitongThirdIDs
	if t := c.ThirdInfo; t != nil {
		third = append(third, models.FenbeitongThirdIDs{
			OrderID: id, UserID: t.UserID, UnitID: t.UnitID, CostDeptID: t.CostDeptID,
			CostProjectID: t.CostProjectID, ApplyID: t.ApplyID,
			PassengerUserID: t.PassengerUserID, PassengerUnitID: t.PassengerUnitID,
		})
	}
	byOrder(&models.FenbeitongThirdIDs{}, third)
	return tables, nil
}

// customField is the stored form of a cost attribution custom field.
type customField struct {
	Title   string `json:"title"`
	Content string `json:"content"`
}

func customExtRows(fields []CustomField) []customField {
	out := make([]customField, 0, len(fields))
	for _, f := range fields {
		out = append(out, customField(f))
	}
	return out
}

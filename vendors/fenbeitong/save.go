package fenbeitong

import (
	"encoding/json"
	"fmt"

	"gorm.io/gorm"

	"github.com/erpbridge/erpbridge/models"
)

// weightScale is the scale of the weight columns, DECIMAL(18,6).
const weightScale = 6

// saveOrder replaces the generic row of an order of any category.
func saveOrder(tx *gorm.DB, p *Push, o *Order) error {
	row := models.FenbeitongOrder{
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
	if err := tx.Where("category = ? AND order_id = ?", row.Category, row.OrderID).
		Delete(&models.FenbeitongOrder{}).Error; err != nil {
		return fmt.Errorf("delete fenbeitong order %s: %w", row.OrderID, err)
	}
	if err := tx.Create(&row).Error; err != nil {
		return fmt.Errorf("insert fenbeitong order %s: %w", row.OrderID, err)
	}
	return nil
}

// saveCarOrder replaces every row of a car order (and its generic row) with
// those of c: the rows of the older state are deleted by order id first, so
// running it twice leaves the same rows.
func saveCarOrder(tx *gorm.DB, p *Push, c *CarOrder) error {
	id := c.OrderID
	generic := &Order{Status: Int{Value: c.Status, Valid: true}, StatusName: c.StatusName, CreateTime: c.CreateTime}
	if c.Price != nil {
		generic.TotalPrice = c.Price.TotalPrice
	}
	if err := saveOrder(tx, p, generic); err != nil {
		return err
	}

	for _, model := range []any{
		&models.FenbeitongCarOrder{},
		&models.FenbeitongPriceDetail{},
		&models.FenbeitongPriceSummary{},
		&models.FenbeitongPerson{},
		&models.FenbeitongCostAttribution{},
		&models.FenbeitongCostAttributionDetail{},
		&models.FenbeitongCostInfo{},
		&models.FenbeitongCostInfoGroup{},
		&models.FenbeitongCostInfoItem{},
		&models.FenbeitongNotifier{},
		&models.FenbeitongThirdIDs{},
	} {
		if err := tx.Where("order_id = ?", id).Delete(model).Error; err != nil {
			return fmt.Errorf("delete older rows of fenbeitong car order %s: %w", id, err)
		}
	}

	rows, err := carOrderRows(c)
	if err != nil {
		return fmt.Errorf("build rows of fenbeitong car order %s: %w", id, err)
	}
	for _, r := range rows {
		if err := tx.Create(r).Error; err != nil {
			return fmt.Errorf("insert rows of fenbeitong car order %s: %w", id, err)
		}
	}
	return nil
}

// carOrderRows builds the rows of a car order; each element is a pointer to
// one row or to a non-empty slice of rows.
func carOrderRows(c *CarOrder) ([]any, error) {
	id := c.OrderID
	order := &models.FenbeitongCarOrder{
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
	}
	rows := []any{order}

	var details []models.FenbeitongPriceDetail
	for i, d := range c.PriceDetails {
		details = append(details, models.FenbeitongPriceDetail{
			OrderID: id, Seq: i, Name: d.Name, Amount: d.Amount.NullDecimal(), Type: d.Type,
		})
	}
	rows = appendRows(rows, details)

	if c.Price != nil {
		rows = append(rows, &models.FenbeitongPriceSummary{
			OrderID:          id,
			TotalPrice:       c.Price.TotalPrice.NullDecimal(),
			PersonalTotalPay: c.Price.PersonalTotalPay.NullDecimal(),
			RedEnvelope:      c.Price.RedEnvelope.NullDecimal(),
			CouponAmount:     c.Price.CouponAmount.NullDecimal(),
		})
	}

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
	rows = appendRows(rows, people)

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
	rows = appendRows(rows, attributions)

	var attributionDetails []models.FenbeitongCostAttributionDetail
	for g, group := range c.Saas.CostAttribution {
		for i, d := range group.Details {
			attributionDetails = append(attributionDetails, models.FenbeitongCostAttributionDetail{
				OrderID: id, GroupSeq: g, Seq: i, Type: group.Type.Ptr(),
				ArchiveID: group.ArchiveID, ThirdArchiveID: group.ThirdArchiveID, ArchiveName: group.ArchiveName,
				DetailID: d.ID, ThirdID: d.ThirdID, Name: d.Name,
				Weight: weightColumn(d.Weight).NullDecimal(), Amount: d.Amount.NullDecimal(),
			})
		}
	}
	rows = appendRows(rows, attributionDetails)

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
					Weight: weightColumn(it.Weight).NullDecimal(), Price: it.Price.NullDecimal(),
				})
			}
		}
	}
	rows = appendRows(rows, infos)
	rows = appendRows(rows, groups)
	rows = appendRows(rows, items)

	var notifiers []models.FenbeitongNotifier
	for i, n := range c.Saas.NotifierInfo {
		notifiers = append(notifiers, models.FenbeitongNotifier{
			OrderID: id, Seq: i, NotifierID: n.ID, Name: n.Name, Phone: n.Phone,
			OrgUnitID: n.OrgUnitID, OrgUnitName: n.OrgUnitName, OrgUnitFullName: n.OrgUnitFullName,
		})
	}
	rows = appendRows(rows, notifiers)

	if t := c.ThirdInfo; t != nil {
		rows = append(rows, &models.FenbeitongThirdIDs{
			OrderID: id, UserID: t.UserID, UnitID: t.UnitID, CostDeptID: t.CostDeptID,
			CostProjectID: t.CostProjectID, ApplyID: t.ApplyID,
			PassengerUserID: t.PassengerUserID, PassengerUnitID: t.PassengerUnitID,
		})
	}
	return rows, nil
}

// appendRows adds a slice of rows for one batch insert unless it is empty
// (GORM refuses to insert an empty slice).
func appendRows[T any](rows []any, batch []T) []any {
	if len(batch) == 0 {
		return rows
	}
	return append(rows, &batch)
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

// weightColumn rounds a percentage to the scale of its column.
func weightColumn(w Decimal) Decimal {
	if w.Valid {
		w.Value = w.Value.Round(weightScale)
	}
	return w
}

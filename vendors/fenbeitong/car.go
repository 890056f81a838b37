package fenbeitong

import (
	"math"
	"strconv"
)

// CarOrder is a car (用车) order push, validated and normalised: the ERP's
// data for the event. Keys are snake_case, money is decimal text ("14.16"),
// times are RFC 3339 in China Standard Time, and absent values are null.
type CarOrder struct {
	OrderID            string        `json:"order_id"`
	OriginOrderID      string        `json:"origin_order_id"`
	SupplierOrderID    string        `json:"supplier_order_id"`
	Status             int64         `json:"status"`
	StatusName         string        `json:"status_name"`
	StatusMeaning      string        `json:"status_meaning"` // from the status code table; "" when unknown
	SupplierName       string        `json:"supplier_name"`
	TypeName           string        `json:"type_name"`
	OrderCategoryType  int           `json:"order_category_type"`
	OrderCategoryName  string        `json:"order_category_name"`
	OrderOpType        Int           `json:"order_op_type"`
	OrderOpTypeName    string        `json:"order_op_type_name"`
	Direction          string        `json:"direction"` // "forward" (10), "reverse" (20) or ""
	CreateTime         ChinaTime     `json:"create_time"`
	PaymentTime        ChinaTime     `json:"payment_time"`
	DepartureTime      ChinaTime     `json:"departure_time"`
	ArrivalTime        ChinaTime     `json:"arrival_time"`
	DepartureName      string        `json:"departure_name"`
	DepartureAddress   string        `json:"departure_address"`
	DepartureCityID    string        `json:"departure_city_id"`
	DepartureCityName  string        `json:"departure_city_name"`
	ArrivalName        string        `json:"arrival_name"`
	ArrivalAddress     string        `json:"arrival_address"`
	ArrivalCityID      string        `json:"arrival_city_id"`
	ArrivalCityName    string        `json:"arrival_city_name"`
	Sensitive          Bool          `json:"sensitive"`
	IsExceed           Bool          `json:"is_exceed"`
	ExceedRemarkReason string        `json:"exceed_remark_reason"`
	ExceedRemarkDetail string        `json:"exceed_remark_detail"`
	ActualDistance     Decimal       `json:"actual_distance"`
	PriceDetails       []PriceDetail `json:"price_detail_info"`
	Price              *PriceSummary `json:"price_info"`
	Orderer            *Person       `json:"orderer"`
	Passenger          *Person       `json:"passenger"`
	Saas               SaasInfo      `json:"saas_info"`
	ThirdInfo          *ThirdInfo    `json:"third_info"`
}

// PriceDetail is one line of order_info.price_detail_info.
type PriceDetail struct {
	Name   string  `json:"name"`
	Amount Decimal `json:"amount"`
	Type   string  `json:"type"`
}

// PriceSummary is price_info.
type PriceSummary struct {
	TotalPrice       Decimal `json:"total_price"`
	PersonalTotalPay Decimal `json:"personal_total_pay"`
	RedEnvelope      Decimal `json:"red_envelope"`
	CouponAmount     Decimal `json:"coupon_amount"`
}

// Person is the orderer (user_info) or the passenger (passenger_info).
type Person struct {
	ID           string `json:"id"` // user_info.id; "" for the passenger
	Name         string `json:"name"`
	Phone        string `json:"phone"`
	UnitID       string `json:"unit_id"`
	UnitName     string `json:"unit_name"`
	FullUnitName string `json:"full_unit_name"`
}

// SaasInfo is saas_info: the company's controls on the order.
type SaasInfo struct {
	IsExceed            Bool                   `json:"is_exceed"`
	Remark              Text                   `json:"remark"` // a string, or an object such as {"remark":..,"remarkDetail":..}
	CostCategory        string                 `json:"cost_category"`
	CostAttributionList []CostAttribution      `json:"cost_attribution_list"`
	CostAttribution     []CostAttributionGroup `json:"cost_attribution"`
	CostInfo            []CostInfo             `json:"cost_info"` // always a list, even when sent as one object
	NotifierInfo        []Notifier             `json:"notifier_info"`
}

// CostAttribution is one item of saas_info.cost_attribution_list.
type CostAttribution struct {
	Category  Int           `json:"cost_attribution_category"` // 1 department, 2 project
	ID        string        `json:"cost_attribution_id"`
	Name      string        `json:"cost_attribution_name"`
	CustomExt []CustomField `json:"cost_attribution_custom_ext"`
}

// CustomField is one custom field of a cost attribution.
type CustomField struct {
	Title   string `json:"custom_field_title"`
	Content string `json:"custom_field_content"`
}

// CostAttributionGroup is one item of the typed saas_info.cost_attribution form.
type CostAttributionGroup struct {
	Type           Int                     `json:"type"` // 1 department, 2 project, 3 custom archive
	ArchiveID      string                  `json:"archive_id"`
	ThirdArchiveID string                  `json:"third_archive_id"`
	ArchiveName    string                  `json:"archive_name"`
	Details        []CostAttributionDetail `json:"details"`
}

// CostAttributionDetail is one share of a typed cost attribution.
type CostAttributionDetail struct {
	ID      string  `json:"id"`
	ThirdID string  `json:"third_id"`
	Name    string  `json:"name"`
	Weight  Decimal `json:"weight"` // percent
	Amount  Decimal `json:"amount"`
}

// CostInfo is one entry of saas_info.cost_info.
type CostInfo struct {
	Amount           Decimal         `json:"amount"`
	CostCategoryCode string          `json:"cost_category_code"`
	CostCategory     string          `json:"cost_category"`
	Groups           []CostInfoGroup `json:"cost_attribution_group_list"`
}

// CostInfoGroup is one costAttributionGroupList entry of a cost_info entry.
type CostInfoGroup struct {
	Category             string         `json:"category"` // 1 department, 2 project, 3 custom
	CategoryName         string         `json:"category_name"`
	CostAttributionRange Int            `json:"cost_attribution_range"`
	Items                []CostInfoItem `json:"cost_attribution_list"`
}

// CostInfoItem is one costAttributionList item of a cost_info group.
type CostInfoItem struct {
	ID       string  `json:"id"`
	Code     string  `json:"code"`
	Name     string  `json:"name"`
	FullName string  `json:"full_name"`
	Weight   Decimal `json:"weight"` // percent
	Price    Decimal `json:"price"`
}

// Notifier is one item of saas_info.notifier_info.
type Notifier struct {
	ID              string `json:"notifier_id"`
	Name            string `json:"notifier_name"`
	Phone           string `json:"notifier_phone"`
	OrgUnitID       string `json:"notifier_org_unit_id"`
	OrgUnitName     string `json:"notifier_org_unit_name"`
	OrgUnitFullName string `json:"notifier_org_unit_full_name"`
}

// ThirdInfo is third_info: the company's own ids for the people and costs.
type ThirdInfo struct {
	UserID          string `json:"user_id"`
	UnitID          string `json:"unit_id"`
	CostDeptID      string `json:"cost_dept_id"`
	CostProjectID   string `json:"cost_project_id"`
	ApplyID         string `json:"apply_id"`
	PassengerUserID string `json:"passenger_user_id"`
	PassengerUnitID string `json:"passenger_unit_id"`
}

// Order directions (order_info.order_op_type).
const (
	OpForward = 10
	OpReverse = 20
)

// CarStatusMeaning returns the meaning of a car order status code from the
// vendor's table, or "" for a code not in it.
func CarStatusMeaning(status int64) string {
	switch status {
	case 300:
		return "waiting for a driver"
	case 311:
		return "timed out"
	case 350:
		return "booked"
	case 351:
		return "booking failed"
	case 400:
		return "waiting for pickup"
	case 410:
		return "driver arrived"
	case 500:
		return "in trip"
	case 600:
		return "trip ended"
	case 610, 611:
		return "cancelled"
	case 700:
		return "completed"
	default:
		return ""
	}
}

// CarStatusName returns the vendor's Chinese name of a car order status
// code, or "" for a code not in its table.
func CarStatusName(status int64) string {
	switch status {
	case 300:
		return "等待司机接单"
	case 311:
		return "订单超时"
	case 350:
		return "预约成功"
	case 351:
		return "预约失败"
	case 400:
		return "等待接驾"
	case 410:
		return "司机已到达"
	case 500:
		return "行程中"
	case 600:
		return "行程结束"
	case 610, 611:
		return "已取消"
	case 700:
		return "已完成"
	default:
		return ""
	}
}

// readCarOrder validates and normalises a car order push.
func readCarOrder(p *Push) (*CarOrder, error) {
	r := &reader{}
	top := object(p.top)
	oi := object(p.orderInfo)
	const o = "order_info"

	c := &CarOrder{OrderID: p.orderID, OrderCategoryType: p.category}
	status := r.integer(oi, o, "status")
	switch {
	case r.err != nil:
	case !status.Valid:
		r.fail(o+".status", "is missing")
	case status.Value <= 0 || status.Value > math.MaxInt32:
		r.fail(o+".status", "is not a status code")
	}
	c.Status = status.Value
	c.StatusMeaning = CarStatusMeaning(status.Value)
	c.StatusName = r.text(oi, o, "status_name", nameLen)
	c.OriginOrderID = r.text(oi, o, "origin_order_id", idLen)
	c.SupplierOrderID = r.text(oi, o, "supplier_order_id", idLen)
	c.SupplierName = r.text(oi, o, "supplier_name", nameLen)
	c.TypeName = r.text(oi, o, "type_name", nameLen)
	c.OrderCategoryName = r.text(oi, o, "order_category_name", nameLen)

	c.OrderOpType = r.integer(oi, o, "order_op_type")
	switch {
	case !c.OrderOpType.Valid:
	case c.OrderOpType.Value == OpForward:
		c.Direction = "forward"
	case c.OrderOpType.Value == OpReverse:
		c.Direction = "reverse"
	default:
		r.fail(o+".order_op_type", "must be 10 (forward) or 20 (reverse)")
	}
	c.OrderOpTypeName = r.text(oi, o, "order_op_type_name", nameLen)
	// A reverse order refunds or cancels, so its amounts may be negative.
	reverse := c.OrderOpType.Valid && c.OrderOpType.Value == OpReverse

	c.CreateTime = r.time(oi, o, "create_time")
	if r.err == nil && !c.CreateTime.Valid {
		r.fail(o+".create_time", "is missing")
	}
	c.PaymentTime = r.time(oi, o, "payment_time")
	c.DepartureTime = r.time(oi, o, "departure_time")
	c.ArrivalTime = r.time(oi, o, "arrival_time")

	c.DepartureName = r.text(oi, o, "departure_name", textLen)
	c.DepartureAddress = r.text(oi, o, "departure_address", textLen)
	c.DepartureCityID = r.text(oi, o, "departure_city_id", idLen)
	c.DepartureCityName = r.text(oi, o, "departure_city_name", nameLen)
	c.ArrivalName = r.text(oi, o, "arrival_name", textLen)
	c.ArrivalAddress = r.text(oi, o, "arrival_address", textLen)
	c.ArrivalCityID = r.text(oi, o, "arrival_city_id", idLen)
	c.ArrivalCityName = r.text(oi, o, "arrival_city_name", nameLen)

	c.Sensitive = r.boolean(oi, o, "sensitive")
	c.IsExceed = r.boolean(oi, o, "is_exceed")
	c.ExceedRemarkReason = r.text(oi, o, "exceed_remark_reason", textLen)
	c.ExceedRemarkDetail = r.text(oi, o, "exceed_remark_detail", textLen)
	c.ActualDistance = r.money(oi, o, "actual_distance", false)

	c.PriceDetails = []PriceDetail{}
	for i, d := range r.list(oi, o, "price_detail_info") {
		at := indexed(o+".price_detail_info", i)
		c.PriceDetails = append(c.PriceDetails, PriceDetail{
			Name: r.text(d, at, "name", nameLen),
			// A line may be a discount, so it may be negative.
			Amount: r.money(d, at, "amount", true),
			Type:   r.text(d, at, "type", idLen),
		})
	}

	if pi := r.object(top, "", "price_info"); pi != nil {
		const at = "price_info"
		c.Price = &PriceSummary{
			TotalPrice:       r.money(pi, at, "total_price", reverse),
			PersonalTotalPay: r.money(pi, at, "personal_total_pay", reverse),
			RedEnvelope:      r.money(pi, at, "red_envelope", reverse),
			CouponAmount:     r.money(pi, at, "coupon_amount", reverse),
		}
	}
	c.Orderer = readPerson(r, r.object(top, "", "user_info"), "user_info", true)
	c.Passenger = readPerson(r, r.object(top, "", "passenger_info"), "passenger_info", false)
	c.Saas = readSaas(r, r.object(top, "", "saas_info"), reverse)
	if ti := r.object(top, "", "third_info"); ti != nil {
		const at = "third_info"
		c.ThirdInfo = &ThirdInfo{
			UserID:          r.text(ti, at, "user_id", idLen),
			UnitID:          r.text(ti, at, "unit_id", idLen),
			CostDeptID:      r.text(ti, at, "cost_dept_id", idLen),
			CostProjectID:   r.text(ti, at, "cost_project_id", idLen),
			ApplyID:         r.text(ti, at, "apply_id", idLen),
			PassengerUserID: r.text(ti, at, "passenger_user_id", idLen),
			PassengerUnitID: r.text(ti, at, "passenger_unit_id", idLen),
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return c, nil
}

func indexed(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

func readPerson(r *reader, obj object, at string, withID bool) *Person {
	if obj == nil {
		return nil
	}
	p := &Person{
		Name:         r.text(obj, at, "name", nameLen),
		Phone:        r.text(obj, at, "phone", phoneLen),
		UnitID:       r.text(obj, at, "unit_id", idLen),
		UnitName:     r.text(obj, at, "unit_name", nameLen),
		FullUnitName: r.text(obj, at, "full_unit_name", textLen),
	}
	if withID {
		p.ID = r.text(obj, at, "id", idLen)
	}
	return p
}

func readSaas(r *reader, obj object, reverse bool) SaasInfo {
	const at = "saas_info"
	s := SaasInfo{
		CostAttributionList: []CostAttribution{},
		CostAttribution:     []CostAttributionGroup{},
		CostInfo:            []CostInfo{},
		NotifierInfo:        []Notifier{},
	}
	if obj == nil {
		return s
	}
	s.IsExceed = r.boolean(obj, at, "is_exceed")
	s.Remark = r.richText(obj, at, "remark", textLen)
	s.CostCategory = r.text(obj, at, "cost_category", nameLen)

	for i, a := range r.list(obj, at, "cost_attribution_list") {
		ap := indexed(at+".cost_attribution_list", i)
		ca := CostAttribution{
			Category:  r.integer(a, ap, "cost_attribution_category"),
			ID:        r.text(a, ap, "cost_attribution_id", idLen),
			Name:      r.text(a, ap, "cost_attribution_name", nameLen),
			CustomExt: []CustomField{},
		}
		for j, f := range r.list(a, ap, "cost_attribution_custom_ext") {
			fp := indexed(ap+".cost_attribution_custom_ext", j)
			ca.CustomExt = append(ca.CustomExt, CustomField{
				Title:   r.text(f, fp, "custom_field_title", textLen),
				Content: r.text(f, fp, "custom_field_content", textLen),
			})
		}
		s.CostAttributionList = append(s.CostAttributionList, ca)
	}

	for i, g := range r.list(obj, at, "cost_attribution") {
		gp := indexed(at+".cost_attribution", i)
		cg := CostAttributionGroup{
			Type:           r.integer(g, gp, "type"),
			ArchiveID:      r.text(g, gp, "archive_id", idLen),
			ThirdArchiveID: r.text(g, gp, "third_archive_id", idLen),
			ArchiveName:    r.text(g, gp, "archive_name", nameLen),
			Details:        []CostAttributionDetail{},
		}
		for j, d := range r.list(g, gp, "details") {
			dp := indexed(gp+".details", j)
			cg.Details = append(cg.Details, CostAttributionDetail{
				ID:      r.text(d, dp, "id", idLen),
				ThirdID: r.text(d, dp, "third_id", idLen),
				Name:    r.text(d, dp, "name", nameLen),
				Weight:  r.weight(d, dp, "weight"),
				Amount:  r.money(d, dp, "amount", reverse),
			})
		}
		s.CostAttribution = append(s.CostAttribution, cg)
	}

	for i, ci := range r.list(obj, at, "cost_info") {
		cp := indexed(at+".cost_info", i)
		info := CostInfo{
			Amount:           r.money(ci, cp, "amount", reverse),
			CostCategoryCode: r.text(ci, cp, "costCategoryCode", idLen),
			CostCategory:     r.text(ci, cp, "costCategory", nameLen),
			Groups:           []CostInfoGroup{},
		}
		for j, g := range r.list(ci, cp, "costAttributionGroupList") {
			gp := indexed(cp+".costAttributionGroupList", j)
			group := CostInfoGroup{
				Category:             r.text(g, gp, "category", 32),
				CategoryName:         r.text(g, gp, "categoryName", nameLen),
				CostAttributionRange: r.integer(g, gp, "costAttributionRange"),
				Items:                []CostInfoItem{},
			}
			for k, it := range r.list(g, gp, "costAttributionList") {
				ip := indexed(gp+".costAttributionList", k)
				group.Items = append(group.Items, CostInfoItem{
					ID:       r.text(it, ip, "id", idLen),
					Code:     r.text(it, ip, "code", idLen),
					Name:     r.text(it, ip, "name", nameLen),
					FullName: r.text(it, ip, "fullName", textLen),
					Weight:   r.weight(it, ip, "weight"),
					Price:    r.money(it, ip, "price", reverse),
				})
			}
			info.Groups = append(info.Groups, group)
		}
		s.CostInfo = append(s.CostInfo, info)
	}

	for i, n := range r.list(obj, at, "notifier_info") {
		np := indexed(at+".notifier_info", i)
		s.NotifierInfo = append(s.NotifierInfo, Notifier{
			ID:              r.text(n, np, "notifier_id", idLen),
			Name:            r.text(n, np, "notifier_name", nameLen),
			Phone:           r.text(n, np, "notifier_phone", phoneLen),
			OrgUnitID:       r.text(n, np, "notifier_org_unit_id", idLen),
			OrgUnitName:     r.text(n, np, "notifier_org_unit_name", nameLen),
			OrgUnitFullName: r.text(n, np, "notifier_org_unit_full_name", textLen),
		})
	}
	return s
}

package fenbeitong

import (
	"math"

	"github.com/erpbridge/erpbridge/vendors/lenient"
)

// CarOrder is a car (用车) order push, validated and normalised: the ERP's
// data for the event. Keys are snake_case, money is decimal text ("14.16"),
// times are RFC 3339 in China Standard Time, and absent values are null.
type CarOrder struct {
	OrderID         string `json:"order_id"`
	OriginOrderID   string `json:"origin_order_id"`
	SupplierOrderID string `json:"supplier_order_id"`
	Status          int64  `json:"status"`
	StatusName      string `json:"status_name"`
	// StatusMeaning is the meaning of Status in the vendor's status table
	// ("completed"); null for a code whose meaning the documents do not
	// give (611, and codes not in the table).
	StatusMeaning      *string         `json:"status_meaning"`
	SupplierName       string          `json:"supplier_name"`
	TypeName           string          `json:"type_name"`
	OrderCategoryType  int             `json:"order_category_type"`
	OrderCategoryName  string          `json:"order_category_name"`
	OrderOpType        lenient.Int     `json:"order_op_type"`
	OrderOpTypeName    string          `json:"order_op_type_name"`
	Direction          string          `json:"direction"` // "forward" (10), "reverse" (20) or ""
	CreateTime         lenient.Time    `json:"create_time"`
	PaymentTime        lenient.Time    `json:"payment_time"`
	DepartureTime      lenient.Time    `json:"departure_time"`
	ArrivalTime        lenient.Time    `json:"arrival_time"`
	DepartureName      string          `json:"departure_name"`
	DepartureAddress   string          `json:"departure_address"`
	DepartureCityID    string          `json:"departure_city_id"`
	DepartureCityName  string          `json:"departure_city_name"`
	ArrivalName        string          `json:"arrival_name"`
	ArrivalAddress     string          `json:"arrival_address"`
	ArrivalCityID      string          `json:"arrival_city_id"`
	ArrivalCityName    string          `json:"arrival_city_name"`
	Sensitive          lenient.Bool    `json:"sensitive"`
	IsExceed           lenient.Bool    `json:"is_exceed"`
	ExceedRemarkReason string          `json:"exceed_remark_reason"`
	ExceedRemarkDetail string          `json:"exceed_remark_detail"`
	ActualDistance     lenient.Decimal `json:"actual_distance"`
	PriceDetails       []PriceDetail   `json:"price_detail_info"`
	Price              *PriceSummary   `json:"price_info"`
	Orderer            *Person         `json:"orderer"`
	Passenger          *Person         `json:"passenger"`
	Saas               SaasInfo        `json:"saas_info"`
	ThirdInfo          *ThirdInfo      `json:"third_info"`
	// Extra holds the fields of the push this record does not map, by path
	// (see lenient.Reader.Extra).
	Extra lenient.Extra `json:"extra"`
}

// PriceDetail is one line of order_info.price_detail_info.
type PriceDetail struct {
	Name   string          `json:"name"`
	Amount lenient.Decimal `json:"amount"`
	Type   string          `json:"type"`
}

// PriceSummary is price_info.
type PriceSummary struct {
	TotalPrice       lenient.Decimal `json:"total_price"`
	PersonalTotalPay lenient.Decimal `json:"personal_total_pay"`
	RedEnvelope      lenient.Decimal `json:"red_envelope"`
	CouponAmount     lenient.Decimal `json:"coupon_amount"`
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
	IsExceed            lenient.Bool           `json:"is_exceed"`
	Remark              lenient.Text           `json:"remark"` // a string, or an object such as {"remark":..,"remarkDetail":..}
	CostCategory        string                 `json:"cost_category"`
	CostAttributionList []CostAttribution      `json:"cost_attribution_list"`
	CostAttribution     []CostAttributionGroup `json:"cost_attribution"`
	CostInfo            []CostInfo             `json:"cost_info"` // always a list, even when sent as one object
	NotifierInfo        []Notifier             `json:"notifier_info"`
}

// CostAttribution is one item of saas_info.cost_attribution_list.
type CostAttribution struct {
	Category  lenient.Int   `json:"cost_attribution_category"` // 1 department, 2 project
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
	Type           lenient.Int             `json:"type"` // 1 department, 2 project, 3 custom archive
	ArchiveID      string                  `json:"archive_id"`
	ThirdArchiveID string                  `json:"third_archive_id"`
	ArchiveName    string                  `json:"archive_name"`
	Details        []CostAttributionDetail `json:"details"`
}

// CostAttributionDetail is one share of a typed cost attribution.
type CostAttributionDetail struct {
	ID      string          `json:"id"`
	ThirdID string          `json:"third_id"`
	Name    string          `json:"name"`
	Weight  lenient.Decimal `json:"weight"` // percent
	Amount  lenient.Decimal `json:"amount"`
}

// CostInfo is one entry of saas_info.cost_info.
type CostInfo struct {
	Amount           lenient.Decimal `json:"amount"`
	CostCategoryCode string          `json:"cost_category_code"`
	CostCategory     string          `json:"cost_category"`
	Groups           []CostInfoGroup `json:"cost_attribution_group_list"`
}

// CostInfoGroup is one costAttributionGroupList entry of a cost_info entry.
type CostInfoGroup struct {
	Category             string         `json:"category"` // 1 department, 2 project, 3 custom
	CategoryName         string         `json:"category_name"`
	CostAttributionRange lenient.Int    `json:"cost_attribution_range"`
	Items                []CostInfoItem `json:"cost_attribution_list"`
}

// CostInfoItem is one costAttributionList item of a cost_info group.
type CostInfoItem struct {
	ID       string          `json:"id"`
	Code     string          `json:"code"`
	Name     string          `json:"name"`
	FullName string          `json:"full_name"`
	Weight   lenient.Decimal `json:"weight"` // percent
	Price    lenient.Decimal `json:"price"`
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
// vendor's table, or "" for a code the documents give no meaning: 611 is
// seen in Fenbeitong's push code only, and nothing says what it means.
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
	case 610:
		return "cancelled"
	case 700:
		return "completed"
	default:
		return ""
	}
}

// CarStatusName returns the vendor's Chinese name of a car order status
// code, or "" for a code not in its table (611 included).
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
	case 610:
		return "已取消"
	case 700:
		return "已完成"
	default:
		return ""
	}
}

// readCarOrder validates and normalises a car order push, and returns the
// warnings about values it kept.
func readCarOrder(p *Push) (*CarOrder, []string, error) {
	r := lenient.NewReader(&dialect)
	top := r.Object("", p.top)
	oi := top.Get("order_info").Object()
	oi.Use("order_id", "order_category_type") // read by ParsePush

	c := &CarOrder{OrderID: p.orderID, OrderCategoryType: p.category}
	st := oi.Get("status")
	status := st.Int()
	switch {
	case !status.Valid:
		st.Invalid("is missing")
	case status.Value <= 0 || status.Value > math.MaxInt32:
		st.Invalid("is not a status code")
	}
	c.Status = status.Value
	if meaning := CarStatusMeaning(status.Value); meaning != "" {
		c.StatusMeaning = &meaning
	}
	c.StatusName = oi.Get("status_name").Text()
	c.OriginOrderID = oi.Get("origin_order_id").Text()
	c.SupplierOrderID = oi.Get("supplier_order_id").Text()
	c.SupplierName = oi.Get("supplier_name").Text()
	c.TypeName = oi.Get("type_name").Text()
	c.OrderCategoryName = oi.Get("order_category_name").Text()

	op := oi.Get("order_op_type")
	c.OrderOpType = op.Int()
	switch {
	case !c.OrderOpType.Valid:
	case c.OrderOpType.Value == OpForward:
		c.Direction = "forward"
	case c.OrderOpType.Value == OpReverse:
		c.Direction = "reverse"
	default:
		op.Invalid("must be 10 (forward) or 20 (reverse)")
	}
	c.OrderOpTypeName = oi.Get("order_op_type_name").Text()
	// A reverse order refunds or cancels, so its amounts may be negative.
	reverse := c.OrderOpType.Valid && c.OrderOpType.Value == OpReverse

	if c.CreateTime = oi.Get("create_time").Time(chinaTime); !c.CreateTime.Valid {
		oi.Get("create_time").Invalid("is missing")
	}
	c.PaymentTime = oi.Get("payment_time").Time(chinaTime)
	c.DepartureTime = oi.Get("departure_time").Time(chinaTime)
	c.ArrivalTime = oi.Get("arrival_time").Time(chinaTime)

	c.DepartureName = oi.Get("departure_name").Text()
	c.DepartureAddress = oi.Get("departure_address").Text()
	c.DepartureCityID = oi.Get("departure_city_id").Text()
	c.DepartureCityName = oi.Get("departure_city_name").Text()
	c.ArrivalName = oi.Get("arrival_name").Text()
	c.ArrivalAddress = oi.Get("arrival_address").Text()
	c.ArrivalCityID = oi.Get("arrival_city_id").Text()
	c.ArrivalCityName = oi.Get("arrival_city_name").Text()

	c.Sensitive = oi.Get("sensitive").Bool()
	c.IsExceed = oi.Get("is_exceed").Bool()
	c.ExceedRemarkReason = oi.Get("exceed_remark_reason").Text()
	c.ExceedRemarkDetail = oi.Get("exceed_remark_detail").Text()
	c.ActualDistance = money(oi.Get("actual_distance"), false)

	c.PriceDetails = readList(oi.Get("price_detail_info"), readPriceDetail)

	if pi := top.Get("price_info").Object(); !pi.Absent() {
		c.Price = &PriceSummary{
			TotalPrice:       money(pi.Get("total_price"), reverse),
			PersonalTotalPay: money(pi.Get("personal_total_pay"), reverse),
			RedEnvelope:      money(pi.Get("red_envelope"), reverse),
			CouponAmount:     money(pi.Get("coupon_amount"), reverse),
		}
	}
	c.Orderer = readPerson(top.Get("user_info").Object(), true)
	c.Passenger = readPerson(top.Get("passenger_info").Object(), false)
	c.Saas = readSaas(top.Get("saas_info").Object(), reverse)
	if ti := top.Get("third_info").Object(); !ti.Absent() {
		c.ThirdInfo = &ThirdInfo{
			UserID:          ti.Get("user_id").Text(),
			UnitID:          ti.Get("unit_id").Text(),
			CostDeptID:      ti.Get("cost_dept_id").Text(),
			CostProjectID:   ti.Get("cost_project_id").Text(),
			ApplyID:         ti.Get("apply_id").Text(),
			PassengerUserID: ti.Get("passenger_user_id").Text(),
			PassengerUnitID: ti.Get("passenger_unit_id").Text(),
		}
	}
	if err := r.Err(); err != nil {
		return nil, nil, err
	}
	c.Extra = r.Extra()
	return c, r.Warnings(), nil
}

// readList reads a list of objects (a lone object counting as a list of
// one, see lenient.Value.List) with read, item by item; none gives an empty
// list, so the record shows [] rather than null.
func readList[T any](v lenient.Value, read func(lenient.Object) T) []T {
	out := []T{}
	for _, o := range v.List() {
		out = append(out, read(o))
	}
	return out
}

func readPriceDetail(d lenient.Object) PriceDetail {
	return PriceDetail{
		Name: d.Get("name").Text(),
		// A line may be a discount, so it may be negative.
		Amount: money(d.Get("amount"), true),
		Type:   d.Get("type").Text(),
	}
}

func readPerson(obj lenient.Object, withID bool) *Person {
	if obj.Absent() {
		return nil
	}
	p := &Person{
		Name:         obj.Get("name").Text(),
		Phone:        obj.Get("phone").Text(),
		UnitID:       obj.Get("unit_id").Text(),
		UnitName:     obj.Get("unit_name").Text(),
		FullUnitName: obj.Get("full_unit_name").Text(),
	}
	if withID {
		p.ID = obj.Get("id").Text()
	}
	return p
}

func readSaas(obj lenient.Object, reverse bool) SaasInfo {
	s := saasReader{reverse: reverse}
	return SaasInfo{
		IsExceed:            obj.Get("is_exceed").Bool(),
		Remark:              obj.Get("remark").RichText(),
		CostCategory:        obj.Get("cost_category").Text(),
		CostAttributionList: readList(obj.Get("cost_attribution_list"), readCostAttribution),
		CostAttribution:     readList(obj.Get("cost_attribution"), s.costAttributionGroup),
		CostInfo:            readList(obj.Get("cost_info"), s.costInfo),
		NotifierInfo:        readList(obj.Get("notifier_info"), readNotifier),
	}
}

func readCostAttribution(a lenient.Object) CostAttribution {
	return CostAttribution{
		Category:  a.Get("cost_attribution_category").Int(),
		ID:        a.Get("cost_attribution_id").Text(),
		Name:      a.Get("cost_attribution_name").Text(),
		CustomExt: readList(a.Get("cost_attribution_custom_ext"), readCustomField),
	}
}

func readCustomField(f lenient.Object) CustomField {
	return CustomField{
		Title:   f.Get("custom_field_title").Text(),
		Content: f.Get("custom_field_content").Text(),
	}
}

func readNotifier(n lenient.Object) Notifier {
	return Notifier{
		ID:              n.Get("notifier_id").Text(),
		Name:            n.Get("notifier_name").Text(),
		Phone:           n.Get("notifier_phone").Text(),
		OrgUnitID:       n.Get("notifier_org_unit_id").Text(),
		OrgUnitName:     n.Get("notifier_org_unit_name").Text(),
		OrgUnitFullName: n.Get("notifier_org_unit_full_name").Text(),
	}
}

// saasReader reads the parts of saas_info that hold amounts; reverse is
// whether the order is a reverse one, whose amounts may be negative.
type saasReader struct{ reverse bool }

func (s saasReader) costAttributionGroup(g lenient.Object) CostAttributionGroup {
	return CostAttributionGroup{
		Type:           g.Get("type").Int(),
		ArchiveID:      g.Get("archive_id").Text(),
		ThirdArchiveID: g.Get("third_archive_id").Text(),
		ArchiveName:    g.Get("archive_name").Text(),
		Details:        readList(g.Get("details"), s.costAttributionDetail),
	}
}

func (s saasReader) costAttributionDetail(d lenient.Object) CostAttributionDetail {
	return CostAttributionDetail{
		ID:      d.Get("id").Text(),
		ThirdID: d.Get("third_id").Text(),
		Name:    d.Get("name").Text(),
		Weight:  weight(d.Get("weight")),
		Amount:  money(d.Get("amount"), s.reverse),
	}
}

func (s saasReader) costInfo(ci lenient.Object) CostInfo {
	return CostInfo{
		Amount:           money(ci.Get("amount"), s.reverse),
		CostCategoryCode: ci.Get("costCategoryCode").Text(),
		CostCategory:     ci.Get("costCategory").Text(),
		Groups:           readList(ci.Get("costAttributionGroupList"), s.costInfoGroup),
	}
}

func (s saasReader) costInfoGroup(g lenient.Object) CostInfoGroup {
	return CostInfoGroup{
		Category:             g.Get("category").Text(),
		CategoryName:         g.Get("categoryName").Text(),
		CostAttributionRange: g.Get("costAttributionRange").Int(),
		Items:                readList(g.Get("costAttributionList"), s.costInfoItem),
	}
}

func (s saasReader) costInfoItem(it lenient.Object) CostInfoItem {
	return CostInfoItem{
		ID:       it.Get("id").Text(),
		Code:     it.Get("code").Text(),
		Name:     it.Get("name").Text(),
		FullName: it.Get("fullName").Text(),
		Weight:   weight(it.Get("weight")),
		Price:    money(it.Get("price"), s.reverse),
	}
}

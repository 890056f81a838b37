package fenbeitong

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/vendors/lenient"
)

func decodeCar(t *testing.T, body []byte) (*vendors.Event, *CarOrder) {
	t.Helper()
	ev, err := Decode(body)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	c, ok := ev.Data.(*CarOrder)
	if !ok {
		t.Fatalf("data is %T, want *CarOrder", ev.Data)
	}
	return ev, c
}

func TestDecodePageSample(t *testing.T) {
	ev, c := decodeCar(t, pageSample(t))
	if ev.Vendor != vendors.Fenbeitong || ev.EventType != "car" || ev.Kind != "car_order" || ev.ExternalID != "5eaab72f23445f46685f8cc8" {
		t.Fatalf("event %+v", ev)
	}
	p, _ := ParsePush(pageSample(t))
	if ev.EventKey != p.EventKey() {
		t.Fatalf("event key %s, push key %s", ev.EventKey, p.EventKey())
	}
	created := time.Date(2020, 4, 30, 11, 32, 1, 0, time.UTC)
	if !ev.OccurredAt.Equal(created) {
		t.Fatalf("occurred at %v", ev.OccurredAt)
	}
	if want := 9*statusRankUnit + created.UnixMilli(); ev.Version != want {
		t.Fatalf("version %d, want %d", ev.Version, want)
	}
	if ev.Tables == nil {
		t.Fatal("no Save")
	}

	if c.Status != 700 || c.StatusName != "已完成" || c.StatusMeaning == nil || *c.StatusMeaning != "completed" || c.Direction != "forward" {
		t.Fatalf("status %+v", c)
	}
	if c.DepartureCityID != "" || c.SupplierOrderID != "139949602000" || c.OriginOrderID != "5eaab72f23445f4687vd8763" {
		t.Fatalf("ids %+v", c)
	}
	if len(c.PriceDetails) != 2 || c.PriceDetails[0].Amount.String() != "10" || c.PriceDetails[1].Type != "start_price" {
		t.Fatalf("price details %+v", c.PriceDetails)
	}
	if c.Orderer == nil || c.Orderer.ID != "5ea12bf723445f17d650fcb9" || c.Passenger == nil || c.Passenger.FullUnitName == "" {
		t.Fatalf("people %+v %+v", c.Orderer, c.Passenger)
	}
	s := c.Saas
	if !s.IsExceed.Valid || s.IsExceed.Value || !s.Remark.Structured() || s.CostCategory != "市场活动费" {
		t.Fatalf("saas %+v", s)
	}
	if len(s.CostAttributionList) != 1 || len(s.CostAttributionList[0].CustomExt) != 2 || s.CostAttributionList[0].Category.Value != 1 {
		t.Fatalf("cost attribution list %+v", s.CostAttributionList)
	}
	if len(s.CostAttribution) != 2 || len(s.CostAttribution[1].Details) != 3 || s.CostAttribution[1].Type.Value != 2 ||
		s.CostAttribution[0].Details[2].Weight.String() != "33.34" || s.CostAttribution[0].Details[2].ThirdID != "bumen3" {
		t.Fatalf("cost attribution %+v", s.CostAttribution)
	}
	if len(s.CostInfo) != 1 || len(s.CostInfo[0].Groups) != 2 || len(s.CostInfo[0].Groups[1].Items) != 2 ||
		s.CostInfo[0].Groups[1].Items[1].Code != "23648978673434242564240" || s.CostInfo[0].Groups[1].Items[1].Weight.String() != "70" {
		t.Fatalf("cost info %+v", s.CostInfo)
	}
	if len(s.NotifierInfo) != 1 || s.NotifierInfo[0].OrgUnitID != "5fec33e7aa42272efc98015e" {
		t.Fatalf("notifiers %+v", s.NotifierInfo)
	}
	if c.ThirdInfo == nil || c.ThirdInfo.ApplyID != "a04d2547-9f9f-49f2-895f-124f5171b31d" || c.ThirdInfo.CostProjectID != "" {
		t.Fatalf("third info %+v", c.ThirdInfo)
	}

	d := testkit.JSONObject(t, ev.Data)
	checks := map[string]struct {
		path []any
		want any
	}{
		"total price exact":   {[]any{"price_info", "total_price"}, "14.16"},
		"zero money":          {[]any{"price_info", "coupon_amount"}, "0"},
		"string amount":       {[]any{"price_detail_info", 0, "amount"}, "10"},
		"distance":            {[]any{"actual_distance"}, "2.3"},
		"create time":         {[]any{"create_time"}, "2020-04-30T19:32:01+08:00"},
		"payment time":        {[]any{"payment_time"}, "2020-04-30T19:32:01+08:00"},
		"absent time":         {[]any{"departure_time"}, nil},
		"status number":       {[]any{"status"}, float64(700)},
		"trimmed key":         {[]any{"departure_city_id"}, ""},
		"remark object":       {[]any{"saas_info", "remark", "remarkDetail"}, "图摸摸铁路局12399"},
		"cost info is a list": {[]any{"saas_info", "cost_info", 0, "cost_category_code"}, "10001"},
		"cost info item":      {[]any{"saas_info", "cost_info", 0, "cost_attribution_group_list", 0, "cost_attribution_list", 0, "weight"}, "100"},
		"custom ext":          {[]any{"saas_info", "cost_attribution_list", 0, "cost_attribution_custom_ext", 1, "custom_field_title"}, "阿斯顿发"},
		"detail amount":       {[]any{"saas_info", "cost_attribution", 1, "details", 0, "amount"}, "7"},
		"op type":             {[]any{"order_op_type"}, float64(10)},
		"sensitive":           {[]any{"sensitive"}, false},
		"is_exceed absent":    {[]any{"is_exceed"}, nil},
	}
	for name, c := range checks {
		if got := testkit.At(t, d, c.path...); got != c.want {
			t.Errorf("%s: %v = %#v, want %#v", name, c.path, got, c.want)
		}
	}
}

func TestDecodeLenientVariants(t *testing.T) {
	sample := pageSample(t)
	cases := []struct {
		name       string
		old, new   string
		path       []any
		want       any
		wantStatus int64
	}{
		{"status number", `"status": "700"`, `"status": 700`, []any{"status"}, float64(700), 700},
		{"status string", `"status": "700"`, `"status": " 350 "`, []any{"status"}, float64(350), 350},
		{"amount number", `"amount": "10"`, `"amount": 10`, []any{"price_detail_info", 0, "amount"}, "10", 700},
		{"amount fraction", `"amount": "10"`, `"amount": 14.16`, []any{"price_detail_info", 0, "amount"}, "14.16", 700},
		{"amount fraction string", `"amount": "10"`, `"amount": "14.16"`, []any{"price_detail_info", 0, "amount"}, "14.16", 700},
		{"amount empty", `"amount": "10"`, `"amount": ""`, []any{"price_detail_info", 0, "amount"}, nil, 700},
		{"amount null", `"amount": "10"`, `"amount": null`, []any{"price_detail_info", 0, "amount"}, nil, 700},
		{"total as string", `"total_price": 14.16`, `"total_price": "14.16"`, []any{"price_info", "total_price"}, "14.16", 700},
		{"remark string", `"remark": {`, `"remark": "加班", "remark_old": {`, []any{"saas_info", "remark"}, "加班", 700},
		{"bool true", `"is_exceed": false`, `"is_exceed": true`, []any{"saas_info", "is_exceed"}, true, 700},
		{"bool text false", `"is_exceed": false`, `"is_exceed": "false"`, []any{"saas_info", "is_exceed"}, false, 700},
		{"bool text true", `"sensitive": false`, `"sensitive": "true"`, []any{"sensitive"}, true, 700},
		{"bool empty", `"sensitive": false`, `"sensitive": ""`, []any{"sensitive"}, nil, 700},
		{"order is_exceed text", `"sensitive": false`, `"sensitive": false, "is_exceed": "false"`, []any{"is_exceed"}, false, 700},
		{"trailing space key", `"departure_city_id ":""`, `"departure_city_id ":"110100"`, []any{"departure_city_id"}, "110100", 700},
		{"leading space key", `"arrival_city_id":""`, `"  arrival_city_id":"310100"`, []any{"arrival_city_id"}, "310100", 700},
		{"phone number", `"phone": "18210376179"`, `"phone": 18210376179`, []any{"orderer", "phone"}, "18210376179", 700},
		{"op type string", `"order_op_type": 10`, `"order_op_type": "20"`, []any{"direction"}, "reverse", 700},
		{"rfc3339 time", `"create_time": "2020-04-30 19:32:01"`, `"create_time": "2020-04-30T11:32:01Z"`, []any{"create_time"}, "2020-04-30T19:32:01+08:00", 700},
		{"weight string", `"weight": 30.0`, `"weight": "30"`, []any{"saas_info", "cost_info", 0, "cost_attribution_group_list", 1, "cost_attribution_list", 0, "weight"}, "30", 700},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev, car := decodeCar(t, testkit.Replace(t, sample, c.old, c.new))
			if car.Status != c.wantStatus {
				t.Errorf("status %d, want %d", car.Status, c.wantStatus)
			}
			if got := testkit.At(t, testkit.JSONObject(t, ev.Data), c.path...); got != c.want {
				t.Errorf("%v = %#v, want %#v", c.path, got, c.want)
			}
		})
	}
}

func TestDecodeCostInfoObjectOrArray(t *testing.T) {
	sample := pageSample(t)
	asArray := testkit.Replace(t, sample, `"cost_info": {`, `"cost_info": [{`)
	asArray = testkit.Replace(t, asArray, `      },
      "notifier_info"`, `      }],
      "notifier_info"`)
	evObj, objOrder := decodeCar(t, sample)
	evArr, arrOrder := decodeCar(t, asArray)
	if len(objOrder.Saas.CostInfo) != 1 || len(arrOrder.Saas.CostInfo) != 1 {
		t.Fatalf("cost info lengths %d %d", len(objOrder.Saas.CostInfo), len(arrOrder.Saas.CostInfo))
	}
	a, _ := json.Marshal(evObj.Data)
	b, _ := json.Marshal(evArr.Data)
	if string(a) != string(b) {
		t.Fatal("cost_info as an object and as a one-item array give different data")
	}
	two := testkit.Replace(t, asArray, `}],
      "notifier_info"`, `}, {"amount": "1.50", "costCategory": "服务费"}],
      "notifier_info"`)
	ev, c := decodeCar(t, two)
	if len(c.Saas.CostInfo) != 2 || testkit.At(t, testkit.JSONObject(t, ev.Data), "saas_info", "cost_info", 1, "amount") != "1.5" {
		t.Fatalf("two cost infos: %+v", c.Saas.CostInfo)
	}
	empty, c := decodeCar(t, testkit.Replace(t, sample, `"cost_info": {`, `"cost_info": null, "x": {`))
	if len(c.Saas.CostInfo) != 0 {
		t.Fatalf("null cost info: %+v", c.Saas.CostInfo)
	}
	if got, ok := testkit.At(t, testkit.JSONObject(t, empty.Data), "saas_info", "cost_info").([]any); !ok || len(got) != 0 {
		t.Fatalf("null cost info is %#v in data, want []", got)
	}
}

func TestVersionOrdering(t *testing.T) {
	version := func(status int, created string) int64 {
		t.Helper()
		ev, _ := decodeCar(t, SampleBody("o1", status, created))
		return ev.Version
	}
	const at = "2024-05-01 10:00:00"
	chain := []int{300, 311, 350, 400, 410, 500, 600, 610, 700}
	for i := 1; i < len(chain); i++ {
		if a, b := version(chain[i-1], at), version(chain[i], at); a >= b {
			t.Errorf("%d (%d) not below %d (%d)", chain[i-1], a, chain[i], b)
		}
	}
	// A late "booked" push never beats a completed order, whatever its time.
	if late, done := version(350, "2030-01-01 00:00:00"), version(700, "2020-01-01 00:00:00"); late >= done {
		t.Errorf("late 350 (%d) >= early 700 (%d)", late, done)
	}
	// Within one stage the later time wins; variants of one stage tie on rank.
	if a, b := version(350, at), version(350, "2024-05-01 10:00:01"); a >= b {
		t.Errorf("same status: earlier %d >= later %d", a, b)
	}
	if version(350, at) != version(351, at) || version(610, at) != version(611, at) {
		t.Error("350/351 or 610/611 differ in rank")
	}
	// An unknown status ranks below every known one.
	if unknown, first := version(999, "2030-01-01 00:00:00"), version(300, "2020-01-01 00:00:00"); unknown >= first {
		t.Errorf("unknown %d >= 300 %d", unknown, first)
	}
	if got, want := version(350, at), 3*statusRankUnit+time.Date(2024, 5, 1, 2, 0, 0, 0, time.UTC).UnixMilli(); got != want {
		t.Errorf("version %d, want %d", got, want)
	}
}

func TestVersionUsesLatestTime(t *testing.T) {
	body := SampleBody("o1", 600, "2024-05-01 10:00:00")
	body = testkit.Replace(t, body, `"type_name"`, `"arrival_time": "2024-05-01 11:30:00", "departure_time": "2024-05-01 10:10:00", "type_name"`)
	ev, _ := decodeCar(t, body)
	arrival := time.Date(2024, 5, 1, 3, 30, 0, 0, time.UTC)
	if !ev.OccurredAt.Equal(arrival) || ev.Version != 7*statusRankUnit+arrival.UnixMilli() {
		t.Fatalf("occurred %v version %d", ev.OccurredAt, ev.Version)
	}
	if got := Version(CategoryCar, lenient.Int{}, time.Time{}); got != 0 {
		t.Fatalf("nothing known: %d", got)
	}
	if got := Version(CategoryHotel, lenient.Int{Value: 700, Valid: true}, arrival); got != arrival.UnixMilli() {
		t.Fatalf("hotel version %d, want the time alone", got)
	}
	if got := Version(CategoryCar, lenient.Int{Value: 700, Valid: true}, time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)); got != 10*statusRankUnit-1 {
		t.Fatalf("far future not clamped: %d", got)
	}
}

func TestDecodeRefusals(t *testing.T) {
	sample := pageSample(t)
	cases := []struct {
		name, old, new string
		field, problem string
	}{
		{"status text", `"status": "700"`, `"status": "done"`, "order_info.status", "is not an integer"},
		{"status missing", `"status": "700",`, ``, "order_info.status", "is missing"},
		{"status empty", `"status": "700"`, `"status": ""`, "order_info.status", "is missing"},
		{"status zero", `"status": "700"`, `"status": 0`, "order_info.status", "is not a status code"},
		{"status object", `"status": "700"`, `"status": {"code": 700}`, "order_info.status", "is not an integer"},
		{"amount text", `"amount": "10"`, `"amount": "ten"`, "order_info.price_detail_info[0].amount", "is not a number"},
		{"amount bool", `"amount": "14"`, `"amount": true`, "order_info.price_detail_info[1].amount", "is not a number"},
		{"total text", `"total_price": 14.16`, `"total_price": "14,16"`, "price_info.total_price", "is not a number"},
		{"cost info amount text", `"amount": 0.0`, `"amount": "zero"`, "saas_info.cost_info[0].amount", "is not a number"},
		{"total beyond any decimal", `"total_price": 14.16`, `"total_price": 1e41`, "price_info.total_price", "has too many digits"},
		{"create time missing", `"create_time": "2020-04-30 19:32:01",`, ``, "order_info.create_time", "is missing"},
		{"create time format", `"create_time": "2020-04-30 19:32:01"`, `"create_time": "30/04/2020 19:32"`, "order_info.create_time", "is not a time (2006-01-02 15:04:05 or RFC 3339)"},
		{"payment time format", `"payment_time": "2020-04-30 19:32:01"`, `"payment_time": 1588246321000`, "order_info.payment_time", "is not a time (2006-01-02 15:04:05 or RFC 3339)"},
		{"op type", `"order_op_type": 10`, `"order_op_type": 30`, "order_info.order_op_type", "must be 10 (forward) or 20 (reverse)"},
		{"op type text", `"order_op_type": 10`, `"order_op_type": "forward"`, "order_info.order_op_type", "is not an integer"},
		{"bool text", `"sensitive": false`, `"sensitive": "no"`, "order_info.sensitive", "is not a boolean"},
		{"price_info array", `"price_info": {`, `"price_info": [], "x": {`, "price_info", "is not an object"},
		{"user_info text", `"user_info": {`, `"user_info": "someone", "x": {`, "user_info", "is not an object"},
		{"price details object item", `"price_detail_info": [`, `"price_detail_info": [1, `, "order_info.price_detail_info[0]", "is not an object"},
		{"price details text", `"price_detail_info": [`, `"price_detail_info": "none", "x": [`, "order_info.price_detail_info", "is not an array"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev, err := Decode(testkit.Replace(t, sample, c.old, c.new))
			if err == nil {
				t.Fatalf("accepted: %+v", ev)
			}
			var ce *vendors.ContentError
			if !errors.As(err, &ce) {
				t.Fatalf("%v is not a ContentError", err)
			}
			if ce.Field != c.field || ce.Problem != c.problem {
				t.Fatalf("got %q / %q, want %q / %q", ce.Field, ce.Problem, c.field, c.problem)
			}
			if want := "invalid content: " + c.field + ": " + c.problem; err.Error() != want {
				t.Fatalf("message %q, want %q", err.Error(), want)
			}
			if errors.Is(err, vendors.ErrMalformed) {
				t.Fatal("content error wraps ErrMalformed")
			}
		})
	}
}

// Values the documents do not foresee are kept exactly and reported as
// warnings naming the field; the push is never refused for them.
func TestDecodeWarnsInsteadOfRefusing(t *testing.T) {
	sample := pageSample(t)
	cases := []struct {
		name, old, new string
		path           []any
		want           string
		warning        string
	}{
		{"total negative", `"total_price": 14.16`, `"total_price": -14.16`, []any{"price_info", "total_price"}, "-14.16",
			"price_info.total_price: is negative"},
		{"total with a fifth decimal", `"total_price": 14.16`, `"total_price": 14.16001`, []any{"price_info", "total_price"}, "14.16001",
			"price_info.total_price: has more than 4 decimal places"},
		{"total larger than DECIMAL(18,4)", `"total_price": 14.16`, `"total_price": 100000000000000`, []any{"price_info", "total_price"}, "100000000000000", ""},
		{"distance negative", `"actual_distance": 2.3`, `"actual_distance": -2.3`, []any{"actual_distance"}, "-2.3",
			"order_info.actual_distance: is negative"},
		{"distance with a fifth decimal", `"actual_distance": 2.3`, `"actual_distance": 2.30001`, []any{"actual_distance"}, "2.30001",
			"order_info.actual_distance: has more than 4 decimal places"},
		{"weight negative", `"weight": 30.0`, `"weight": -30`, []any{"saas_info", "cost_info", 0, "cost_attribution_group_list", 1, "cost_attribution_list", 0, "weight"}, "-30",
			"saas_info.cost_info[0].costAttributionGroupList[1].costAttributionList[0].weight: is negative"},
		{"weight with many decimals", `"weight": 30.0`, `"weight": 33.333333333333333`, []any{"saas_info", "cost_info", 0, "cost_attribution_group_list", 1, "cost_attribution_list", 0, "weight"}, "33.333333333333333", ""},
		{"detail amount negative", `"amount":7,`, `"amount":-7,`, []any{"saas_info", "cost_attribution", 0, "details", 0, "amount"}, "-7",
			"saas_info.cost_attribution[0].details[0].amount: is negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev, _ := decodeCar(t, testkit.Replace(t, sample, c.old, c.new))
			if got := testkit.At(t, testkit.JSONObject(t, ev.Data), c.path...); got != c.want {
				t.Fatalf("data has %v, want %s", got, c.want)
			}
			switch {
			case c.warning == "" && len(ev.Warnings) != 0:
				t.Fatalf("warnings %q, want none", ev.Warnings)
			case c.warning != "" && (len(ev.Warnings) != 1 || !strings.HasPrefix(ev.Warnings[0], c.warning)):
				t.Fatalf("warnings %q, want one starting %q", ev.Warnings, c.warning)
			}
		})
	}
}

// Status 611 is in Fenbeitong's push code but not in its documents: its
// meaning is not invented.
func TestDecodeStatus611HasNoMeaning(t *testing.T) {
	for status, want := range map[string]any{"611": nil, "999": nil, "610": "cancelled", "700": "completed"} {
		ev, _ := decodeCar(t, testkit.Replace(t, pageSample(t), `"status": "700"`, `"status": "`+status+`"`))
		d := testkit.JSONObject(t, ev.Data)
		got, present := d["status_meaning"]
		if !present || got != want {
			t.Errorf("status %s: status_meaning %v (present %v), want %v", status, got, present, want)
		}
	}
	if CarStatusName(611) != "" || CarStatusMeaning(611) != "" {
		t.Fatal("611 given a name or meaning")
	}
}

// Undocumented fields of a car order push reach the ERP under data.extra.
func TestDecodeCarOrderExtra(t *testing.T) {
	body := testkit.Replace(t, pageSample(t), `"order_info": {`, `"company_pay": 14.160, "order_info": {"car_level": "comfort", `)
	body = testkit.Replace(t, body, `"unit_name": "北京分贝金服科技有限公司"`, `"unit_name": "北京分贝金服科技有限公司", "employee_no": 1001`)
	ev, c := decodeCar(t, body)
	got, err := json.Marshal(c.Extra)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"company_pay":14.160,"order_info.car_level":"comfort","user_info.employee_no":1001}` {
		t.Fatalf("extra %s", got)
	}
	if extra := testkit.At(t, testkit.JSONObject(t, ev.Data), "extra"); extra == nil {
		t.Fatal("no extra in data")
	}
	// The page's sample maps every field.
	_, c = decodeCar(t, pageSample(t))
	if len(c.Extra) != 0 {
		t.Fatalf("sample extra %v", c.Extra)
	}
}

func TestDecodeRefusalsNameNoValue(t *testing.T) {
	sample := pageSample(t)
	secret := "13911112222"
	for _, body := range [][]byte{
		testkit.Replace(t, sample, `"total_price": 14.16`, `"total_price": "`+secret+`x"`),
		testkit.Replace(t, sample, `"create_time": "2020-04-30 19:32:01"`, `"create_time": "`+secret+`"`),
		testkit.Replace(t, sample, `"sensitive": false`, `"sensitive": "`+secret+`"`),
		testkit.Replace(t, sample, `"status": "700"`, `"status": "`+secret+`x"`),
	} {
		_, err := Decode(body)
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("error %v leaks the value", err)
		}
	}
}

func TestDecodeReverseOrderMayBeNegative(t *testing.T) {
	body := testkit.Replace(t, pageSample(t), `"order_op_type": 10`, `"order_op_type": 20`)
	body = testkit.Replace(t, body, `"total_price": 14.16`, `"total_price": -14.16`)
	ev, c := decodeCar(t, body)
	if c.Direction != "reverse" || testkit.At(t, testkit.JSONObject(t, ev.Data), "price_info", "total_price") != "-14.16" {
		t.Fatalf("reverse order: %+v", c.Price)
	}
	discount := testkit.Replace(t, pageSample(t), `"amount": "14"`, `"amount": "-2.5"`)
	ev, _ = decodeCar(t, discount)
	if testkit.At(t, testkit.JSONObject(t, ev.Data), "price_detail_info", 1, "amount") != "-2.5" {
		t.Fatal("negative price line refused or changed")
	}
}

func TestDecodeOtherCategories(t *testing.T) {
	hotel := []byte(`{"order_info":{"order_id":"H-1","order_category_type":"11","status":"1800","status_name":"已入住",
		"create_time":"2024-05-01 10:00:00","payment_time":"2024-05-02 09:00:00","checkin":{"any":"shape"}},
		"price_info":{"total_price":"388.50"}}`)
	ev, err := Decode(hotel)
	if err != nil {
		t.Fatal(err)
	}
	if ev.EventType != "hotel" || ev.Kind != "hotel_order" || ev.ExternalID != "H-1" || ev.Tables == nil {
		t.Fatalf("event %+v", ev)
	}
	if !strings.HasPrefix(ev.EventKey, "11:H-1:1800:") {
		t.Fatalf("key %s", ev.EventKey)
	}
	paid := time.Date(2024, 5, 2, 1, 0, 0, 0, time.UTC)
	if ev.Version != paid.UnixMilli() || !ev.OccurredAt.Equal(paid) {
		t.Fatalf("version %d occurred %v", ev.Version, ev.OccurredAt)
	}
	d := testkit.JSONObject(t, ev.Data)
	for k, want := range map[string]any{
		"category": float64(11), "category_name": "hotel", "order_id": "H-1", "status": float64(1800),
		"status_name": "已入住", "create_time": "2024-05-01T10:00:00+08:00", "total_price": "388.5",
	} {
		if d[k] != want {
			t.Errorf("%s = %#v, want %#v", k, d[k], want)
		}
	}
	if testkit.At(t, d, "raw", "order_info", "checkin", "any") != "shape" {
		t.Errorf("raw not kept: %#v", d["raw"])
	}

	unknown := []byte(`{"order_info":{"order_id":"Z9","order_category_type":77}}`)
	ev, err = Decode(unknown)
	if err != nil {
		t.Fatal(err)
	}
	if ev.EventType != "category_77" || ev.Kind != "order" || ev.Version != 0 || !ev.OccurredAt.IsZero() {
		t.Fatalf("unknown category event %+v", ev)
	}
	if d := testkit.JSONObject(t, ev.Data); d["status"] != nil || d["total_price"] != nil || d["create_time"] != nil {
		t.Fatalf("absent fields not null: %v", d)
	}

	for _, c := range []struct{ body, field, problem string }{
		{`{"order_info":{"order_id":"F1","order_category_type":7,"status":"x"}}`, "order_info.status", "is not an integer"},
		{`{"order_info":{"order_id":"F1","order_category_type":7,"create_time":"soon"}}`, "order_info.create_time", "is not a time (2006-01-02 15:04:05 or RFC 3339)"},
		{`{"order_info":{"order_id":"F1","order_category_type":7},"price_info":{"total_price":"a lot"}}`, "price_info.total_price", "is not a number"},
		{`{"order_info":{"order_id":"F1","order_category_type":7},"price_info":7}`, "price_info", "is not an object"},
	} {
		_, err := Decode([]byte(c.body))
		var ce *vendors.ContentError
		if !errors.As(err, &ce) || ce.Field != c.field || ce.Problem != c.problem {
			t.Errorf("%s: got %v, want %s %s", c.body, err, c.field, c.problem)
		}
	}
	// An undocumented time form in another field only stays out of the version.
	ev, err = Decode([]byte(`{"order_info":{"order_id":"F1","order_category_type":7,"create_time":"2024-05-01 10:00:00","departure_time":"05-02 08:00"}}`))
	if err != nil || ev.Version != time.Date(2024, 5, 1, 2, 0, 0, 0, time.UTC).UnixMilli() {
		t.Fatalf("lenient other time: %v %+v", err, ev)
	}
}

func TestDecodeMalformed(t *testing.T) {
	_, err := Decode([]byte(`{"order_info":{"order_category_type":3}}`))
	if !errors.Is(err, vendors.ErrMalformed) || err.Error() != "fenbeitong push: order_info.order_id is missing: malformed callback" {
		t.Fatalf("got %v", err)
	}
}

func TestSampleBody(t *testing.T) {
	body := SampleBody(`A"1`, 610, "2024-05-01 10:00:00")
	if !json.Valid(body) {
		t.Fatalf("not JSON: %s", body)
	}
	for _, quirk := range []string{`"status": "610"`, `"status_name": "已取消"`, `"amount": "10"`, `"departure_city_id ":""`, `"remark": {`, `"cost_info": {`} {
		if !strings.Contains(string(body), quirk) {
			t.Errorf("sample lacks %s", quirk)
		}
	}
	p, err := ParsePush(SampleBody("S-1", 610, "2024-05-01 10:00:00"))
	if err != nil {
		t.Fatal(err)
	}
	if p.OrderID() != "S-1" || !strings.HasPrefix(p.EventKey(), "3:S-1:610:") {
		t.Fatalf("push %s %s", p.OrderID(), p.EventKey())
	}
	_, c := decodeCar(t, SampleBody("S-1", 610, "2024-05-01 10:00:00"))
	if c.StatusName != "已取消" || !c.CreateTime.Time.Equal(time.Date(2024, 5, 1, 2, 0, 0, 0, time.UTC)) {
		t.Fatalf("sample order %+v", c)
	}
	if strings.Contains(string(body), "18210376179") {
		t.Error("sample body carries the page's phone numbers")
	}
}

package store_test

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/store"
	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong"
)

// saveFenbeitong writes an event's tables the way Persist does, in one transaction.
func saveFenbeitong(t *testing.T, db *gorm.DB, ev *vendors.Event) {
	t.Helper()
	if err := db.Transaction(func(tx *gorm.DB) error { _, err := store.ReplaceTables(tx, ev.Tables); return err }); err != nil {
		t.Fatalf("save: %v", err)
	}
}

// counts returns the number of rows of order id in each car order table.
func counts(t *testing.T, db *gorm.DB, orderID string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for name, model := range map[string]any{
		"car_orders":         &models.FenbeitongCarOrder{},
		"price_details":      &models.FenbeitongPriceDetail{},
		"price_summaries":    &models.FenbeitongPriceSummary{},
		"people":             &models.FenbeitongPerson{},
		"cost_attributions":  &models.FenbeitongCostAttribution{},
		"attribution_detail": &models.FenbeitongCostAttributionDetail{},
		"cost_infos":         &models.FenbeitongCostInfo{},
		"cost_info_groups":   &models.FenbeitongCostInfoGroup{},
		"cost_info_items":    &models.FenbeitongCostInfoItem{},
		"notifiers":          &models.FenbeitongNotifier{},
		"third_ids":          &models.FenbeitongThirdIDs{},
		"orders":             &models.FenbeitongOrder{},
	} {
		var n int64
		if err := db.Model(model).Where("order_id = ?", orderID).Count(&n).Error; err != nil {
			t.Fatalf("count %s: %v", name, err)
		}
		out[name] = n
	}
	return out
}

func sameCounts(t *testing.T, got, want map[string]int64) {
	t.Helper()
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %d rows, want %d", k, got[k], w)
		}
	}
}

func TestFenbeitongSaveCarOrder(t *testing.T) {
	t.Parallel()
	testenv.EachStore(t, func(t *testing.T, db *gorm.DB) {
		ev, err := fenbeitong.Decode(fenbeitongSample(t))
		if err != nil {
			t.Fatal(err)
		}
		const id = "5eaab72f23445f46685f8cc8"
		full := map[string]int64{
			"car_orders": 1, "price_details": 2, "price_summaries": 1, "people": 2,
			"cost_attributions": 1, "attribution_detail": 6, "cost_infos": 1,
			"cost_info_groups": 2, "cost_info_items": 3, "notifiers": 1, "third_ids": 1, "orders": 1,
		}
		saveFenbeitong(t, db, ev)
		sameCounts(t, counts(t, db, id), full)
		var first models.FenbeitongCarOrder
		if err := db.Where("order_id = ?", id).First(&first).Error; err != nil {
			t.Fatal(err)
		}

		// Idempotent: a second run leaves the same rows and values.
		saveFenbeitong(t, db, ev)
		sameCounts(t, counts(t, db, id), full)

		var order models.FenbeitongCarOrder
		if err := db.Where("order_id = ?", id).First(&order).Error; err != nil {
			t.Fatal(err)
		}
		created := time.Date(2020, 4, 30, 11, 32, 1, 0, time.UTC)
		if order.Status != 700 || !order.CreateTime.Equal(created) || order.PaymentTime == nil || !order.PaymentTime.Equal(created) ||
			order.DepartureTime != nil || order.Sensitive == nil || *order.Sensitive || order.IsExceed != nil ||
			order.SaasIsExceed == nil || *order.SaasIsExceed || order.OrderOpType == nil || *order.OrderOpType != 10 {
			t.Fatalf("car order row %+v", order)
		}
		if order.Remark != `{"remark":"加班","remarkDetail":"图摸摸铁路局12399"}` {
			t.Fatalf("remark %q", order.Remark)
		}
		if !order.ActualDistance.Valid || order.ActualDistance.Decimal.String() != "2.3" {
			t.Fatalf("distance %v", order.ActualDistance)
		}
		first.ID, order.ID = 0, 0
		if a, b := testkit.JSON(t, first), testkit.JSON(t, order); a != b {
			t.Fatalf("second save changed the row:\n%s\n%s", a, b)
		}

		var sum models.FenbeitongPriceSummary
		if err := db.Where("order_id = ?", id).First(&sum).Error; err != nil {
			t.Fatal(err)
		}
		if !sum.TotalPrice.Valid || !sum.TotalPrice.Decimal.Equal(decimal.RequireFromString("14.16")) ||
			decimalText(sum.TotalPrice.Decimal) != "14.16" {
			t.Fatalf("total price reads back %v", sum.TotalPrice)
		}
		if !sum.CouponAmount.Valid || !sum.CouponAmount.Decimal.IsZero() {
			t.Fatalf("coupon %v", sum.CouponAmount)
		}

		var details []models.FenbeitongPriceDetail
		db.Where("order_id = ?", id).Order("seq").Find(&details)
		if len(details) != 2 || details[0].Name != "高速费" || decimalText(details[1].Amount.Decimal) != "14" {
			t.Fatalf("price details %+v", details)
		}

		var people []models.FenbeitongPerson
		db.Where("order_id = ?", id).Order("role").Find(&people)
		if len(people) != 2 || people[0].Role != "orderer" || people[0].PersonID != "5ea12bf723445f17d650fcb9" ||
			people[1].Role != "passenger" || people[1].FullUnitName != "北京分贝金服科技有限公司" {
			t.Fatalf("people %+v", people)
		}

		var attr models.FenbeitongCostAttribution
		db.Where("order_id = ?", id).First(&attr)
		if attr.Category == nil || *attr.Category != 1 ||
			attr.CustomExt != `[{"title":"都发发发","content":"呜呜呜呜呜呜"},{"title":"阿斯顿发","content":"阿萨阿啊阿"}]` {
			t.Fatalf("cost attribution %+v", attr)
		}

		var ad []models.FenbeitongCostAttributionDetail
		db.Where("order_id = ?", id).Order("group_seq, seq").Find(&ad)
		if len(ad) != 6 || ad[3].Type == nil || *ad[3].Type != 2 || ad[3].ThirdID != "cwxm004" ||
			decimalText(ad[2].Weight.Decimal) != "33.34" || decimalText(ad[2].Amount.Decimal) != "7" {
			t.Fatalf("attribution details %+v", ad)
		}

		var items []models.FenbeitongCostInfoItem
		db.Where("order_id = ?", id).Order("group_seq, seq").Find(&items)
		if len(items) != 3 || items[2].GroupSeq != 1 || items[2].Code != "23648978673434242564240" ||
			decimalText(items[2].Weight.Decimal) != "70" || !items[2].Price.Valid {
			t.Fatalf("cost info items %+v", items)
		}
		var groups []models.FenbeitongCostInfoGroup
		db.Where("order_id = ?", id).Order("seq").Find(&groups)
		if len(groups) != 2 || groups[1].Category != "2" || groups[1].CostAttributionRange == nil || *groups[1].CostAttributionRange != 2 {
			t.Fatalf("cost info groups %+v", groups)
		}

		var third models.FenbeitongThirdIDs
		db.Where("order_id = ?", id).First(&third)
		if third.ApplyID != "a04d2547-9f9f-49f2-895f-124f5171b31d" {
			t.Fatalf("third ids %+v", third)
		}

		var generic models.FenbeitongOrder
		db.Where("order_id = ?", id).First(&generic)
		if generic.Category != 3 || generic.Kind != "car_order" || generic.Status == nil || *generic.Status != 700 ||
			decimalText(generic.TotalPrice.Decimal) != "14.16" || generic.Raw != string(fenbeitongSample(t)) ||
			generic.CreateTime == nil || !generic.CreateTime.Equal(created) {
			t.Fatalf("generic row %+v", generic)
		}
	})
}

func TestFenbeitongSaveReplacesOlderState(t *testing.T) {
	t.Parallel()
	testenv.EachStore(t, func(t *testing.T, db *gorm.DB) {
		const id = "R-1"
		older, err := fenbeitong.Decode(fenbeitong.SampleBody(id, 350, "2024-05-01 10:00:00"))
		if err != nil {
			t.Fatal(err)
		}
		saveFenbeitong(t, db, older)

		// The newer state has one price line, a passenger-less order,
		// one cost attribution group, no cost_info and no third_info.
		body := fenbeitong.SampleBody(id, 700, "2024-05-01 10:00:00")
		body = testkit.Replace(t, body, `{
				"name": "高速费",
				"amount": "10",
				"type": "highway_fee"
			},`, ``)
		body = testkit.Replace(t, body, `"passenger_info": {`, `"passenger_info_old": {`)
		body = testkit.Replace(t, body, `"cost_info": {`, `"cost_info_old": {`)
		body = testkit.Replace(t, body, `"third_info": {`, `"third_info_old": {`)
		body = testkit.Replace(t, body, `"total_price": 14.16`, `"total_price": "99.90"`)
		newer, err := fenbeitong.Decode(body)
		if err != nil {
			t.Fatal(err)
		}
		saveFenbeitong(t, db, newer)
		want := map[string]int64{
			"car_orders": 1, "price_details": 1, "price_summaries": 1, "people": 1,
			"cost_attributions": 1, "attribution_detail": 6, "cost_infos": 0,
			"cost_info_groups": 0, "cost_info_items": 0, "notifiers": 1, "third_ids": 0, "orders": 1,
		}
		sameCounts(t, counts(t, db, id), want)
		saveFenbeitong(t, db, newer)
		sameCounts(t, counts(t, db, id), want)

		var order models.FenbeitongCarOrder
		db.Where("order_id = ?", id).First(&order)
		if order.Status != 700 || order.StatusName != "已完成" {
			t.Fatalf("order %+v", order)
		}
		var detail models.FenbeitongPriceDetail
		db.Where("order_id = ?", id).First(&detail)
		if detail.Seq != 0 || detail.Type != "start_price" {
			t.Fatalf("price detail %+v", detail)
		}
		var sum models.FenbeitongPriceSummary
		db.Where("order_id = ?", id).First(&sum)
		if decimalText(sum.TotalPrice.Decimal) != "99.9" {
			t.Fatalf("total %v", sum.TotalPrice)
		}
		var generic models.FenbeitongOrder
		db.Where("order_id = ?", id).First(&generic)
		if *generic.Status != 700 || decimalText(generic.TotalPrice.Decimal) != "99.9" {
			t.Fatalf("generic %+v", generic)
		}

		// Another order's rows are untouched.
		other, _ := fenbeitong.Decode(fenbeitong.SampleBody("R-2", 700, "2024-05-01 10:00:00"))
		saveFenbeitong(t, db, other)
		saveFenbeitong(t, db, newer)
		if c := counts(t, db, "R-2"); c["price_details"] != 2 || c["people"] != 2 {
			t.Fatalf("other order's rows changed: %v", c)
		}
	})
}

func TestFenbeitongSaveOtherCategory(t *testing.T) {
	t.Parallel()
	testenv.EachStore(t, func(t *testing.T, db *gorm.DB) {
		body := []byte(`{"order_info":{"order_id":"X-1","order_category_type":11,"status":1800,"status_name":"已入住","create_time":"2024-05-01 10:00:00"},"price_info":{"total_price":"1234567890.1234"}}`)
		ev, err := fenbeitong.Decode(body)
		if err != nil {
			t.Fatal(err)
		}
		saveFenbeitong(t, db, ev)
		saveFenbeitong(t, db, ev)
		// The same order id under another category is another record.
		train, err := fenbeitong.Decode([]byte(`{"order_info":{"order_id":"X-1","order_category_type":15}}`))
		if err != nil {
			t.Fatal(err)
		}
		saveFenbeitong(t, db, train)

		var rows []models.FenbeitongOrder
		db.Where("order_id = ?", "X-1").Order("category").Find(&rows)
		if len(rows) != 2 {
			t.Fatalf("%d rows", len(rows))
		}
		h := rows[0]
		if h.Category != 11 || h.CategoryName != "hotel" || h.Kind != "hotel_order" || h.Status == nil || *h.Status != 1800 ||
			h.StatusName != "已入住" || decimalText(h.TotalPrice.Decimal) != "1234567890.1234" || h.Raw != string(body) ||
			h.CreateTime == nil || !h.CreateTime.Equal(time.Date(2024, 5, 1, 2, 0, 0, 0, time.UTC)) {
			t.Fatalf("hotel row %+v", h)
		}
		if tr := rows[1]; tr.Category != 15 || tr.Status != nil || tr.TotalPrice.Valid || tr.CreateTime != nil {
			t.Fatalf("train row %+v", tr)
		}
		var cars int64
		db.Model(&models.FenbeitongCarOrder{}).Count(&cars)
		if cars != 0 {
			t.Fatalf("a hotel push wrote %d car orders", cars)
		}
	})
}

// Money is exact on both stores: DECIMAL(65,30) on MySQL, its text on SQLite.
func TestFenbeitongMoneyExact(t *testing.T) {
	t.Parallel()
	body := testkit.Replace(t, fenbeitongSample(t), `"total_price": 14.16`, `"total_price": 98765432101234.5678`)
	testenv.EachStore(t, func(t *testing.T, db *gorm.DB) {
		ev, err := fenbeitong.Decode(body)
		if err != nil {
			t.Fatal(err)
		}
		saveFenbeitong(t, db, ev)
		var sum models.FenbeitongPriceSummary
		if err := db.Where("order_id = ?", ev.ExternalID).First(&sum).Error; err != nil {
			t.Fatal(err)
		}
		if decimalText(sum.TotalPrice.Decimal) != "98765432101234.5678" {
			t.Fatalf("reads back %v", sum.TotalPrice)
		}
		var text, typ string
		if db.Name() == "mysql" {
			db.Raw("SELECT CAST(total_price AS CHAR) FROM fenbeitong_price_summaries WHERE order_id = ?", ev.ExternalID).Scan(&text)
			db.Raw("SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'fenbeitong_price_summaries' AND COLUMN_NAME = 'total_price'").Scan(&typ)
			if text != "98765432101234.567800000000000000000000000000" || typ != "decimal(65,30)" {
				t.Fatalf("stored %q in a %q column", text, typ)
			}
			return
		}
		db.Raw("SELECT typeof(total_price) || ':' || total_price FROM fenbeitong_price_summaries WHERE order_id = ?", ev.ExternalID).Scan(&text)
		if text != "text:98765432101234.5678" {
			t.Fatalf("stored %q, want the decimal text", text)
		}
	})
}

// Free text of any length is stored whole; a short column (an id that is no
// key, a phone number) keeps what fits, with a warning, and the record's data
// keeps the value whole; exact decimals at and past their columns' limits.
func TestFenbeitongSaveBeyondColumnLimits(t *testing.T) {
	t.Parallel()
	sample := fenbeitongSample(t)
	longID := strings.Repeat("9", idLen+1)
	longName := strings.Repeat("费", 100_000)
	longText := strings.Repeat("😀", 100_000)
	longPhone := strings.Repeat("1", phoneLen+6)
	body := testkit.Replace(t, sample, `"supplier_order_id": "139949602000"`, `"supplier_order_id": "`+longID+`"`)
	body = testkit.Replace(t, body, `"cost_category": "市场活动费"`, `"cost_category": "`+longName+`"`)
	body = testkit.Replace(t, body, `"exceed_remark_detail": "详情"`, `"exceed_remark_detail": "`+longText+`"`)
	body = testkit.Replace(t, body, `"notifier_phone": "12055924474"`, `"notifier_phone": "`+longPhone+`"`)
	largest := strings.Repeat("9", 35) + "." + strings.Repeat("9", 30)
	body = testkit.Replace(t, body, `"total_price": 14.16`, `"total_price": `+largest)
	body = testkit.Replace(t, body, `"weight": 30.0`, `"weight": 33.3333333333`)
	// 33.33 with 32 decimals (a Java BigDecimal division) is more than DECIMAL(65,30) holds.
	tooFine := "33." + strings.Repeat("3", 32)
	body = testkit.Replace(t, body, `"weight": 70.0`, `"weight": `+tooFine)
	testenv.EachStore(t, func(t *testing.T, db *gorm.DB) {
		ev, err := fenbeitong.Decode(body)
		if err != nil {
			t.Fatal(err)
		}
		var warnings []string
		if err := db.Transaction(func(tx *gorm.DB) error {
			warnings, err = store.ReplaceTables(tx, ev.Tables)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var order models.FenbeitongCarOrder
		db.Where("order_id = ?", ev.ExternalID).First(&order)
		if order.ExceedRemarkDetail != longText || order.CostCategory != longName {
			t.Fatalf("long text cut: %d %d", len([]rune(order.ExceedRemarkDetail)), len([]rune(order.CostCategory)))
		}
		if order.SupplierOrderID != longID[:idLen] {
			t.Fatalf("supplier order id stored as %d characters, want the %d that fit", len(order.SupplierOrderID), idLen)
		}
		var notifier models.FenbeitongNotifier
		db.Where("order_id = ?", ev.ExternalID).First(&notifier)
		if notifier.Phone != longPhone[:phoneLen] {
			t.Fatalf("phone stored as %q", notifier.Phone)
		}
		if got := testkit.At(t, testkit.JSONObject(t, ev.Data), "supplier_order_id"); got != longID {
			t.Fatalf("supplier order id in data %v", got)
		}
		var sum models.FenbeitongPriceSummary
		db.Where("order_id = ?", ev.ExternalID).First(&sum)
		if decimalText(sum.TotalPrice.Decimal) != largest {
			t.Fatalf("largest amount reads back %v", sum.TotalPrice)
		}
		var items []models.FenbeitongCostInfoItem
		db.Where("order_id = ?", ev.ExternalID).Order("group_seq, seq").Find(&items)
		if decimalText(items[1].Weight.Decimal) != "33.3333333333" {
			t.Fatalf("weight stored as %v, want 33.3333333333", items[1].Weight)
		}
		// Never rounded: NULL in the column, a warning, the exact value in the data.
		if items[2].Weight.Valid {
			t.Fatalf("a weight finer than the column stored as %v", items[2].Weight)
		}
		wantWarnings := []string{
			"fenbeitong_car_orders.supplier_order_id (row 0): longer than its column's 128 characters; stored cut to 128 there, kept whole in the record's data",
			"fenbeitong_cost_info_items.weight (row 2): has more digits than DECIMAL(65,30) holds; stored NULL there, kept exactly in the record's data",
			"fenbeitong_notifiers.phone (row 0): longer than its column's 64 characters; stored cut to 64 there, kept whole in the record's data",
		}
		slices.Sort(warnings)
		if !slices.Equal(warnings, wantWarnings) {
			t.Fatalf("warnings %q", warnings)
		}
		if got := testkit.At(t, testkit.JSONObject(t, ev.Data), "saas_info", "cost_info", 0, "cost_attribution_group_list", 1, "cost_attribution_list", 1, "weight"); got != tooFine {
			t.Fatalf("weight in data %v", got)
		}
	})
}

// fenbeitongSample is the car order push of Fenbeitong's callback page.
func fenbeitongSample(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("../vendors/fenbeitong/testdata/car_order_push.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decimalText is a decimal's plain text without trailing fractional zeros.
func decimalText(d decimal.Decimal) string { return d.String() }

// The column limits Fenbeitong's decoder enforces, in characters.
const (
	idLen    = 128
	phoneLen = 64
)

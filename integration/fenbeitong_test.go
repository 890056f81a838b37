package integration

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/erpbridge/erpbridge/erp/erpsim"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/vendors/autox3"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong"
	"github.com/erpbridge/erpbridge/vendors/lenient"
)

// fbtBody is the seed sample for an order, status and China-time creation time.
func fbtBody(orderID string, status int, at time.Time) []byte {
	return fenbeitong.SampleBody(orderID, status, at.In(lenient.China).Format("2006-01-02 15:04:05"))
}

func fbtWorkflowID(t *testing.T, body []byte) string {
	t.Helper()
	p, err := fenbeitong.ParsePush(body)
	if err != nil {
		t.Fatal(err)
	}
	return flow.EventWorkflowID("fenbeitong", p.EventKey())
}

// A car-order push lands normalised in the database with exact money and at the ERP.
func TestFenbeitongPushLandsExactly(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, s *stack) {
		orderID := "fbt" + testkit.RandomHex(8)
		at := time.Date(2020, 4, 30, 19, 32, 1, 0, lenient.China)
		body := fbtBody(orderID, 700, at)
		s.mustAccept(fbtPath(), body)
		s.mustResult(fbtWorkflowID(t, body), string(models.EventSynced))

		var total string
		if err := s.db.Raw("SELECT CAST(total_price AS CHAR) FROM fenbeitong_price_summaries WHERE order_id = ?", orderID).Scan(&total).Error; err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(total, "14.16") || strings.Contains(total, "14.159") {
			t.Fatalf("total_price stored as %q, want 14.16 exactly", total)
		}
		for _, table := range []string{"fenbeitong_car_orders", "fenbeitong_orders", "fenbeitong_price_summaries"} {
			var n int64
			s.db.Table(table).Where("order_id = ?", orderID).Count(&n)
			if n != 1 {
				t.Errorf("%s has %d rows for the order, want 1", table, n)
			}
		}
		var details int64
		s.db.Table("fenbeitong_price_details").Where("order_id = ?", orderID).Count(&details)
		if details != 2 {
			t.Errorf("%d price detail rows, want 2", details)
		}

		r := s.oneRecord("car_order", orderID)
		raw := string(r.Data)
		if r.Source != "fenbeitong" || !strings.Contains(raw, `"14.16"`) || strings.Contains(raw, "14.159") {
			t.Fatalf("ERP record source %s data %s", r.Source, raw)
		}
		if _, off := r.OccurredAt.Zone(); off != 8*3600 && !r.OccurredAt.Equal(at) {
			t.Fatalf("occurred_at %s, want %s", r.OccurredAt, at)
		}
		if !strings.Contains(raw, "+08:00") {
			t.Fatalf("ERP data times are not RFC 3339 with the China offset: %s", raw)
		}
	})
}

// Every other category is accepted, stored raw with its key fields and synced generically.
func TestFenbeitongOtherCategoriesSyncGenerically(t *testing.T) {
	s := newStack(t, "mysql")
	for _, cat := range []struct {
		code int
		kind string
	}{{7, "flight_order"}, {11, "hotel_order"}, {912, "fee_waiver_order"}, {4242, "order"}} {
		orderID := fmt.Sprintf("cat%d-%s", cat.code, testkit.RandomHex(4))
		body := strings.Replace(string(fbtBody(orderID, 700, time.Now())), `"order_category_type": 3`, fmt.Sprintf(`"order_category_type": %d`, cat.code), 1)
		s.mustAccept(fbtPath(), []byte(body))
		s.mustResult(fbtWorkflowID(t, []byte(body)), string(models.EventSynced))
		if recs := s.records(cat.kind, orderID); len(recs) != 1 {
			t.Fatalf("category %d: ERP has %d %s records, want 1", cat.code, len(recs), cat.kind)
		}
		var n int64
		s.db.Table("fenbeitong_orders").Where("order_id = ?", orderID).Count(&n)
		if n != 1 {
			t.Fatalf("category %d not stored with its key fields", cat.code)
		}
	}
}

// A missing or wrong token is refused with 401 and starts nothing.
func TestFenbeitongTokenRequired(t *testing.T) {
	t.Parallel()
	s := newStack(t, "mysql")
	body := fbtBody("tok"+testkit.RandomHex(6), 700, time.Now())
	for _, path := range []string{"/webhooks/fenbeitong", "/webhooks/fenbeitong?token=wrong", "/webhooks/fenbeitong?token="} {
		code, ans := s.post(path, body)
		if code != http.StatusUnauthorized || ans["code"] == float64(0) || !strings.Contains(ans["msg"].(string), "token") {
			t.Fatalf("%s answered %d %v", path, code, ans)
		}
	}
	if s.exists(fbtWorkflowID(t, body)) {
		t.Fatal("a workflow was started without the token")
	}
}

// Five concurrent redeliveries of one push: one workflow, one ERP record.
func TestFenbeitongConcurrentRedeliveries(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *stack) {
		orderID := "dup" + testkit.RandomHex(6)
		body := fbtBody(orderID, 700, time.Now())
		parallel(5, func(int) { s.mustAccept(fbtPath(), body) })
		wfID := fbtWorkflowID(t, body)
		s.mustResult(wfID, string(models.EventSynced))
		testenv.Eventually(t, "one workflow", 30*time.Second, func() error {
			n, err := s.count(fmt.Sprintf("WorkflowId = %q", wfID))
			if err != nil || n != 1 {
				return fmt.Errorf("%d workflows, err %v", n, err)
			}
			return nil
		})
		s.oneRecord("car_order", orderID)
	})
}

// Status 700 then a late 350: the ERP's last record for the order stays 700,
// and the stale 350 never reaches it.
func TestFenbeitongLatePushNeverOverwrites(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *stack) {
		orderID := "late" + testkit.RandomHex(6)
		at := time.Now().Add(-time.Hour)
		done := fbtBody(orderID, 700, at)
		s.mustAccept(fbtPath(), done)
		s.mustResult(fbtWorkflowID(t, done), string(models.EventSynced))
		late := fbtBody(orderID, 350, at.Add(30*time.Minute)) // later clock, earlier lifecycle
		s.mustAccept(fbtPath(), late)
		s.mustResult(fbtWorkflowID(t, late), string(models.EventSuperseded))

		recs := s.records("car_order", orderID)
		if len(recs) != 1 || statusOf(t, recs[len(recs)-1].Data) != "700" {
			t.Fatalf("ERP records for the order: %d, last status %s", len(recs), statusOf(t, recs[len(recs)-1].Data))
		}
		var status string
		s.db.Raw("SELECT CAST(status AS CHAR) FROM fenbeitong_car_orders WHERE order_id = ?", orderID).Scan(&status)
		if status != "700" {
			t.Fatalf("database keeps status %s, want 700", status)
		}
	})
}

// 400/500/600/700 pushed concurrently in shuffled order, for many orders:
// the ERP ends on 700 every time and never receives an older state after a newer one.
func TestFenbeitongShuffledPushesEndOnNewest(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *stack) {
		const rounds, orders = 3, 6
		statuses := []int{400, 500, 600, 700}
		for round := range rounds {
			type push struct {
				order string
				body  []byte
			}
			var all []push
			var ids []string
			base := time.Now().Add(-2 * time.Hour)
			for o := range orders {
				id := fmt.Sprintf("shuf%d-%d-%s", round, o, testkit.RandomHex(4))
				ids = append(ids, id)
				for i, st := range statuses {
					all = append(all, push{id, fbtBody(id, st, base.Add(time.Duration(i)*time.Minute))})
				}
			}
			rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
			parallel(len(all), func(i int) { s.mustAccept(fbtPath(), all[i].body) })
			for _, p := range all {
				if _, err := s.result(fbtWorkflowID(t, p.body)); err != nil {
					t.Fatalf("push workflow failed: %v", err)
				}
			}
			for _, id := range ids {
				testenv.Eventually(t, "order "+id+" ends on 700 at the ERP", time.Minute, func() error {
					recs := s.records("car_order", id)
					if len(recs) == 0 {
						return fmt.Errorf("no record yet")
					}
					if last := statusOf(t, recs[len(recs)-1].Data); last != "700" {
						return fmt.Errorf("last status %s", last)
					}
					return nil
				})
				assertVersionsGrow(t, s.records("car_order", id))
			}
		}
	})
}

// The same for AutoX3 events of one receiveBaseId with shuffled createTimes.
func TestAutoX3ShuffledEventsEndOnNewest(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *stack) {
		const rounds, perRound = 3, 5
		for range rounds {
			rbid := uniqueID()
			base := time.Now().Add(-time.Hour).UnixMilli()
			var bodies [][]byte
			var newest int64
			for i := range perRound {
				ct := base + int64(i)*1000
				newest = max(newest, ct)
				bodies = append(bodies, autox3.SampleReceptionBody(uuid.NewString(), rbid, ct, appSecret))
			}
			rand.Shuffle(len(bodies), func(i, j int) { bodies[i], bodies[j] = bodies[j], bodies[i] })
			parallel(len(bodies), func(i int) { s.mustAccept("/webhooks/autox3", bodies[i]) })
			ext := strconv.FormatInt(rbid, 10)
			testenv.Eventually(t, "reception order ends on the newest createTime", time.Minute, func() error {
				recs := s.records("reception_order", ext)
				if len(recs) == 0 || recs[len(recs)-1].Version != newest {
					return fmt.Errorf("%d records, newest not last", len(recs))
				}
				return nil
			})
			assertVersionsGrow(t, s.records("reception_order", ext))
			var st models.RecordState
			s.db.Where("kind = ? AND external_id = ?", "reception_order", ext).Take(&st)
			if st.Version != newest {
				t.Fatalf("database keeps version %d, want %d", st.Version, newest)
			}
		}
	})
}

// assertVersionsGrow checks the ERP never accepted an older state after a newer one.
func assertVersionsGrow(t *testing.T, recs []erpsim.Entry) {
	t.Helper()
	for i := 1; i < len(recs); i++ {
		if recs[i].Version <= recs[i-1].Version {
			t.Fatalf("ERP accepted version %d after %d", recs[i].Version, recs[i-1].Version)
		}
	}
}

func statusOf(t *testing.T, data json.RawMessage) string {
	t.Helper()
	var d struct {
		Status json.RawMessage `json:"status"`
		Order  struct {
			Status json.RawMessage `json:"status"`
		} `json:"order"`
		OrderInfo struct {
			Status json.RawMessage `json:"status"`
		} `json:"order_info"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	for _, raw := range []json.RawMessage{d.OrderInfo.Status, d.Order.Status, d.Status} {
		if len(raw) > 0 {
			return strings.Trim(string(raw), `"`)
		}
	}
	t.Fatalf("no status in ERP data %s", data)
	return ""
}

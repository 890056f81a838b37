package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/erp/erpsim"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/store"
	"github.com/erpbridge/erpbridge/vendors/autox3"
)

// receptionWithNote is a signed reception order whose content carries an
// extra field of about size bytes of text, as a vendor may add one.
func receptionWithNote(msgID string, rb int64, text string, size int) []byte {
	build := func(note string) []byte {
		content := fmt.Sprintf(`{"receiveBaseId":%d,"carInfo":{"carBrandName":"BMW","carNum":"A1"},"preCheckInfo":{"odograph":1.5,"oilGauge":50},"note":%q}`, rb, note)
		return autox3.BuildBody(msgID, autox3.MsgTypeReceptionCreate, time.Now().UnixMilli(), json.RawMessage(`{"staffId":1}`),
			json.RawMessage(content), false, appSecret)
	}
	base := len(build(""))
	return build(strings.Repeat(text, (size-base)/len(text)))
}

// Authentic callbacks up to the body limit are kept and synced whatever their
// characters: the history carries a claim check, not the body, so neither
// JSON escaping nor Temporal's payload limits can refuse them.
func TestLargeCallbacksAreKept(t *testing.T) {
	s := newStack(t, "mysql")
	for _, tt := range []struct {
		name, text string
		size       int
	}{
		{"1 MiB of markup characters", "<>&", 1<<20 - 512},
		{"900 KB of Chinese text", "汉字报文", 900_000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rb := uniqueID()
			msgID := fmt.Sprintf("large-%d", rb)
			body := receptionWithNote(msgID, rb, tt.text, tt.size)
			if len(body) > 1<<20 || len(body) < tt.size-64 {
				t.Fatalf("body of %d bytes, want just under %d", len(body), tt.size)
			}
			s.mustAccept("/webhooks/autox3", body)
			s.mustResult(flow.EventWorkflowID("autox3", msgID), string(models.EventSynced))
			if n := len(s.records("reception_order", strconv.FormatInt(rb, 10))); n != 1 {
				t.Fatalf("ERP has %d records, want 1", n)
			}
			stored, ok, err := store.New(s.db).Callback(t.Context(), "autox3", msgID)
			if err != nil || !ok || !bytes.Equal(stored, body) {
				t.Fatalf("stored callback differs from the posted one (found %v, err %v)", ok, err)
			}
		})
	}
}

// postTo sends a callback to one api replica.
func postTo(t *testing.T, base, path string, body []byte) int {
	t.Helper()
	resp, err := http.Post(base+path, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Errorf("POST %s%s: %v", base, path, err)
		return 0
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Logf("POST %s answered %d %s", path, resp.StatusCode, answer)
	}
	return resp.StatusCode
}

// Temporal stopped, MySQL up: every callback is acknowledged while Temporal
// is down, by either of two api replicas, and once Temporal is back their
// relays start every one, even with one replica killed mid-relay: each
// record reaches the ERP exactly once. Redeliveries while queued and after
// the relay started them are duplicates.
func TestTemporalOutageLosesNothing(t *testing.T) {
	// The stack reaches Temporal through a proxy the test stops: every
	// connection is cut and new ones are refused, as when the frontend is
	// down or partitioned away, while the dev server itself keeps its state.
	p := startProxy(t, testenv.Temporal(t).FrontendHostPort())
	logs := &testkit.Buffer{}
	s := newStack(t, "mysql", stackOptions{temporalAddress: p.addr, logs: logs})
	defer func() {
		if t.Failed() {
			for _, line := range strings.Split(logs.String(), "\n") {
				if strings.Contains(line, "relay") || strings.Contains(line, `"level":"ERROR"`) {
					t.Log(line)
				}
			}
		}
	}()
	second, killSecond := s.addAPI()
	apis := []string{s.apiURL, second}

	const n = 300
	type callback struct {
		path, workflowID, kind, externalID string
		body                               []byte
	}
	cbs := make([]callback, n)
	base := uniqueID()
	for i := range cbs {
		if i%2 == 0 {
			rb := base*1000 + int64(i)
			msgID := fmt.Sprintf("outage-%d", rb)
			cbs[i] = callback{"/webhooks/autox3", flow.EventWorkflowID("autox3", msgID), "reception_order", strconv.FormatInt(rb, 10),
				autox3.SampleReceptionBody(msgID, rb, time.Now().UnixMilli(), appSecret)}
		} else {
			orderID := fmt.Sprintf("OUT-%d-%d", base, i)
			body := fbtBody(orderID, 700, time.Now())
			cbs[i] = callback{fbtPath(), fbtWorkflowID(t, body), "car_order", orderID, body}
		}
	}

	p.stop()
	// How long Temporal stays down: ERPBRIDGE_TEST_OUTAGE (e.g. 10m, for the
	// README's figure), 15s by default.
	outage := envDuration(t, "ERPBRIDGE_TEST_OUTAGE", 15*time.Second)
	started := time.Now()
	pace := time.NewTicker(outage / n)
	for i, cb := range cbs {
		<-pace.C
		if code := postTo(t, apis[i%2], cb.path, cb.body); code != http.StatusOK {
			t.Fatalf("callback %d answered %d while Temporal was down", i, code)
		}
		if i%25 == 0 { // a redelivery while queued
			if code := postTo(t, apis[(i+1)%2], cb.path, cb.body); code != http.StatusOK {
				t.Fatalf("redelivery of %d answered %d", i, code)
			}
		}
	}
	pace.Stop()
	var waiting int64
	s.db.Model(&models.InboundEvent{}).Where("started_at IS NULL").Count(&waiting)
	if waiting != n {
		t.Fatalf("%d callbacks waiting for a workflow after %s of outage, want %d", waiting, time.Since(started).Round(time.Second), n)
	}
	if code, body := s.get("/readyz"); code != http.StatusOK || !strings.Contains(body, `"temporal":"unreachable"`) {
		t.Fatalf("readyz during the outage: %d %s", code, body)
	}

	p.start(t)
	restarted := time.Now()
	// Kill the second replica while the relays work through the backlog.
	testenv.Eventually(t, "relays under way", 2*time.Minute, func() error {
		var left int64
		s.db.Model(&models.InboundEvent{}).Where("started_at IS NULL").Count(&left)
		if left == n {
			return fmt.Errorf("%d waiting", left)
		}
		return nil
	})
	killSecond()
	for i := 0; i < n; i += 50 { // redeliveries after the relay started them
		if code := postTo(t, s.apiURL, cbs[i].path, cbs[i].body); code != http.StatusOK {
			t.Fatalf("late redelivery of %d answered %d", i, code)
		}
	}
	// Every event ends synced; on a loaded 2-core machine 300 of them take minutes.
	testenv.Eventually(t, "every callback synced", 8*time.Minute, func() error {
		var synced int64
		s.db.Model(&models.InboundEvent{}).Where("(event_key LIKE ? OR event_key LIKE ?) AND sync_status = ?", "outage-%", "%OUT-%", string(models.EventSynced)).Count(&synced)
		if synced != n {
			return fmt.Errorf("%d of %d synced", synced, n)
		}
		return nil
	})
	t.Logf("%d callbacks over a %s outage; all synced %s after Temporal returned", n, outage, time.Since(restarted).Round(time.Second))
	for _, cb := range cbs {
		if got := len(s.records(cb.kind, cb.externalID)); got != 1 {
			t.Errorf("%s/%s reached the ERP %d times, want once", cb.kind, cb.externalID, got)
		}
	}
	var events int64
	s.db.Model(&models.InboundEvent{}).Where("event_key LIKE ? OR event_key LIKE ?", "outage-%", "%OUT-%").Count(&events)
	if events != n {
		t.Errorf("%d stored callbacks, want %d", events, n)
	}
}

// MySQL cut off, Temporal up: the edge keeps callbacks through Temporal
// (their bodies in their workflows' starts); once MySQL is back each is
// stored by its workflow and synced, and a vendor's redelivery is a
// duplicate. What it stored before is synced too. TestStoreOutageCostsNoCallback
// kills a MariaDB of its own under load; this one cuts the connections.
func TestMySQLOutageKeepsThroughTemporal(t *testing.T) {
	target := testenv.NewMySQLDatabase(t)
	p := startProxy(t, "127.0.0.1:3306")
	s := newStack(t, "mysql", stackOptions{mysqlDSN: strings.Replace(target, "127.0.0.1:3306", p.addr, 1)})

	var acked []string
	for i := range 10 {
		rb := uniqueID()*10 + int64(i)
		msgID := fmt.Sprintf("mysql-down-%d", rb)
		s.mustAccept("/webhooks/autox3", autox3.SampleReceptionBody(msgID, rb, time.Now().UnixMilli(), appSecret))
		acked = append(acked, flow.EventWorkflowID("autox3", msgID))
	}
	p.stop()
	rb := uniqueID()
	carried := autox3.SampleReceptionBody(fmt.Sprintf("mysql-down-r-%d", rb), rb, time.Now().UnixMilli(), appSecret)
	s.mustAccept("/webhooks/autox3", carried)
	orderID := fmt.Sprintf("DOWN-%d", rb)
	push := fbtBody(orderID, 700, time.Now())
	s.mustAccept(fbtPath(), push)
	s.mustAccept("/webhooks/autox3", carried) // redelivered while MySQL is still down: the workflow exists
	p.start(t)
	code, ans := s.post("/webhooks/autox3", carried) // and once it is back
	if code != http.StatusOK {
		t.Fatalf("redelivery after MySQL came back: %d %v", code, ans)
	}
	for _, id := range append(acked, flow.EventWorkflowID("autox3", fmt.Sprintf("mysql-down-r-%d", rb))) {
		s.mustResult(id, string(models.EventSynced))
	}
	if n := len(s.records("reception_order", strconv.FormatInt(rb, 10))); n != 1 {
		t.Fatalf("the carried reception order reached the ERP %d times, want once", n)
	}
	testenv.Eventually(t, "the carried push at the ERP", time.Minute, func() error {
		if n := len(s.records("car_order", orderID)); n != 1 {
			return fmt.Errorf("%d records", n)
		}
		return nil
	})
	stored, ok, err := store.New(s.db).Callback(t.Context(), "autox3", fmt.Sprintf("mysql-down-r-%d", rb))
	if err != nil || !ok || !bytes.Equal(stored, carried) {
		t.Fatalf("the carried callback was not stored as received (found %v, err %v)", ok, err)
	}
}

// MySQL that hangs instead of refusing (a partition that drops packets, a
// frozen server): the edge waits out its store budget, carries each
// callback through Temporal and answers within AutoX3's 2 s; /readyz says
// the database is degraded; and once MySQL answers again nothing the relay
// held while it hung is left waiting: the callback stored just before,
// whose start the relay may have been claiming, and the carried ones all
// reach the ERP once.
func TestMySQLThatHangsKeepsThroughTemporal(t *testing.T) {
	target := testenv.NewMySQLDatabase(t)
	p := startProxy(t, "127.0.0.1:3306")
	s := newStack(t, "mysql", stackOptions{mysqlDSN: strings.Replace(target, "127.0.0.1:3306", p.addr, 1)})
	msgID := func(rb int64) string { return fmt.Sprintf("mysql-hang-%d", rb) }
	before := uniqueID()
	s.mustAccept("/webhooks/autox3", autox3.SampleReceptionBody(msgID(before), before, time.Now().UnixMilli(), appSecret))
	p.freeze()
	all := []int64{before}
	for i := range 4 {
		rb := uniqueID()*10 + int64(i)
		began := time.Now()
		code, ans := s.post("/webhooks/autox3", autox3.SampleReceptionBody(msgID(rb), rb, time.Now().UnixMilli(), appSecret))
		if code != http.StatusOK {
			t.Fatalf("callback %d while MySQL hangs: %d %v", i, code, ans)
		}
		// AutoX3 redelivers what is not answered within 2 s.
		if took := time.Since(began); took >= 2*time.Second {
			t.Errorf("callback %d answered after %s while MySQL hangs, want under AutoX3's 2 s", i, took.Round(time.Millisecond))
		}
		all = append(all, rb)
	}
	if code, body := s.get("/readyz"); code != http.StatusOK || !strings.Contains(body, `"degraded":"database"`) {
		t.Fatalf("readyz while MySQL hangs: %d %s", code, body)
	}
	p.thaw()
	for _, rb := range all {
		s.mustResult(flow.EventWorkflowID("autox3", msgID(rb)), string(models.EventSynced))
		if n := len(s.records("reception_order", strconv.FormatInt(rb, 10))); n != 1 {
			t.Errorf("order %d reached the ERP %d times, want once", rb, n)
		}
	}
	var waiting int64
	s.db.Model(&models.InboundEvent{}).Where("event_key LIKE ? AND started_at IS NULL", "mysql-hang-%").Count(&waiting)
	if waiting != 0 {
		t.Errorf("%d callbacks still waiting for a workflow after MySQL answered again", waiting)
	}
}

// An ERP that echoes the record in its rejection puts no personal data into
// Temporal in clear, nor into the service's logs: failures are encrypted and
// their messages fingerprint the ERP's answer. The full reason stays in
// MySQL and in the decoded status query.
func TestRejectionReasonStaysPrivate(t *testing.T) {
	logs := &testkit.Buffer{}
	s := newStack(t, "mysql", stackOptions{logs: logs})
	const vin, mobile = "LSVNV2182E2199999", "13800001111"
	rb := uniqueID()
	if err := s.sim.SetFaults(erpsim.Faults{RejectExternalIDs: []string{strconv.FormatInt(rb, 10)},
		RejectReason: fmt.Sprintf("vehicle %s of owner %s is not in the fleet", vin, mobile)}); err != nil {
		t.Fatal(err)
	}
	msgID := fmt.Sprintf("reject-%d", rb)
	content := fmt.Sprintf(`{"receiveBaseId":%d,"carInfo":{"carVin":%q,"carOwnerMobile":%q},"preCheckInfo":{}}`, rb, vin, mobile)
	s.mustAccept("/webhooks/autox3", autox3.BuildBody(msgID, autox3.MsgTypeReceptionCreate, time.Now().UnixMilli(),
		json.RawMessage(`{"staffId":1}`), json.RawMessage(content), false, appSecret))
	eventID := flow.EventWorkflowID("autox3", msgID)
	recordID := flow.RecordWorkflowID("autox3", "reception_order", strconv.FormatInt(rb, 10))
	testenv.Eventually(t, "the record parked as rejected", time.Minute, func() error {
		if st, _ := s.syncStatus(recordID); st != string(models.RecordRejected) {
			return fmt.Errorf("record SyncStatus %q", st)
		}
		return nil
	})

	for _, id := range []string{eventID, recordID} {
		raw := s.rawHistory(id)
		for _, secret := range []string{vin, mobile} {
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("raw history of %s holds %q", id, secret)
			}
		}
	}
	for _, secret := range []string{vin, mobile} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the service's logs hold %q", secret)
		}
	}
	if !strings.Contains(logs.String(), "sha256") {
		t.Errorf("no log line fingerprints the ERP's answer; the test may not have seen the failure logged")
	}
	var st models.RecordState
	s.db.Where("vendor = ? AND kind = ? AND external_id = ?", "autox3", "reception_order", strconv.FormatInt(rb, 10)).Take(&st)
	if !strings.Contains(st.LastError, vin) {
		t.Errorf("MySQL keeps %q as the last error, want the ERP's full answer", st.LastError)
	}
	if q := s.queryStatus(recordID); !strings.Contains(q.LastError, vin) {
		t.Errorf("status query says %q, want the ERP's full answer", q.LastError)
	}
}

// Authentic callbacks near the body limit whose size is all free text (one
// huge remark; a long inspection report) reach the ERP whole: free text is
// never a reason to refuse, cut or park a callback.
func TestLongFreeTextReachesTheERPWhole(t *testing.T) {
	s := newStack(t, "mysql")
	t.Run("a reception order's remark", func(t *testing.T) {
		rb := uniqueID()
		msgID := fmt.Sprintf("remark-%d", rb)
		build := func(remark string) []byte {
			content, _ := json.Marshal(map[string]any{"receiveBaseId": rb, "carInfo": map[string]any{"carNum": "A1"},
				"preCheckInfo": map[string]any{"remark": remark}})
			return autox3.BuildBody(msgID, autox3.MsgTypeReceptionCreate, time.Now().UnixMilli(), json.RawMessage(`{"staffId":1}`), content, false, appSecret)
		}
		unit := "车主说明：左前轮异响，刹车偏软。"
		remark := strings.Repeat(unit, (1<<20-2048)/len(unit))
		body := build(remark)
		if len(body) > 1<<20 || len(body) < 1<<20-4096 {
			t.Fatalf("body of %d bytes, want just under 1 MiB", len(body))
		}
		s.mustAccept("/webhooks/autox3", body)
		s.mustResult(flow.EventWorkflowID("autox3", msgID), string(models.EventSynced))
		rec := s.oneRecord("reception_order", strconv.FormatInt(rb, 10))
		var data struct {
			PreCheck struct {
				Remark string `json:"remark"`
			} `json:"pre_check"`
		}
		if err := json.Unmarshal(rec.Data, &data); err != nil || data.PreCheck.Remark != remark {
			t.Fatalf("the ERP's remark has %d characters, want the %d sent (%v)", len([]rune(data.PreCheck.Remark)), len([]rune(remark)), err)
		}
		var row models.AutoX3ReceptionOrder
		if err := s.db.Where("receive_base_id = ?", rb).Take(&row).Error; err != nil || row.Remark != remark {
			t.Fatalf("the stored remark has %d characters, want %d (%v)", len([]rune(row.Remark)), len([]rune(remark)), err)
		}
	})
	t.Run("a long inspection report", func(t *testing.T) {
		rb := uniqueID()
		msgID := fmt.Sprintf("report-%d", rb)
		var items []map[string]any
		report := func() []byte {
			rj, _ := json.Marshal(map[string]any{"carNum": "A1", "workBaseStatus": "FINISH", "serviceBaseName": "全车检测", "list": items})
			content, _ := json.Marshal(map[string]any{"receiveBaseId": rb, "carNum": "A1", "detectionPercentage": "100%", "reportJson": string(rj)})
			return autox3.BuildBody(msgID, autox3.MsgTypeReport, time.Now().UnixMilli(), json.RawMessage(`{"staffId":1}`), content, false, appSecret)
		}
		item := func(i int) map[string]any {
			return map[string]any{"checkItemName": fmt.Sprintf("检查项目 %d：制动系统与悬挂", i),
				"checkResult": strings.Repeat("检查结果说明，", 40), "level": i % 3, "images": []string{}}
		}
		// As many items as fit in bound. Each adds about the same to the
		// body, later ones a few bytes more (their numbers are longer): the
		// count estimated from the first two can only be too high, and
		// items come off the end until the body fits.
		const bound = 1<<20 - 8192
		items = []map[string]any{item(0)}
		one := len(report())
		items = append(items, item(1))
		per := len(report()) - one
		for i := len(items); i < 1+(bound-one)/per; i++ {
			items = append(items, item(i))
		}
		body := report()
		for len(body) > bound {
			items = items[:len(items)-1]
			body = report()
		}
		if bound-len(body) >= 2*per {
			t.Fatalf("body of %d bytes with %d items: another item of about %d bytes would fit under %d", len(body), len(items), per, bound)
		}
		t.Logf("report of %d items, %d bytes", len(items), len(body))
		s.mustAccept("/webhooks/autox3", body)
		s.mustResult(flow.EventWorkflowID("autox3", msgID), string(models.EventSynced))
		rec := s.oneRecord("inspection_report", strconv.FormatInt(rb, 10))
		var data struct {
			Items []map[string]any `json:"items"`
		}
		if err := json.Unmarshal(rec.Data, &data); err != nil || len(data.Items) != len(items) {
			t.Fatalf("the ERP's report has %d items, want %d (%v)", len(data.Items), len(items), err)
		}
		if got, want := data.Items[len(items)-1]["checkResult"], items[len(items)-1]["checkResult"]; got != want {
			t.Fatalf("the last item's result reached the ERP as %v", got)
		}
	})
}

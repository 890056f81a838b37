package integration

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/kingdee/kdsim"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/models"
)

const (
	kdAcct     = "it-kd-acct"
	kdUser     = "erpbridge"
	kdAppID    = "it-kd-app"
	kdSecret   = "it-kd-app-secret-5c1e9a"
	kdPassword = "it-kd-password-8d2f47"
)

// With ERP_KIND=kingdee, callbacks posted as the vendors do reach Kingdee
// (kdsim, over HTTP) as exactly one bill per record, found by its FBillNo,
// through redeliveries, newer states (saved with the bill's FID), an
// expired session, a worker that dies in the middle of a Save and a
// Kingdee answering 5xx for a while; amounts arrive exact. A validation
// failure is parked after one Save, not hammered, and an operator's retry
// after the fix lands it. The app secret and the password are in no log
// and no workflow history, and neither is Kingdee's message. MySQL with the
// app secret login, SQLite with the password login.
func TestKingdeeOneBillPerRecord(t *testing.T) {
	for _, tc := range []struct {
		store    string
		password bool
	}{{"mysql", false}, {"sqlite", true}} {
		t.Run(tc.store, func(t *testing.T) { kingdeeScenario(t, tc.store, tc.password) })
	}
}

func kingdeeScenario(t *testing.T, storeName string, passwordLogin bool) {
	sim := kdsim.New(kdsim.Options{AcctID: kdAcct, Username: kdUser, AppID: kdAppID, AppSecret: kdSecret, Password: kdPassword})
	srv := testkit.HTTPServer(t, sim.Handler())
	kd := config.Kingdee{URL: srv.URL + "/K3Cloud/", AcctID: kdAcct, Username: kdUser, LCID: 2052, MaxSessions: 3, Timeout: 5 * time.Second}
	secret := kdSecret
	if passwordLogin {
		kd.Password, secret = kdPassword, kdPassword
	} else {
		kd.AppID, kd.AppSecret = kdAppID, kdSecret
	}
	logs := &testkit.Buffer{}
	s := newStack(t, storeName, stackOptions{logs: logs, noWorker: true, configure: func(c *config.Config) {
		c.ERP.Kind, c.Kingdee = erp.KindKingdee, kd
		// A send has room for two calls at their slowest; the attempt for the send and its writes.
		c.ERP.Timeout, c.ERP.AttemptTimeout = 12*time.Second, 27*time.Second
	}})
	// The worker's stop bound is short: stopping it cuts a send off, as a crash does.
	stopWorker := s.startWorker(func(c *config.Config) { c.Temporal.WorkerStopTimeout = 100 * time.Millisecond })

	form := func(r sent) string {
		if r.kind == "car_order" {
			return "AP_Payable"
		}
		return "SAL_SaleOrder"
	}
	bill := func(r sent) kdsim.Bill {
		t.Helper()
		b, ok := sim.Bill(form(r), r.number())
		if !ok {
			t.Fatalf("no %s bill %s", form(r), r.number())
		}
		return b
	}
	// oneBill checks r's bill against its record: one bill, saved saves
	// times, whose FID and number the record keeps.
	oneBill := func(r sent, saves int) kdsim.Bill {
		t.Helper()
		b := bill(r)
		st := s.recordRow(r)
		if b.Saves != saves || st.ERPDocumentID != strconv.FormatInt(b.ID, 10) || st.ERPDocumentNumber != b.Number || st.SyncStatus != models.RecordSynced {
			t.Errorf("%s: bill FID %d saved %d times (want %d); record keeps document %q %q, %s",
				r.number(), b.ID, b.Saves, saves, st.ERPDocumentID, st.ERPDocumentNumber, st.SyncStatus)
		}
		return b
	}

	// Redeliveries: each callback posted twice at once, and once more after it landed.
	exact := "98765432101234.5678"
	var records []sent
	for i := range 2 {
		records = append(records, s.postReception(fmt.Sprintf("常规保养 %d", i)))
	}
	for i, total := range []string{exact, "14.16"} {
		records = append(records, s.postCar(fmt.Sprintf("kd%d%s", i, testkit.RandomHex(8)), 600, total, "14"))
	}
	s.synced(records...)
	s.mustAccept(fbtPath(), carBody(t, records[2].externalID, 600, time.Now().Add(-time.Hour), exact, "14")) // an older push, late
	for _, r := range records {
		oneBill(r, 1)
	}
	if b := bill(records[2]); !strings.Contains(string(b.Model), `"FTaxPrice":`+exact) {
		t.Errorf("the car order's amount is not exact: %s", b.Model)
	}

	// Newer states, after Kingdee forgot every session: the same bill,
	// saved again with its FID.
	if n := sim.ExpireSessions(); n == 0 {
		t.Fatal("no session to expire: the connector logs in per call?")
	}
	first := bill(records[0])
	s.updateReception(&records[0], "客户要求更换刹车片")
	car := s.postCar(records[2].externalID, 700, exact, "14")
	records[2].events = append(records[2].events, car.events...)
	s.synced(records[0], records[2])
	if b := oneBill(records[0], 2); b.ID != first.ID || !strings.Contains(string(b.Model), "客户要求更换刹车片") {
		t.Errorf("the newer reception state: bill %d (was %d) %s", b.ID, first.ID, b.Model)
	}
	if b := oneBill(records[2], 2); !strings.Contains(string(b.Model), "已完成") || !strings.Contains(string(b.Model), `"FTaxPrice":`+exact) {
		t.Errorf("the newer car order state: %s", b.Model)
	}

	// A worker dies while its Save is in Kingdee: the Save lands, its answer
	// never reaches the worker. The next worker finds the bill by number
	// and saves it with its FID.
	if err := sim.SetFaults(kdsim.Faults{LatencyMS: 30_000, LatencyOps: []string{kdsim.OpSave}}); err != nil {
		t.Fatal(err)
	}
	crashed := s.postCar("kdcrash"+testkit.RandomHex(6), 700, "88.8", "14")
	testenv.Eventually(t, "the Save landed, its answer held", 30*time.Second, func() error {
		if _, ok := sim.Bill("AP_Payable", crashed.number()); !ok {
			return fmt.Errorf("no bill yet")
		}
		return nil
	})
	stopWorker()
	if err := sim.SetFaults(kdsim.Faults{}); err != nil {
		t.Fatal(err)
	}
	s.startWorker(nil)
	s.synced(crashed)
	oneBill(crashed, 2)

	// A validation failure: parked after one Save.
	rejected := sent{kind: "car_order", externalID: "kdreject" + testkit.RandomHex(6)}
	if err := sim.SetFaults(kdsim.Faults{RejectNumbers: []string{rejected.number()}}); err != nil {
		t.Fatal(err)
	}
	failuresBefore := sim.Stats().SaveFailures
	rejected = s.postCar(rejected.externalID, 700, "20.5", "14")
	s.waitParked(rejected.recordWorkflow())
	if got := outcomes(s.attempts(rejected)); got != "rejected" {
		t.Fatalf("attempts of the rejected record: %q, want one rejection", got)
	}
	if at := s.attempts(rejected)[0]; !strings.Contains(at.Detail, kdsim.DefaultRejectMessage) {
		t.Errorf("the rejection keeps %q, not Kingdee's message", at.Detail)
	}
	if st := s.recordRow(rejected); st.SyncStatus != models.RecordRejected || !strings.Contains(st.LastError, kdsim.DefaultRejectMessage) {
		t.Errorf("the rejected record: %s, %q", st.SyncStatus, st.LastError)
	}

	// Kingdee answers 503 for a while (the rejection still in force): the
	// records sent meanwhile are retried until it is back, one bill each.
	if err := sim.SetFaults(kdsim.Faults{FailNext: 6, RejectNumbers: []string{rejected.number()}}); err != nil {
		t.Fatal(err)
	}
	during := []sent{s.postReception("故障期间到店"), s.postCar("kdoutage"+testkit.RandomHex(6), 700, "33.33", "14")}
	s.synced(during...)
	if f, st := sim.Faults(), sim.Stats(); f.FailNext != 0 || st.Injected5xx != 6 {
		t.Errorf("the outage: %d failures left, %d answered", f.FailNext, st.Injected5xx)
	}
	retried := 0
	for _, r := range during {
		oneBill(r, 1)
		retried += strings.Count(outcomes(s.attempts(r)), "retry")
	}
	if retried == 0 {
		t.Errorf("no send met the outage")
	}
	// The parked record was not sent again meanwhile.
	if got, failures := outcomes(s.attempts(rejected)), sim.Stats().SaveFailures-failuresBefore; got != "rejected" || failures != 1 {
		t.Fatalf("the parked record was hammered: attempts %q, %d refused Saves", got, failures)
	}

	// The supplier is fixed in Kingdee; the operator retries.
	if err := sim.SetFaults(kdsim.Faults{}); err != nil {
		t.Fatal(err)
	}
	s.retry(rejected)
	s.synced(rejected)
	oneBill(rejected, 1)
	if got := outcomes(s.attempts(rejected)); got != "rejected accepted" {
		t.Errorf("attempts after the retry: %q", got)
	}

	// One bill per record, and never a second create of a number.
	all := append(append(records, crashed, rejected), during...)
	if st := sim.Stats(); len(sim.Bills()) != len(all) || st.Creates != int64(len(all)) || st.DuplicateNumbers != 0 {
		t.Errorf("%d bills, %d creates, %d refused duplicate numbers; want %d, %d, 0", len(sim.Bills()), st.Creates, st.DuplicateNumbers, len(all), len(all))
	}
	s.checkNothingLeaks(logs, []string{secret, kdsim.DefaultRejectMessage},
		[]string{"kingdee session logged in", "kingdee session lost; logging in again", "Kingdee K3Cloud at " + srv.URL})
}

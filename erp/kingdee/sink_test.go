package kingdee

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/kingdee/kdsim"
	"github.com/erpbridge/erpbridge/internal/testkit"
)

// formOf is the form the default mapping writes for a kind ("" when skipped).
func formOf(kind string) string {
	switch kind {
	case "reception_order":
		return "SAL_SaleOrder"
	case "inspection_report", "maintenance_plan_item", "maintenance_job":
		return ""
	}
	return "AP_Payable"
}

// Every golden record through the default mapping: one bill per record,
// a resend of the same state updates it, skipped kinds make none, and the
// amounts arrive exactly.
func TestGoldenRecordsOneBillEach(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	records := goldenRecords(t)
	ids := map[string]string{}
	mapped := 0
	for _, r := range records {
		res := e.send(r)
		form := formOf(r.Kind)
		if form == "" {
			if res.DocumentID != "" || res.Created {
				t.Errorf("%s: skipped kind gave %+v", r.Label(), res)
			}
			continue
		}
		mapped++
		number := erp.DocumentNumber(r)
		b := e.bill(form, number)
		if !res.Created || res.Number != number || res.DocumentID != fmt.Sprint(b.ID) || res.Status != 200 {
			t.Errorf("%s: first send %+v, bill %d", r.Label(), res, b.ID)
		}
		ids[number] = res.DocumentID
	}
	if mapped != 3 {
		t.Fatalf("%d golden records mapped, want 3 (car, hotel, reception)", mapped)
	}
	for _, r := range records {
		res := e.send(r)
		if formOf(r.Kind) == "" {
			continue
		}
		if res.Created || res.DocumentID != ids[res.Number] {
			t.Errorf("%s: resend %+v, want an update of FID %s", r.Label(), res, ids[res.Number])
		}
	}
	st := e.sim.Stats()
	if len(e.sim.Bills()) != 3 || st.Creates != 3 || st.Updates != 3 {
		t.Errorf("bills %d, creates %d, updates %d; want 3, 3, 3", len(e.sim.Bills()), st.Creates, st.Updates)
	}

	car := e.bill("AP_Payable", "FBT-CAR-6612c0ffee0000000000a611")
	for _, want := range []string{`"FTaxPrice":98765432101234.5678`, `"FSUPPLIERID":{"FNumber":"FBT001"}`, `"FDATE":"2024-05-01"`, `"FCOSTID":{"FNumber":"FBT-CAR"}`} {
		if !bytes.Contains(car.Model, []byte(want)) {
			t.Errorf("car order bill lacks %s: %s", want, car.Model)
		}
	}
	hotel := e.bill("AP_Payable", "FBT-HTL-6612c0ffee0000000000h011")
	if !bytes.Contains(hotel.Model, []byte(`"FTaxPrice":98765432101234.56789`)) {
		t.Errorf("hotel bill amount not exact: %s", hotel.Model)
	}
	ro := e.bill("SAL_SaleOrder", "AX3-RO-6483")
	for _, want := range []string{`"FCustId":{"FNumber":"AX3-RETAIL"}`, `"FDate":"2024-05-01"`, `京A12345`} {
		if !bytes.Contains(ro.Model, []byte(want)) {
			t.Errorf("reception order bill lacks %s: %s", want, ro.Model)
		}
	}
	if bytes.Contains(ro.Model, []byte("13800138000")) {
		t.Errorf("the car owner's phone reached Kingdee: %s", ro.Model)
	}
	if st.Logins != 1 {
		t.Errorf("%d logins for %d sends, want 1 (sessions are reused)", st.Logins, 2*len(records))
	}
}

func TestNewerStateUpdatesTheBill(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	v1 := carOrder(t, "car-upd-1", "100.50")
	first := e.send(v1)
	v2 := withData(t, v1, v1.Version+1, func(d map[string]any) {
		d["price_info"].(map[string]any)["total_price"] = "120.75"
	})
	second := e.send(v2)
	if second.Created || second.DocumentID != first.DocumentID {
		t.Fatalf("newer state: %+v after %+v", second, first)
	}
	b := e.bill("AP_Payable", erp.DocumentNumber(v1))
	if b.Saves != 2 || !bytes.Contains(b.Model, []byte(`"FTaxPrice":120.75`)) {
		t.Errorf("bill after the newer state: saves %d, model %s", b.Saves, b.Model)
	}

	// A refund: a negative amount is a red line.
	v3 := withData(t, v1, v1.Version+2, func(d map[string]any) {
		d["price_info"].(map[string]any)["total_price"] = "-30.5"
	})
	e.send(v3)
	b = e.bill("AP_Payable", erp.DocumentNumber(v1))
	if !bytes.Contains(b.Model, []byte(`"FPriceQty":-1`)) || !bytes.Contains(b.Model, []byte(`"FTaxPrice":30.5`)) {
		t.Errorf("refund bill: %s", b.Model)
	}
	if n := len(e.sim.Bills()); n != 1 {
		t.Errorf("%d bills, want 1", n)
	}
}

// A Save that landed while the client timed out: the resend finds the bill
// and updates it.
func TestResendAfterTimeoutUpdates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, withTimeout(300*time.Millisecond))
	r := carOrder(t, "car-timeout-1", "98765432101234.5678")
	e.faults(kdsim.Faults{LatencyMS: 5000, LatencyOps: []string{kdsim.OpSave}})
	err := e.sendErr(r)
	if !err.Retryable || !strings.Contains(err.Error(), "Kingdee Save: no answer within 300ms") {
		t.Fatalf("timed-out Save: %v", err)
	}
	b := e.bill("AP_Payable", erp.DocumentNumber(r)) // the Save did land

	e.faults(kdsim.Faults{})
	res := e.send(r)
	if res.Created || res.DocumentID != fmt.Sprint(b.ID) {
		t.Fatalf("resend after the timeout: %+v, want an update of FID %d", res, b.ID)
	}
	st := e.sim.Stats()
	if st.Creates != 1 || st.Updates != 1 || len(e.sim.Bills()) != 1 {
		t.Errorf("creates %d, updates %d, bills %d; want 1, 1, 1", st.Creates, st.Updates, len(e.sim.Bills()))
	}
	if b := e.bill("AP_Payable", erp.DocumentNumber(r)); !bytes.Contains(b.Model, []byte(`"FTaxPrice":98765432101234.5678`)) {
		t.Errorf("amount: %s", b.Model)
	}
}

// saveHook runs before once before the first Save request goes out.
type saveHook struct {
	base   http.RoundTripper
	once   sync.Once
	before func()
}

func (h *saveHook) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "DynamicFormService.Save.common.kdsvc") {
		h.once.Do(h.before)
	}
	return h.base.RoundTrip(req)
}

// A create that finds the number taken (another send created the bill
// between the look-up and the Save) becomes an update.
func TestCreateRacedByAnotherSendUpdates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	r := carOrder(t, "car-race-1", "10.01")
	hook := &saveHook{base: http.DefaultTransport, before: func() { e.send(r) }}
	set := e.sink.mapper
	racer, err := New(e.cfg, set, WithTransport(hook))
	if err != nil {
		t.Fatal(err)
	}
	res, err := racer.Send(t.Context(), r)
	if err != nil {
		t.Fatalf("Send: %s", detail(err))
	}
	b := e.bill("AP_Payable", erp.DocumentNumber(r))
	st := e.sim.Stats()
	if res.Created || res.DocumentID != fmt.Sprint(b.ID) {
		t.Errorf("raced create: %+v, want an update of FID %d", res, b.ID)
	}
	if st.DuplicateNumbers != 1 || st.Creates != 1 || st.Updates != 1 || len(e.sim.Bills()) != 1 {
		t.Errorf("duplicates %d, creates %d, updates %d, bills %d; want 1, 1, 1, 1", st.DuplicateNumbers, st.Creates, st.Updates, len(e.sim.Bills()))
	}
}

func TestSessionExpiryOneLoginOneRepeat(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		opts  []envOption
		login string
	}{
		{"app secret", nil, kdsim.OpLoginByAppSecret},
		{"password", []envOption{withPassword}, kdsim.OpValidateUser},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil, tc.opts...)
			for i := range 3 {
				e.send(carOrder(t, fmt.Sprintf("car-s-%d", i), "1.00"))
			}
			if st := e.sim.Stats(); st.Logins != 1 || st.Calls[tc.login] != 1 {
				t.Fatalf("logins %d (%s %d) for three sends, want 1", st.Logins, tc.login, st.Calls[tc.login])
			}
			e.sim.ExpireSessions()
			e.send(carOrder(t, "car-s-3", "1.00"))
			st := e.sim.Stats()
			if st.Logins != 2 || st.LostSession != 1 || st.Creates != 4 {
				t.Errorf("after expiry: logins %d, lost %d, creates %d; want 2, 1, 4", st.Logins, st.LostSession, st.Creates)
			}
			if !strings.Contains(e.logs.String(), "kingdee session lost; logging in again") {
				t.Errorf("no log of the lost session: %s", e.logs.String())
			}
		})
	}
}

// clock is a settable time for the simulator's session expiry.
type clock struct {
	mu   sync.Mutex
	now  time.Time
	step time.Duration // added on every reading
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(c.step)
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestSessionIdleExpiry(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	e := newEnv(t, nil, withSim(func(o *kdsim.Options) { o.SessionIdle = time.Minute; o.Now = clk.Now }))
	r := carOrder(t, "car-idle-1", "5")
	e.send(r)
	clk.Add(59 * time.Second)
	e.send(r)
	if st := e.sim.Stats(); st.Logins != 1 {
		t.Fatalf("logins %d within the idle time, want 1", st.Logins)
	}
	clk.Add(61 * time.Second)
	e.send(r)
	if st := e.sim.Stats(); st.Logins != 2 || st.LostSession != 1 || st.Updates != 2 {
		t.Errorf("after idling: logins %d, lost %d, updates %d; want 2, 1, 2", st.Logins, st.LostSession, st.Updates)
	}
}

// A session that is lost again right after a new login is a retryable
// error, after exactly one new login and one repeat.
func TestSessionLostAgainIsRetryable(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Unix(1_700_000_000, 0), step: time.Hour}
	e := newEnv(t, nil, withSim(func(o *kdsim.Options) { o.Now = clk.Now }))
	err := e.sendErr(carOrder(t, "car-lost-1", "5"))
	if !err.Retryable || !strings.Contains(err.Error(), "right after a new login") {
		t.Fatalf("error %v", err)
	}
	if st := e.sim.Stats(); st.Logins != 2 || st.Calls[kdsim.OpExecuteBillQuery] != 2 {
		t.Errorf("logins %d, queries %d; want 2 and 2", st.Logins, st.Calls[kdsim.OpExecuteBillQuery])
	}
}

func TestAtMostMaxSessionsCallsAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, withMaxSessions(3))
	e.faults(kdsim.Faults{LatencyMS: 40})
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			if _, err := e.sink.Send(t.Context(), carOrder(t, fmt.Sprintf("car-c-%d", i), "7.77")); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Send: %s", detail(err))
	}
	st := e.sim.Stats()
	if st.MaxInFlight != 3 || st.Logins != 3 || st.SessionWaits != 0 || st.Creates != n {
		t.Errorf("max in flight %d, logins %d, session waits %d, creates %d; want 3, 3, 0, %d",
			st.MaxInFlight, st.Logins, st.SessionWaits, st.Creates, n)
	}
}

func TestServerErrorsAreRetryable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	r := carOrder(t, "car-5xx-1", "3.30")
	e.faults(kdsim.Faults{FailNext: 1}) // the login
	err := e.sendErr(r)
	if !err.Retryable || err.Status != 503 {
		t.Fatalf("5xx on login: %v", err)
	}
	e.send(r)
	e.faults(kdsim.Faults{FailNext: 1, FailStatus: 500}) // the look-up
	if err := e.sendErr(r); !err.Retryable || err.Status != 500 || strings.Contains(err.Error(), "<html>") {
		t.Fatalf("5xx on ExecuteBillQuery: %v", err)
	}
	e.send(r)
	if n := len(e.sim.Bills()); n != 1 {
		t.Errorf("%d bills, want 1", n)
	}
}

func TestValidationFailureIsRejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	r := carOrder(t, "car-bad-1", "8.88")
	msg := "供应商 FBT001 已被张三禁用"
	e.faults(kdsim.Faults{RejectNumbers: []string{erp.DocumentNumber(r)}, RejectMessage: msg})
	err := e.sendErr(r)
	if err.Retryable || err.Status != 200 {
		t.Fatalf("validation failure: retryable %v, status %d", err.Retryable, err.Status)
	}
	if !strings.Contains(err.Detail(), msg) || strings.Contains(err.Error(), "张三") || strings.Contains(err.Error(), msg) {
		t.Errorf("Error() %q / Detail() %q: the ERP's message belongs in Detail only", err.Error(), err.Detail())
	}
	if st := e.sim.Stats(); st.Calls[kdsim.OpSave] != 1 || st.Creates != 0 {
		t.Errorf("saves %d, creates %d; want one refused Save", st.Calls[kdsim.OpSave], st.Creates)
	}

	// A mapping that leaves out a field the form requires.
	m := parse(t, `erp: kingdee
kinds:
  car_order: |
    {formid: "AP_Payable", model: {FBillTypeID: {FNumber: "YFD02_SYS"}, FDATE: "2024-05-01",
      FCURRENCYID: {FNumber: "PRE001"}, FSETTLEORGID: {FNumber: "100"}, FPAYORGID: {FNumber: "100"},
      FEntityDetail: [{FPriceQty: 1, FTaxPrice: 1}]}}
`)
	e2 := newEnv(t, m)
	err = e2.sendErr(r)
	if err.Retryable || !strings.Contains(err.Detail(), "FSUPPLIERID") {
		t.Errorf("missing supplier: %s", err.Detail())
	}
}

func TestLockedBillsAreRejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	r := carOrder(t, "car-lock-1", "9.99")
	first := e.send(r)
	number := erp.DocumentNumber(r)
	newer := withData(t, r, r.Version+1, func(d map[string]any) { d["price_info"].(map[string]any)["total_price"] = "10.99" })
	for _, tc := range []struct{ status, want string }{
		{kdsim.StatusAudited, "is audited (FDocumentStatus C)"},
		{kdsim.StatusSubmitted, "is submitted for approval (FDocumentStatus B)"},
	} {
		if err := e.sim.SetStatus("AP_Payable", number, tc.status); err != nil {
			t.Fatal(err)
		}
		err := e.sendErr(newer)
		if err.Retryable || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "FID "+first.DocumentID) {
			t.Errorf("status %s: %v", tc.status, err)
		}
	}
	if b := e.bill("AP_Payable", number); b.Saves != 1 {
		t.Errorf("a locked bill was saved: saves %d", b.Saves)
	}
	// Un-audited (D, 重新审核), it takes the newer state.
	if err := e.sim.SetStatus("AP_Payable", number, kdsim.StatusReaudit); err != nil {
		t.Fatal(err)
	}
	if res := e.send(newer); res.Created || res.DocumentID != first.DocumentID {
		t.Errorf("after un-audit: %+v", res)
	}
}

const auditMapping = `erp: kingdee
kinds:
  car_order: |
    {formid: "AP_Payable",
     model: {FBillTypeID: {FNumber: "YFD02_SYS"}, FDATE: "2024-05-01", FSUPPLIERID: {FNumber: "FBT001"},
       FCURRENCYID: {FNumber: "PRE001"}, FSETTLEORGID: {FNumber: "100"}, FPAYORGID: {FNumber: "100"},
       FEntityDetail: [{FCOSTID: {FNumber: "FBT-CAR"}, FPriceQty: 1, FTaxPrice: (.data.price_info.total_price | decimal)}]},
     audit: true,
     state_field: "F_ERP_StateKey"}
`

// With audit and a state field, a resend of the state that locked the bill
// is done, and a newer state is rejected.
func TestAuditWithStateField(t *testing.T) {
	t.Parallel()
	e := newEnv(t, parse(t, auditMapping), withTimeout(300*time.Millisecond))
	r := carOrder(t, "car-audit-1", "42.42")
	number := erp.DocumentNumber(r)

	// The Audit lands but its answer is late: the resend finds the audited
	// bill holding this state.
	e.faults(kdsim.Faults{LatencyMS: 5000, LatencyOps: []string{kdsim.OpAudit}})
	if err := e.sendErr(r); !err.Retryable {
		t.Fatalf("late Audit: %v", err)
	}
	e.faults(kdsim.Faults{})
	b := e.bill("AP_Payable", number)
	if b.Status != kdsim.StatusAudited || !bytes.Contains(b.Model, []byte(`"F_ERP_StateKey":"`+erp.IdempotencyKey(r)+`"`)) {
		t.Fatalf("bill after submit and audit: %s %s", b.Status, b.Model)
	}
	res := e.send(r)
	if !res.Duplicate || res.Created || res.DocumentID != fmt.Sprint(b.ID) {
		t.Errorf("resend of the audited state: %+v", res)
	}
	if b := e.bill("AP_Payable", number); b.Saves != 1 {
		t.Errorf("saves %d, want 1", b.Saves)
	}
	newer := withData(t, r, r.Version+1, func(d map[string]any) { d["price_info"].(map[string]any)["total_price"] = "43" })
	if err := e.sendErr(newer); err.Retryable || !strings.Contains(err.Error(), "audited") {
		t.Errorf("newer state of an audited bill: %v", err)
	}
}

// fakeKingdee answers logins with a session cookie and everything else with
// answer.
func fakeKingdee(t *testing.T, login string, answer func(w http.ResponseWriter, r *http.Request)) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "AuthService") {
			http.SetCookie(w, &http.Cookie{Name: "kdservice-sessionid", Value: "sess-1234", Path: "/"})
			fmt.Fprint(w, login)
			return
		}
		answer(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func sinkFor(t *testing.T, url string, mod func(*Config)) *Sink {
	t.Helper()
	cfg := Config{URL: url + "/K3Cloud/", AcctID: acctID, Username: username, AppID: appID, AppSecret: appSecret, Timeout: 2 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg, parse(t, auditMapping))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sendTo(t *testing.T, s *Sink, r erp.Record) *erp.Error {
	t.Helper()
	_, err := s.Send(t.Context(), r)
	ee, ok := err.(*erp.Error)
	if !ok {
		t.Fatalf("Send: %T %v, want *erp.Error", err, err)
	}
	noSecrets(t, "error", ee.Detail())
	return ee
}

func TestUnexpectedAnswersAndTransportErrors(t *testing.T) {
	t.Parallel()
	r := carOrder(t, "car-odd-1", "1")
	okLogin := `{"LoginResultType":1,"KDSVCSessionId":"sess-1234"}`

	html := fakeKingdee(t, okLogin, func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "<html><body>维护中</body></html>")
	})
	err := sendTo(t, sinkFor(t, html.URL, nil), r)
	if !err.Retryable || !strings.Contains(err.Detail(), "unexpected answer to Kingdee ExecuteBillQuery") || strings.Contains(err.Error(), "维护中") {
		t.Errorf("HTML answer: %s", err.Detail())
	}

	obj := fakeKingdee(t, okLogin, func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `{"rows":1}`) })
	if err := sendTo(t, sinkFor(t, obj.URL, nil), r); !err.Retryable || !strings.Contains(err.Detail(), "neither an array of rows nor a Result") {
		t.Errorf("odd object: %s", err.Detail())
	}

	notFound := fakeKingdee(t, okLogin, http.NotFound)
	if err := sendTo(t, sinkFor(t, notFound.URL, nil), r); !err.Retryable || !strings.Contains(err.Error(), "HTTP 404 Not Found; is KINGDEE_URL the base ending in /K3Cloud/?") {
		t.Errorf("404: %v", err)
	}

	twoBills := fakeKingdee(t, okLogin, func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `[[101,"FBT-CAR-car-odd-1","A",null],[102,"FBT-CAR-car-odd-1","A",null]]`)
	})
	if err := sendTo(t, sinkFor(t, twoBills.URL, nil), r); err.Retryable || !strings.Contains(err.Error(), "2 bills of AP_Payable carry number FBT-CAR-car-odd-1 (FIDs 101, 102)") {
		t.Errorf("two bills: %v", err)
	}

	noCookie := testkit.HTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, okLogin) }))
	if err := sendTo(t, sinkFor(t, noCookie.URL, nil), r); !err.Retryable || !strings.Contains(err.Error(), "set no kdservice-sessionid cookie") {
		t.Errorf("login without a cookie: %v", err)
	}

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	if err := sendTo(t, sinkFor(t, closed.URL, nil), r); !err.Retryable || !strings.Contains(err.Error(), "network error") {
		t.Errorf("closed server: %v", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, cerr := sinkFor(t, html.URL, nil).Send(ctx, r)
	if ee, ok := cerr.(*erp.Error); !ok || !ee.Retryable {
		t.Errorf("cancelled context: %v", cerr)
	}
}

func TestRefusedLoginIsRetryableAndSafe(t *testing.T) {
	t.Parallel()
	wrongSecret, wrongPassword := "Wr0ng-App-Secret-55aa", "Wr0ng-Passw0rd-66bb"
	e := newEnv(t, nil)
	cases := []struct {
		name, secret string
		mod          func(*Config)
		want         string
	}{
		{"app secret", wrongSecret, func(c *Config) { c.AppSecret = wrongSecret }, "Kingdee refused the LoginByAppSecret login (LoginResultType 0: 应用ID或应用密钥错误); check KINGDEE_ACCT_ID, KINGDEE_USERNAME, KINGDEE_APP_ID and KINGDEE_APP_SECRET"},
		{"password", wrongPassword, func(c *Config) { c.AppID, c.AppSecret, c.Password = "", "", wrongPassword }, "Kingdee refused the ValidateUser login (LoginResultType 0: 用户名或密码错误！); check KINGDEE_ACCT_ID, KINGDEE_USERNAME and KINGDEE_PASSWORD"},
	}
	for _, tc := range cases {
		err := sendTo(t, sinkFor(t, strings.TrimSuffix(e.cfg.URL, "/K3Cloud/"), tc.mod), carOrder(t, "car-login-1", "1"))
		if !err.Retryable || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
		if strings.Contains(err.Detail(), tc.secret) {
			t.Errorf("%s: the wrong secret is in the error: %s", tc.name, err.Detail())
		}
	}

	// Kingdee's message echoing the secret is masked.
	echo := fakeKingdee(t, `{"LoginResultType":-1,"Message":"bad secret `+appSecret+`"}`, http.NotFound)
	err := sendTo(t, sinkFor(t, echo.URL, nil), carOrder(t, "car-login-2", "1"))
	if !strings.Contains(err.Error(), "LoginResultType -1: bad secret ***") {
		t.Errorf("echoed secret: %v", err)
	}
}

func TestMappingProblemsAreRejected(t *testing.T) {
	t.Parallel()
	car := carOrder(t, "car-map-1", "1")
	e := newEnv(t, parse(t, "erp: kingdee\nkinds:\n  reception_order: |\n    {skip: \"no\"}\n"))
	err := e.sendErr(car)
	if err.Retryable || !strings.Contains(err.Error(), `the Kingdee mapping test.yaml has no program for kind "car_order"`) {
		t.Errorf("no mapping: %v", err)
	}

	for _, tc := range []struct{ out, want string }{
		{`{"formid":"AP_Payable","model":{"FID":5}}`, "model: must not set FID"},
		{`{"formid":"AP_Payable","model":{"FBillNo":"OTHER-1"}}`, "FBillNo must be left out (the connector sets it to FBT-CAR-car-map-1)"},
		{`{"formid":"AP_Payable","model":{},"sumbit":true}`, `unknown key "sumbit"`},
		{`{"formid":"","model":{}}`, "formid: must be a Kingdee form id"},
		{`{"formid":"AP_Payable"}`, "model: must be an object"},
		{`{"formid":"AP_Payable","model":[]}`, "model: must be"},
		{`{"skip":"x","formid":"AP_Payable"}`, "skip: must be the only key"},
		{`{"formid":"AP_Payable","model":{},"state_field":"FBillNo"}`, "state_field: FBillNo is the connector's own"},
	} {
		out := tc.out
		e := newEnv(t, mapperFunc(func(erp.Record) (json.RawMessage, error) { return json.RawMessage(out), nil }))
		err := e.sendErr(car)
		if err.Retryable || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.out, err)
		}
		if n := e.sim.Stats().Calls; len(n) != 0 {
			t.Errorf("%s: calls to Kingdee %v", tc.out, n)
		}
	}

	// A skip makes no call at all.
	skip := newEnv(t, nil)
	res := skip.send(goldenRecord(t, "inspection_report"))
	if res.DocumentID != "" || len(skip.sim.Stats().Calls) != 0 {
		t.Errorf("skip: %+v, calls %v", res, skip.sim.Stats().Calls)
	}
}

func TestNewRefusesBadSettings(t *testing.T) {
	t.Parallel()
	if _, err := New(Config{}, mapperFunc(nil)); err == nil || !strings.Contains(err.Error(), "KINGDEE_URL") {
		t.Errorf("empty settings: %v", err)
	}
	good := Config{URL: "https://erp.example.com/K3Cloud", AcctID: "a", Username: "u", Password: "p"}
	if _, err := New(good, nil); err == nil {
		t.Error("nil mapping accepted")
	}
	if _, err := New(good, parse(t, "erp: kingdee\nkinds:\n  x: '{}'\n")); err != nil {
		t.Errorf("good settings: %v", err)
	}
}

// A bill Kingdee numbers itself cannot be found again: the record is
// rejected at once instead of a new bill on every resend.
func TestRenumberedBillIsRejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, withSim(func(o *kdsim.Options) { o.RenumberBills = true }))
	err := e.sendErr(carOrder(t, "car-renum-1", "1"))
	if err.Retryable || !strings.Contains(err.Error(), "bill FBT-CAR-car-renum-1 under number AP_PAYABLE-100001 (FID 100001): the bill type's coding rule (编码规则) replaces the number") {
		t.Errorf("renumbered bill: %v", err)
	}
	if n := len(e.sim.Bills()); n != 1 {
		t.Errorf("%d bills, want 1", n)
	}
}

// Every Fenbeitong category has a payable with its own expense item, and an
// order without a price yet is not sent.
func TestDefaultMappingFenbeitongCategories(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	hotel := goldenRecord(t, "hotel_order")
	items := map[string]string{
		"flight_order": "FBT-FLIGHT", "intl_flight_order": "FBT-INTL-FLIGHT", "hotel_order": "FBT-HOTEL",
		"train_order": "FBT-TRAIN", "courier_order": "FBT-COURIER", "express_order": "FBT-EXPRESS",
		"fee_waiver_order": "FBT-FEE-WAIVER", "order": "FBT-OTHER",
	}
	for kind, item := range items {
		r := hotel
		r.Kind = kind
		e.send(r)
		b := e.bill("AP_Payable", erp.DocumentNumber(r))
		for _, want := range []string{`"FCOSTID":{"FNumber":"` + item + `"}`, `"FTaxPrice":98765432101234.56789`, `"FBillTypeID":{"FNumber":"YFD02_SYS"}`} {
			if !bytes.Contains(b.Model, []byte(want)) {
				t.Errorf("%s: bill lacks %s: %s", kind, want, b.Model)
			}
		}
	}
	unpriced := withData(t, hotel, hotel.Version, func(d map[string]any) { d["total_price"] = nil })
	unpriced.ExternalID = "unpriced-1"
	if res := e.send(unpriced); res.DocumentID != "" {
		t.Errorf("unpriced order: %+v", res)
	}
	personal := withData(t, carOrder(t, "car-personal-1", "100.25"), 1, func(d map[string]any) {
		d["price_info"].(map[string]any)["personal_total_pay"] = "30.05"
	})
	e.send(personal)
	if b := e.bill("AP_Payable", erp.DocumentNumber(personal)); !bytes.Contains(b.Model, []byte(`"FTaxPrice":70.20`)) {
		t.Errorf("company share of a car order: %s", b.Model)
	}
	if n := len(e.sim.Bills()); n != len(items)+1 {
		t.Errorf("%d bills, want %d", n, len(items)+1)
	}
}

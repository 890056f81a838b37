package kdsim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/internal/testkit"
)

const (
	loginApp  = "/K3Cloud/Kingdee.BOS.WebApi.ServicesStub.AuthService.LoginByAppSecret.common.kdsvc"
	loginUser = "/K3Cloud/Kingdee.BOS.WebApi.ServicesStub.AuthService.ValidateUser.common.kdsvc"
	savePath  = "/K3Cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save.common.kdsvc"
	queryPath = "/K3Cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.ExecuteBillQuery.common.kdsvc"
	viewPath  = "/K3Cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.View.common.kdsvc"
	subPath   = "/K3Cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Submit.common.kdsvc"
	auditPath = "/K3Cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Audit.common.kdsvc"
)

// clock is a settable time for session expiry.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func options(clk *clock) Options {
	return Options{AcctID: "dc-1", Username: "erpbridge", AppID: "app-1", AppSecret: "app-secret-1",
		Password: "pw-1", SessionIdle: 20 * time.Minute, Now: clk.Now}
}

func start(t *testing.T, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	s := New(opts)
	srv := testkit.HTTPServer(t, s.Handler())
	return s, srv
}

// client is one cookie jar talking to the simulator.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func newClient(t *testing.T, srv *httptest.Server) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: srv.URL, http: &http.Client{Jar: jar}}
}

// post sends body and returns the status and the decoded answer (numbers exact).
func (c *client) post(path, body string) (int, any) {
	c.t.Helper()
	resp, err := c.http.Post(c.base+path, "application/json", strings.NewReader(body))
	if err != nil {
		c.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, string(raw)
	}
	v, err := decode(raw)
	if err != nil {
		c.t.Fatalf("POST %s: answer %q: %v", path, raw, err)
	}
	return resp.StatusCode, v
}

func (c *client) login() {
	c.t.Helper()
	_, a := c.post(loginApp, `{"acctID":"dc-1","username":"erpbridge","appId":"app-1","appSecret":"app-secret-1","lcid":2052}`)
	if text(a.(map[string]any)["LoginResultType"]) != "1" {
		c.t.Fatalf("login refused: %v", a)
	}
}

// rs digs Result.ResponseStatus out of an answer of either shape.
func rs(t *testing.T, a any) map[string]any {
	t.Helper()
	if arr, ok := a.([]any); ok {
		a = arr[0].([]any)[0]
	}
	m, ok := a.(map[string]any)["Result"].(map[string]any)["ResponseStatus"].(map[string]any)
	if !ok {
		t.Fatalf("no ResponseStatus in %v", a)
	}
	return m
}

func firstMessage(t *testing.T, a any) string {
	errs := rs(t, a)["Errors"].([]any)
	if len(errs) == 0 {
		t.Fatalf("no Errors in %v", a)
	}
	return text(errs[0].(map[string]any)["Message"])
}

const payable = `{"FBillTypeID":{"FNumber":"YFD02_SYS"},"FDATE":"2024-05-01","FSUPPLIERID":{"FNumber":"FBT001"},
 "FCURRENCYID":{"FNumber":"PRE001"},"FSETTLEORGID":{"FNumber":"100"},"FPAYORGID":{"FNumber":"100"},
 "FEntityDetail":[{"FCOSTID":{"FNumber":"FBT-CAR"},"FPriceQty":1,"FTaxPrice":98765432101234.5678}]`

func TestLogins(t *testing.T) {
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	s, srv := start(t, options(clk))
	c := newClient(t, srv)
	cases := []struct {
		name, path, body string
		ok               bool
	}{
		{"app secret, object", loginApp, `{"acctID":"dc-1","username":"erpbridge","appId":"app-1","appSecret":"app-secret-1","lcid":2052}`, true},
		{"app secret, positional", loginApp, `{"format":1,"useragent":"ApiClient","parameters":["dc-1","erpbridge","app-1","app-secret-1",2052]}`, true},
		{"app secret, parameters as text", loginApp, `{"parameters":"[\"dc-1\",\"erpbridge\",\"app-1\",\"app-secret-1\",2052]"}`, true},
		{"keys in another case", loginApp, `{"AcctID":"dc-1","UserName":"erpbridge","AppID":"app-1","AppSecret":"app-secret-1"}`, true},
		{"password", loginUser, `{"acctID":"dc-1","username":"erpbridge","password":"pw-1","lcid":2052}`, true},
		{"password, positional", loginUser, `{"parameters":["dc-1","erpbridge","pw-1",2052]}`, true},
		{"wrong secret", loginApp, `{"acctID":"dc-1","username":"erpbridge","appId":"app-1","appSecret":"nope"}`, false},
		{"wrong password", loginUser, `{"acctID":"dc-1","username":"erpbridge","password":"nope"}`, false},
		{"wrong data centre", loginUser, `{"acctID":"dc-2","username":"erpbridge","password":"pw-1"}`, false},
		{"wrong user", loginApp, `{"acctID":"dc-1","username":"someone","appId":"app-1","appSecret":"app-secret-1"}`, false},
	}
	for _, tc := range cases {
		_, a := c.post(tc.path, tc.body)
		m := a.(map[string]any)
		if got := text(m["LoginResultType"]) == "1"; got != tc.ok {
			t.Errorf("%s: LoginResultType %v (message %v), want success %v", tc.name, m["LoginResultType"], m["Message"], tc.ok)
		}
		if !tc.ok && text(m["Message"]) == "" {
			t.Errorf("%s: a refused login has no Message", tc.name)
		}
	}
	st := s.Stats()
	if st.Logins != 6 || st.LoginFailures != 4 {
		t.Errorf("logins %d, failures %d; want 6 and 4", st.Logins, st.LoginFailures)
	}
	var names []string
	for _, ck := range c.http.Jar.Cookies(mustURL(t, srv.URL+"/K3Cloud/")) {
		names = append(names, ck.Name)
	}
	if strings.Join(names, ",") != "ASP.NET_SessionId,kdservice-sessionid" && strings.Join(names, ",") != "kdservice-sessionid,ASP.NET_SessionId" {
		t.Errorf("cookies after login: %v", names)
	}

	// A server without a password refuses ValidateUser.
	opts := options(clk)
	opts.Password = ""
	_, srv2 := start(t, opts)
	_, a := newClient(t, srv2).post(loginUser, `{"acctID":"dc-1","username":"erpbridge","password":""}`)
	if text(a.(map[string]any)["LoginResultType"]) == "1" {
		t.Error("ValidateUser accepted an empty password on a server without one")
	}
}

func TestSaveQueryViewSubmitAudit(t *testing.T) {
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	s, srv := start(t, options(clk))
	c := newClient(t, srv)
	c.login()

	// Create, with data as a JSON string.
	data, _ := json.Marshal(`{"IsDeleteEntry":true,"Model":` + payable + `,"FBillNo":"FBT-CAR-1"}}`)
	_, a := c.post(savePath, `{"formid":"AP_Payable","data":`+string(data)+`}`)
	st := rs(t, a)
	if st["IsSuccess"] != true {
		t.Fatalf("create: %v", a)
	}
	ent := st["SuccessEntitys"].([]any)[0].(map[string]any)
	if text(ent["Id"]) != "100001" || text(ent["Number"]) != "FBT-CAR-1" {
		t.Fatalf("create answered %v", ent)
	}
	b, ok := s.Bill("AP_Payable", "FBT-CAR-1")
	if !ok || b.Status != StatusCreated || b.ID != 100001 {
		t.Fatalf("bill after create: %+v %v", b, ok)
	}
	if !bytes.Contains(b.Model, []byte(`"FTaxPrice":98765432101234.5678`)) {
		t.Errorf("amount not kept exactly: %s", b.Model)
	}

	// A second create with the same number is refused, naming FBillNo.
	_, a = c.post(savePath, `{"formid":"AP_Payable","data":{"Model":`+payable+`,"FBillNo":"FBT-CAR-1"}}}`)
	if rs(t, a)["IsSuccess"] != false || !strings.Contains(firstMessage(t, a), "FBT-CAR-1") {
		t.Fatalf("duplicate create: %v", a)
	}

	// Positional parameters; update by FID with a new amount.
	_, a = c.post(savePath, `{"parameters":["AP_Payable",{"Model":{"FID":100001,"FBillNo":"FBT-CAR-1","FEntityDetail":[{"FCOSTID":{"FNumber":"FBT-CAR"},"FPriceQty":1,"FTaxPrice":0.10}]}}]}`)
	if rs(t, a)["IsSuccess"] != true {
		t.Fatalf("update: %v", a)
	}
	b, _ = s.Bill("AP_Payable", "FBT-CAR-1")
	if b.Saves != 2 || !bytes.Contains(b.Model, []byte(`"FTaxPrice":0.10`)) || !bytes.Contains(b.Model, []byte(`"FSUPPLIERID":{"FNumber":"FBT001"}`)) {
		t.Errorf("after update: saves %d, model %s", b.Saves, b.Model)
	}

	// Missing required fields: IsSuccess false with a message per field.
	_, a = c.post(savePath, `{"formid":"AP_Payable","data":{"Model":{"FBillNo":"X-2","FDATE":"2024-05-01","FSUPPLIERID":{"FNumber":""}}}}`)
	status := rs(t, a)
	if status["IsSuccess"] != false || text(status["MsgCode"]) != "11" {
		t.Fatalf("incomplete bill: %v", a)
	}
	var fields []string
	for _, e := range status["Errors"].([]any) {
		fields = append(fields, text(e.(map[string]any)["FieldName"]))
	}
	if got := strings.Join(fields, ","); got != "FBillTypeID,FSUPPLIERID,FCURRENCYID,FSETTLEORGID,FPAYORGID,FEntityDetail,FEntityDetail" {
		t.Errorf("missing fields named %s", got)
	}
	if _, ok := s.Bill("AP_Payable", "X-2"); ok {
		t.Error("an incomplete bill was saved")
	}

	// An unknown form.
	_, a = c.post(savePath, `{"formid":"AP_Nope","data":{"Model":{}}}`)
	if rs(t, a)["IsSuccess"] != false {
		t.Errorf("unknown form accepted: %v", a)
	}

	// ExecuteBillQuery, as {"data": ...}, as the bare query, positional.
	for _, body := range []string{
		`{"data":{"FormId":"AP_Payable","FieldKeys":"FID,FBillNo,FDocumentStatus,FSUPPLIERID.FNumber","FilterString":"FBillNo='FBT-CAR-1'"}}`,
		`{"FormId":"AP_Payable","FieldKeys":"FID, FBillNo ,FDocumentStatus,FSupplierID.FNumber","FilterString":"FBILLNO = 'FBT-CAR-1'"}`,
		`{"parameters":[{"FormId":"AP_Payable","FieldKeys":"FID,FBillNo,FDocumentStatus,FSUPPLIERID.FNumber","FilterString":"FBillNo='FBT-CAR-1'"}]}`,
		`{"FormId":"AP_Payable","data":"{\"FieldKeys\":\"FID,FBillNo,FDocumentStatus,FSUPPLIERID.FNumber\",\"FilterString\":\"FBillNo='FBT-CAR-1'\"}"}`,
	} {
		_, a = c.post(queryPath, body)
		if got := string(encode(a)); got != `[[100001,"FBT-CAR-1","A","FBT001"]]` {
			t.Errorf("query %s answered %s", body, got)
		}
	}
	_, a = c.post(queryPath, `{"data":{"FormId":"AP_Payable","FieldKeys":"FID","FilterString":"FBillNo='none'"}}`)
	if got := string(encode(a)); got != `[]` {
		t.Errorf("query for no bill answered %s", got)
	}
	_, a = c.post(queryPath, `{"data":{"FormId":"AP_Payable","FieldKeys":"FID","FilterString":"FBillNo like 'x%'"}}`)
	if rs(t, a)["IsSuccess"] != false {
		t.Errorf("an unsupported filter answered %v", a)
	}

	// View by number.
	_, a = c.post(viewPath, `{"formid":"AP_Payable","data":{"Number":"FBT-CAR-1"}}`)
	res := a.(map[string]any)["Result"].(map[string]any)["Result"].(map[string]any)
	if text(res["Id"]) != "100001" || text(res["DocumentStatus"]) != "A" {
		t.Errorf("view: %v", res)
	}

	// Audit needs a submitted bill; submit, then audit; then no update.
	_, a = c.post(auditPath, `{"formid":"AP_Payable","data":{"Numbers":["FBT-CAR-1"]}}`)
	if rs(t, a)["IsSuccess"] != false {
		t.Errorf("audit of a created bill: %v", a)
	}
	_, a = c.post(subPath, `{"formid":"AP_Payable","data":{"Ids":"100001"}}`)
	if rs(t, a)["IsSuccess"] != true {
		t.Fatalf("submit: %v", a)
	}
	_, a = c.post(auditPath, `{"formid":"AP_Payable","data":{"Numbers":["FBT-CAR-1"]}}`)
	if rs(t, a)["IsSuccess"] != true {
		t.Fatalf("audit: %v", a)
	}
	if b, _ := s.Bill("AP_Payable", "FBT-CAR-1"); b.Status != StatusAudited {
		t.Errorf("status after audit %q", b.Status)
	}
	_, a = c.post(savePath, `{"formid":"AP_Payable","data":{"Model":{"FID":"100001","FDATE":"2024-05-02"}}}`)
	if rs(t, a)["IsSuccess"] != false || !strings.Contains(firstMessage(t, a), "已审核") {
		t.Errorf("update of an audited bill: %v", a)
	}
}

func TestSessions(t *testing.T) {
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	s, srv := start(t, options(clk))
	query := `{"data":{"FormId":"AP_Payable","FieldKeys":"FID","FilterString":"FBillNo='x'"}}`

	// No login: the lost-session answer, as a query row and as an object.
	c := newClient(t, srv)
	_, a := c.post(queryPath, query)
	if !strings.Contains(firstMessage(t, a), LostSessionMessage) || text(rs(t, a)["MsgCode"]) != "1" {
		t.Fatalf("query without a session: %v", a)
	}
	_, a = c.post(savePath, `{"formid":"AP_Payable","data":{"Model":{}}}`)
	if rs(t, a)["IsSuccess"] != false || !strings.Contains(firstMessage(t, a), LostSessionMessage) {
		t.Fatalf("save without a session: %v", a)
	}

	// Logged in, used within the idle time, then idle too long.
	c.login()
	clk.Add(19 * time.Minute)
	if _, a = c.post(queryPath, query); string(encode(a)) != "[]" {
		t.Fatalf("query in a live session: %v", a)
	}
	clk.Add(19 * time.Minute)
	if _, a = c.post(queryPath, query); string(encode(a)) != "[]" {
		t.Fatalf("a session used 19 minutes ago expired: %v", a)
	}
	if s.Stats().Sessions != 1 {
		t.Errorf("sessions %d, want 1", s.Stats().Sessions)
	}
	clk.Add(21 * time.Minute)
	if s.Stats().Sessions != 0 {
		t.Error("a session idle for 21 minutes is still alive")
	}
	_, a = c.post(queryPath, query)
	if !strings.Contains(firstMessage(t, a), LostSessionMessage) {
		t.Fatalf("query in an expired session: %v", a)
	}

	// ExpireSessions ends a live one.
	c.login()
	if n := s.ExpireSessions(); n != 1 {
		t.Errorf("ExpireSessions ended %d, want 1", n)
	}
	_, a = c.post(queryPath, query)
	if !strings.Contains(firstMessage(t, a), LostSessionMessage) {
		t.Fatalf("query after ExpireSessions: %v", a)
	}
	if st := s.Stats(); st.LostSession != 4 {
		t.Errorf("lost-session answers %d, want 4", st.LostSession)
	}
}

func TestOneCallAtATimePerSession(t *testing.T) {
	s, srv := start(t, options(&clock{now: time.Now()}))
	c := newClient(t, srv)
	c.login()
	if err := s.SetFaults(Faults{LatencyMS: 300, LatencyOps: []string{OpExecuteBillQuery}}); err != nil {
		t.Fatal(err)
	}
	query := `{"data":{"FormId":"AP_Payable","FieldKeys":"FID","FilterString":""}}`
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { c.post(queryPath, query) })
	}
	wg.Wait()
	st := s.Stats()
	if st.SessionWaits != 1 || st.Calls[OpExecuteBillQuery] != 2 {
		t.Errorf("two calls on one session: waits %d, calls %d; want 1 and 2", st.SessionWaits, st.Calls[OpExecuteBillQuery])
	}
}

func TestFaults(t *testing.T) {
	s, srv := start(t, options(&clock{now: time.Now()}))
	c := newClient(t, srv)
	if err := s.SetFaults(Faults{FailNext: 2, FailStatus: 502}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if code, _ := c.post(loginApp, `{}`); code != 502 {
			t.Fatalf("call %d: status %d, want 502", i+1, code)
		}
	}
	c.login()

	// Faults over HTTP: a validation failure for one number.
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPut, srv.URL+"/kdsim/faults",
		strings.NewReader(`{"reject_numbers":["FBT-CAR-9"],"reject_message":"供应商已禁用"}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("PUT /kdsim/faults: %v %v", resp, err)
	}
	resp.Body.Close()
	_, a := c.post(savePath, `{"formid":"AP_Payable","data":{"Model":`+payable+`,"FBillNo":"FBT-CAR-9"}}}`)
	if rs(t, a)["IsSuccess"] != false || firstMessage(t, a) != "供应商已禁用" {
		t.Errorf("rejected number: %v", a)
	}
	_, a = c.post(savePath, `{"formid":"AP_Payable","data":{"Model":`+payable+`,"FBillNo":"FBT-CAR-10"}}}`)
	if rs(t, a)["IsSuccess"] != true {
		t.Errorf("other number: %v", a)
	}
	for _, f := range []Faults{{FailNext: -1}, {FailStatus: 404}, {LatencyMS: -1}, {LatencyOps: []string{"Nope"}}} {
		if s.SetFaults(f) == nil {
			t.Errorf("SetFaults(%+v) accepted", f)
		}
	}
	if st := s.Stats(); st.Injected5xx != 2 || st.Creates != 1 || st.SaveFailures != 1 {
		t.Errorf("stats %+v", st)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

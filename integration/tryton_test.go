package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/models"
)

// trytonServer returns the settings of the test binary's Tryton server
// (testenv.Tryton), starting it on first use.
func trytonServer(t *testing.T) config.Tryton {
	t.Helper()
	st := testenv.Tryton(t).Settings
	cfg := config.Tryton{URL: st.URL, Database: st.Database, User: st.User, Password: st.Password,
		Timeout: 10 * time.Second, MaxConcurrent: 4}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("up.sh printed unusable settings: %v", err)
	}
	return cfg
}

// trytonGate stands between erpbridge and Tryton, as a load balancer
// would: it answers 503 while Tryton is "down", and can hold the answer of
// one JSON-RPC method's call after Tryton has done it (a create that landed
// but whose answer the worker never gets).
type trytonGate struct {
	target string // Tryton's base URL
	client *http.Client

	mu      sync.Mutex
	down    bool
	refused int            // calls answered 503
	hold    string         // method whose next call's answer is held
	held    chan struct{}  // closed once such a call is held
	release chan struct{}  // closed to let it go
	calls   map[string]int // calls per method that reached Tryton
}

func newTrytonGate(t *testing.T, target string) (*trytonGate, string) {
	g := &trytonGate{target: strings.TrimRight(target, "/"), client: &http.Client{}, calls: map[string]int{}}
	srv := testkit.HTTPServer(t, g)
	return g, srv.URL + "/"
}

func (g *trytonGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	var call struct {
		Method string `json:"method"`
	}
	_ = json.Unmarshal(body, &call)
	g.mu.Lock()
	if g.down {
		g.refused++
		g.mu.Unlock()
		http.Error(w, "<html><body>503 Service Unavailable: the backend is restarting</body></html>", http.StatusServiceUnavailable)
		return
	}
	hold := g.hold != "" && call.Method == g.hold
	var held, release chan struct{}
	if hold {
		g.hold, held, release = "", g.held, g.release
	}
	g.mu.Unlock()

	out, _ := http.NewRequestWithContext(context.WithoutCancel(r.Context()), r.Method, g.target+r.URL.Path, bytes.NewReader(body))
	out.Header = r.Header.Clone()
	resp, err := g.client.Do(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	g.mu.Lock()
	g.calls[call.Method]++
	g.mu.Unlock()
	if hold {
		close(held)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}

// setDown makes the gate answer 503 (down) or forward again.
func (g *trytonGate) setDown(down bool) {
	g.mu.Lock()
	g.down = down
	g.mu.Unlock()
}

// holdNext holds the answer of the next call of method; the returned
// channel is closed once Tryton has done the call, and release lets the
// answer go.
func (g *trytonGate) holdNext(method string) (held <-chan struct{}, release func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.hold, g.held, g.release = method, make(chan struct{}), make(chan struct{})
	r := g.release
	var once sync.Once
	return g.held, func() { once.Do(func() { close(r) }) }
}

func (g *trytonGate) stats() (refused int, calls map[string]int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	calls = map[string]int{}
	for k, v := range g.calls {
		calls[k] = v
	}
	return g.refused, calls
}

// trytonClient calls Tryton's JSON-RPC as a person with the Tryton client
// would: to read back what erpbridge wrote, and (as admin) to change the
// master data a record depends on.
type trytonClient struct {
	t        *testing.T
	endpoint string
	auth     string
	context  map[string]any
}

func newTrytonClient(t *testing.T, cfg config.Tryton, login, password string) *trytonClient {
	t.Helper()
	c := &trytonClient{t: t, endpoint: strings.TrimRight(cfg.URL, "/") + "/" + cfg.Database + "/"}
	var session []json.RawMessage
	c.call(&session, "common.db.login", login, map[string]any{"password": password})
	if len(session) != 2 {
		t.Fatalf("tryton login as %s: %d parts", login, len(session))
	}
	var uid int64
	var key string
	_ = json.Unmarshal(session[0], &uid)
	_ = json.Unmarshal(session[1], &key)
	c.auth = "Session " + base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("%s:%d:%s", login, uid, key)))
	var prefs map[string]any
	c.call(&prefs, "model.res.user.get_preferences", true, map[string]any{})
	c.context = map[string]any{"company": prefs["company"], "language": prefs["language"]}
	return c
}

// call calls method with params and decodes the result into out.
func (c *trytonClient) call(out any, method string, params ...any) {
	c.t.Helper()
	if params == nil {
		params = []any{}
	}
	body, _ := json.Marshal(map[string]any{"id": 1, "method": method, "params": params})
	req, _ := http.NewRequest(http.MethodPost, c.endpoint, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("tryton %s: %v", method, err)
	}
	defer resp.Body.Close()
	var ans struct {
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if err := dec.Decode(&ans); err != nil || resp.StatusCode != http.StatusOK {
		c.t.Fatalf("tryton %s: HTTP %d, %v", method, resp.StatusCode, err)
	}
	if len(ans.Error) > 0 && string(ans.Error) != "null" {
		c.t.Fatalf("tryton %s: %s", method, ans.Error)
	}
	if out != nil {
		d := json.NewDecoder(bytes.NewReader(ans.Result))
		d.UseNumber()
		if err := d.Decode(out); err != nil {
			c.t.Fatalf("tryton %s: decode %s: %v", method, ans.Result, err)
		}
	}
}

// searchRead reads fields of model's records matching domain, active or not.
func (c *trytonClient) searchRead(model string, domain []any, fields ...string) []map[string]any {
	c.t.Helper()
	ctx := map[string]any{"active_test": false}
	for k, v := range c.context {
		ctx[k] = v
	}
	var out []map[string]any
	c.call(&out, "model."+model+".search_read", domain, 0, nil, nil, fields, ctx)
	return out
}

// write writes values to model's records ids.
func (c *trytonClient) write(model string, ids []int64, values map[string]any) {
	c.t.Helper()
	c.call(nil, "model."+model+".write", ids, values, c.context)
}

// decimalOf reads a Tryton Decimal ({"__class__": "Decimal", "decimal": "…"}).
func decimalOf(t *testing.T, v any) decimal.Decimal {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok || m["__class__"] != "Decimal" {
		t.Fatalf("not a Tryton Decimal: %#v", v)
	}
	d, err := decimal.NewFromString(fmt.Sprint(m["decimal"]))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func idOf(t *testing.T, v any) int64 {
	t.Helper()
	n, err := strconv.ParseInt(fmt.Sprint(v), 10, 64)
	if err != nil {
		t.Fatalf("not an id: %#v", v)
	}
	return n
}

// With ERP_KIND=tryton, callbacks posted as the vendors do reach a real
// Tryton server (deploy/tryton/up.sh) as exactly one draft document per
// record, found by its reference, through redeliveries, newer states
// (written in place), a worker that dies after its create landed and a
// Tryton answering 503 for a while; the invoice totals Tryton computes are
// exact. A validation failure of Tryton's (a product without an expense
// account) is parked after one send, not hammered, and an operator's retry
// after the fix in Tryton lands it. The password is in no log and no
// workflow history, and neither is Tryton's message.
func TestTrytonOneDocumentPerRecord(t *testing.T) {
	tc := trytonServer(t)
	gate, gateURL := newTrytonGate(t, tc.URL)
	logs := &testkit.Buffer{}
	s := newStack(t, "mysql", stackOptions{logs: logs, noWorker: true, configure: func(c *config.Config) {
		c.ERP.Kind = erp.KindTryton
		c.Tryton = tc
		c.Tryton.URL = gateURL
		// A send has room for two calls at their slowest; the attempt for the send and its writes.
		c.ERP.Timeout, c.ERP.AttemptTimeout = 20*time.Second, 35*time.Second
	}})
	stopWorker := s.startWorker(func(c *config.Config) { c.Temporal.WorkerStopTimeout = 100 * time.Millisecond })
	reader := newTrytonClient(t, tc, tc.User, tc.Password)
	adminPassword, err := os.ReadFile(filepath.Join(testenv.Tryton(t).Dir, "admin-password"))
	if err != nil {
		t.Fatal(err)
	}
	admin := newTrytonClient(t, tc, "admin", strings.TrimSpace(string(adminPassword)))

	model := func(r sent) string {
		if r.kind == "car_order" {
			return "account.invoice"
		}
		return "sale.sale"
	}
	// oneDocument checks that Tryton has one document with r's reference, in
	// draft, and that the record keeps its id and reference.
	oneDocument := func(r sent, fields ...string) map[string]any {
		t.Helper()
		docs := reader.searchRead(model(r), []any{[]any{"reference", "=", r.number()}}, append([]string{"id", "state", "reference"}, fields...)...)
		if len(docs) != 1 {
			t.Fatalf("%d %s with reference %s, want 1", len(docs), model(r), r.number())
		}
		st := s.recordRow(r)
		if st.ERPDocumentID != fmt.Sprint(docs[0]["id"]) || st.ERPDocumentNumber != r.number() || docs[0]["state"] != "draft" || st.SyncStatus != models.RecordSynced {
			t.Errorf("%s: document %v (%v); record keeps %q %q, %s", r.number(), docs[0]["id"], docs[0]["state"], st.ERPDocumentID, st.ERPDocumentNumber, st.SyncStatus)
		}
		return docs[0]
	}
	// invoiceTotal is an invoice's total as Tryton computes it, and its lines' unit prices.
	invoiceTotal := func(doc map[string]any) (total decimal.Decimal, prices []string) {
		t.Helper()
		lines := reader.searchRead("account.invoice.line", []any{[]any{"invoice", "=", idOf(t, doc["id"])}}, "unit_price", "amount")
		for _, l := range lines {
			prices = append(prices, decimalOf(t, l["unit_price"]).String())
		}
		return decimalOf(t, doc["total_amount"]), prices
	}

	// Redeliveries: each callback posted twice at once.
	const exact = "98765432101234.5678"
	var records []sent
	for i := range 2 {
		records = append(records, s.postReception(fmt.Sprintf("常规保养 %d", i)))
	}
	records = append(records, s.postCar("tr0"+testkit.RandomHex(8), 600, exact, exact), s.postCar("tr1"+testkit.RandomHex(8), 600, "24.5", "14.5"))
	s.synced(records...)
	for _, r := range records {
		oneDocument(r)
	}
	total, prices := invoiceTotal(oneDocument(records[2], "total_amount"))
	// Lines 10 and 98765432101234.5678 (kept to Tryton's 4 price digits),
	// amounts rounded to CNY's 0.01 by Tryton: 10.00 + 98765432101234.57.
	if want := decimal.RequireFromString("98765432101244.57"); !total.Equal(want) || !strings.Contains(strings.Join(prices, " "), exact) {
		t.Errorf("the invoice's total %s (want %s), its lines' prices %v (want one of %s)", total, want, prices, exact)
	}
	if total, _ := invoiceTotal(oneDocument(records[3], "total_amount")); !total.Equal(decimal.RequireFromString("24.5")) {
		t.Errorf("the second invoice's total %s, want 24.50", total)
	}

	// Newer states: the same documents, written.
	sale := oneDocument(records[0])
	invoice := oneDocument(records[2])
	s.updateReception(&records[0], "客户要求更换刹车片")
	newer := s.postCar(records[2].externalID, 700, exact, exact)
	records[2].events = append(records[2].events, newer.events...)
	s.synced(records[0], records[2])
	if doc := oneDocument(records[0], "comment"); doc["id"] != sale["id"] || !strings.Contains(fmt.Sprint(doc["comment"]), "客户要求更换刹车片") {
		t.Errorf("the newer reception state: sale %v (was %v), comment %q", doc["id"], sale["id"], doc["comment"])
	}
	if doc := oneDocument(records[2], "comment", "total_amount"); doc["id"] != invoice["id"] || !strings.Contains(fmt.Sprint(doc["comment"]), "已完成") {
		t.Errorf("the newer car order state: invoice %v (was %v), comment %q", doc["id"], invoice["id"], doc["comment"])
	}

	// A worker dies after its create landed in Tryton, before the answer
	// reached it. The next worker finds the invoice by reference and writes it.
	_, callsBefore := gate.stats()
	held, release := gate.holdNext("model.account.invoice.create")
	crashed := s.postCar("trcrash"+testkit.RandomHex(6), 700, "88.8", "78.8")
	select {
	case <-held:
	case <-time.After(time.Minute):
		t.Fatal("the invoice's create never reached Tryton")
	}
	stopWorker()
	release()
	s.startWorker(nil)
	s.synced(crashed)
	oneDocument(crashed)
	if _, calls := gate.stats(); calls["model.account.invoice.create"] != callsBefore["model.account.invoice.create"]+1 ||
		calls["model.account.invoice.write"] != callsBefore["model.account.invoice.write"]+1 {
		t.Errorf("around the crash: creates %d -> %d, writes %d -> %d; want one create, then one write of what it made",
			callsBefore["model.account.invoice.create"], calls["model.account.invoice.create"],
			callsBefore["model.account.invoice.write"], calls["model.account.invoice.write"])
	}

	// A validation failure of Tryton's: the expense account of the travel
	// products' category is gone, so an invoice line has no account.
	cats := admin.searchRead("product.category", []any{[]any{"name", "=", "Services (erpbridge)"}}, "id", "account_expense")
	if len(cats) != 1 {
		t.Fatalf("%d categories Services (erpbridge)", len(cats))
	}
	catID, expense := idOf(t, cats[0]["id"]), idOf(t, cats[0]["account_expense"])
	admin.write("product.category", []int64{catID}, map[string]any{"account_expense": nil})
	t.Cleanup(func() { admin.write("product.category", []int64{catID}, map[string]any{"account_expense": expense}) })
	_, callsBefore = gate.stats()
	rejected := s.postCar("trreject"+testkit.RandomHex(6), 700, "20.5", "10.5")
	s.waitParked(rejected.recordWorkflow())
	if _, calls := gate.stats(); calls["model.account.invoice.create"] != callsBefore["model.account.invoice.create"]+1 {
		t.Errorf("the refused record made %d creates, want 1", calls["model.account.invoice.create"]-callsBefore["model.account.invoice.create"])
	}
	parked := s.attempts(rejected)
	if outcomes(parked) != "rejected" || !strings.Contains(parked[0].Detail, "UserError") {
		t.Fatalf("attempts of the rejected record: %q (%v), want one rejection with Tryton's message", outcomes(parked), parked)
	}
	trytonMessage := parked[0].Detail[strings.Index(parked[0].Detail, "UserError"):]
	if docs := reader.searchRead("account.invoice", []any{[]any{"reference", "=", rejected.number()}}, "id"); len(docs) != 0 {
		t.Errorf("a refused record left %d invoices", len(docs))
	}

	// Tryton answers 503 for a while: what is sent meanwhile is retried
	// until it is back, one document each.
	gate.setDown(true)
	during := []sent{s.postReception("故障期间到店"), s.postCar("troutage"+testkit.RandomHex(6), 700, "33.33", "23.33")}
	testenv.Eventually(t, "sends meet the outage", time.Minute, func() error {
		for _, r := range during {
			if !strings.Contains(outcomes(s.attempts(r)), "retry") {
				return fmt.Errorf("%s not retried yet", r.number())
			}
		}
		return nil
	})
	gate.setDown(false)
	// The reception order's sale needs no expense account; the car order's
	// invoice waits for the fix below, parked like the first.
	s.synced(during[0])
	oneDocument(during[0])
	s.waitParked(during[1].recordWorkflow())
	if refused, _ := gate.stats(); refused == 0 {
		t.Error("the gate refused nothing")
	}
	// The parked record was not sent again meanwhile.
	if got := outcomes(s.attempts(rejected)); got != "rejected" {
		t.Fatalf("the parked record was hammered: attempts %q", got)
	}

	// The account is set again in Tryton; the operator retries both.
	admin.write("product.category", []int64{catID}, map[string]any{"account_expense": expense})
	for _, r := range []sent{rejected, during[1]} {
		s.retry(r)
	}
	s.synced(rejected, during[1])
	if got := outcomes(s.attempts(rejected)); got != "rejected accepted" {
		t.Errorf("attempts after the retry: %q", got)
	}
	if total, _ := invoiceTotal(oneDocument(rejected, "total_amount")); !total.Equal(decimal.RequireFromString("20.5")) {
		t.Errorf("the retried invoice's total %s, want 20.50", total)
	}
	oneDocument(during[1])

	s.checkNothingLeaks(logs, []string{tc.Password, trytonMessage}, []string{"Tryton at " + gateURL})
}

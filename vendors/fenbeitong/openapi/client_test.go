package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong/fbtsim"
)

// TestSignMatchesHandComputedMD5 checks Sign against digests computed by
// hand with md5sum over the documented string.
func TestSignMatchesHandComputedMD5(t *testing.T) {
	cases := []struct{ ts, data, key, want string }{
		{"1714531200000", `{"page_index":1,"page_size":50,"create_time_end":"2024-05-01"}`, "sk-test-0123456789", "f083567c9c9d823224047072f1bcc380"},
		{"1714531200000", `{"order_id":"订单1"}`, "密钥", "6c2eb0c3a2510218d3e71289b64886df"},
	}
	for _, c := range cases {
		if got := Sign(c.ts, c.data, c.key); got != c.want {
			t.Errorf("Sign(%s, %s) = %s, want %s", c.ts, c.data, got, c.want)
		}
	}
	if got := Timestamp(time.UnixMilli(1714531200000)); got != "1714531200000" || len(got) != 13 {
		t.Errorf("Timestamp = %s", got)
	}
}

// TestCallIsASignedForm captures a list call and checks every field: the
// data as sent, the 13-digit timestamp of the client's clock, and the sign
// computed by hand for exactly that timestamp and data.
func TestCallIsASignedForm(t *testing.T) {
	var form url.Values
	var contentType string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == DefaultTokenPath {
			var creds map[string]string
			if err := json.NewDecoder(r.Body).Decode(&creds); err != nil || creds["app_id"] != testAppID || creds["app_key"] != testAppKey ||
				r.Header.Get("Content-Type") != "application/json" {
				t.Errorf("token request: %v %v %s", creds, err, r.Header.Get("Content-Type"))
			}
			fmt.Fprint(w, `{"code":0,"msg":"success","data":{"access_token":"tok-1","expire_time":7200}}`)
			return
		}
		contentType = r.Header.Get("Content-Type")
		body, _ := io.ReadAll(r.Body)
		form, _ = url.ParseQuery(string(body))
		fmt.Fprint(w, `{"code":0,"msg":"success","data":{"total_count":0,"page_index":1,"page_size":50,"total_pages":0,"results":[]}}`)
	}))
	defer srv.Close()

	cfg := testConfig(srv.URL)
	cfg.SignKey = "sk-test-0123456789"
	clk := testkit.NewClock(time.UnixMilli(1714531200000))
	c := newClient(t, cfg, clk)
	if _, err := c.ListCarOrders(context.Background(), ListQuery{CreateEnd: "2024-05-01"}); err != nil {
		t.Fatal(err)
	}
	want := url.Values{
		"timestamp":     {"1714531200000"},
		"data":          {`{"page_index":1,"page_size":50,"create_time_end":"2024-05-01"}`},
		"sign":          {"f083567c9c9d823224047072f1bcc380"},
		"access_token":  {"tok-1"},
		"employee_id":   {testEmployeeID},
		"employee_type": {"0"},
	}
	if contentType != "application/x-www-form-urlencoded" || form.Encode() != want.Encode() {
		t.Fatalf("form %s %v\nwant %v", contentType, form, want)
	}
}

// TestTokenFetchedOnceAndReused makes many calls, one after another and at
// once: the simulator issues one token, and every call succeeds with it.
func TestTokenFetchedOnceAndReused(t *testing.T) {
	sim, srv := startSim(t, fbtsim.Options{})
	addOrders(t, sim, 3)
	c := newClient(t, testConfig(srv.URL), nil)
	ctx := context.Background()

	for range 10 {
		if _, err := c.ListCarOrders(ctx, dayQuery()); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Go(func() {
			if i%2 == 0 {
				_, err := c.ListCarOrders(ctx, dayQuery())
				errs <- err
			} else {
				_, err := c.CarOrderDetail(ctx, "ord-001")
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if sim.TokensIssued() != 1 || sim.Calls(fbtsim.EndpointToken) != 1 ||
		sim.Calls(fbtsim.EndpointList) != 20 || sim.Calls(fbtsim.EndpointDetail) != 10 {
		t.Fatalf("tokens %d, token calls %d, list %d, detail %d", sim.TokensIssued(), sim.Calls(fbtsim.EndpointToken),
			sim.Calls(fbtsim.EndpointList), sim.Calls(fbtsim.EndpointDetail))
	}
}

// TestConcurrentFirstCallsShareOneFetch starts many callers on a client
// with no token yet: one fetch serves them all.
func TestConcurrentFirstCallsShareOneFetch(t *testing.T) {
	sim, srv := startSim(t, fbtsim.Options{})
	c := newClient(t, testConfig(srv.URL), nil)
	var wg sync.WaitGroup
	var failed sync.Map
	for i := range 32 {
		wg.Go(func() {
			if _, err := c.ListCarOrders(context.Background(), dayQuery()); err != nil {
				failed.Store(i, err)
			}
		})
	}
	wg.Wait()
	failed.Range(func(k, v any) bool { t.Errorf("caller %v: %v", k, v); return true })
	if sim.TokensIssued() != 1 {
		t.Fatalf("%d tokens issued for 32 concurrent first calls, want 1", sim.TokensIssued())
	}
}

// TestTokenRefreshedBeforeExpiry moves the clock of client and simulator:
// the token is reused while it lives, replaced a little before it expires,
// and no call is ever refused.
func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	for _, style := range []fbtsim.ExpireStyle{fbtsim.ExpireSecondsFromNow, fbtsim.ExpireEpochSeconds, fbtsim.ExpireEpochMillis} {
		t.Run(fmt.Sprint(style), func(t *testing.T) {
			clk := newClock()
			sim, srv := startSim(t, fbtsim.Options{TokenTTL: 2 * time.Hour, ExpireStyle: style, Now: clk.Now})
			c := newClient(t, testConfig(srv.URL), clk)
			ctx := context.Background()
			list := func() {
				t.Helper()
				if _, err := c.ListCarOrders(ctx, dayQuery()); err != nil {
					t.Fatal(err)
				}
			}
			list()
			clk.Advance(time.Hour)
			list()
			clk.Advance(54 * time.Minute) // 1h54m: still before the refresh at 1h55m
			list()
			if n := sim.TokensIssued(); n != 1 {
				t.Fatalf("%d tokens before the refresh time, want 1", n)
			}
			clk.Advance(2 * time.Minute) // 1h56m: within 5 minutes of expiry
			list()
			list()
			if n := sim.TokensIssued(); n != 2 {
				t.Fatalf("%d tokens after the refresh time, want 2", n)
			}
			for _, r := range sim.Requests() {
				if r.Code != 0 {
					t.Fatalf("a call was refused: %+v", r)
				}
			}
		})
	}
}

// TestRefusedTokenReplacedOnce expires the token on the simulator's side
// only: the next call is refused once, one new token is fetched and the
// call repeated, and the new token is then reused.
func TestRefusedTokenReplacedOnce(t *testing.T) {
	sim, srv := startSim(t, fbtsim.Options{})
	addOrders(t, sim, 2)
	c := newClient(t, testConfig(srv.URL), nil)
	ctx := context.Background()
	if _, err := c.ListCarOrders(ctx, dayQuery()); err != nil {
		t.Fatal(err)
	}
	sim.ExpireTokens()
	page, err := c.ListCarOrders(ctx, dayQuery())
	if err != nil || len(page.Results) != 2 {
		t.Fatalf("after expiry: %d results, %v", len(page.Results), err)
	}
	if _, err := c.CarOrderDetail(ctx, "ord-000"); err != nil {
		t.Fatal(err)
	}
	if sim.TokensIssued() != 2 || sim.Calls(fbtsim.EndpointList) != 3 || sim.Calls(fbtsim.EndpointDetail) != 1 {
		t.Fatalf("tokens %d, list calls %d, detail calls %d; want 2, 3 (one refused), 1",
			sim.TokensIssued(), sim.Calls(fbtsim.EndpointList), sim.Calls(fbtsim.EndpointDetail))
	}
	refused := 0
	for _, r := range sim.Requests() {
		if r.Code == 1 {
			refused++
			if r.Msg != "access_token已过期" {
				t.Fatalf("refusal %+v", r)
			}
		}
	}
	if refused != 1 {
		t.Fatalf("%d refused calls, want 1", refused)
	}

	// Many callers refused with the same token share one new token.
	sim.ExpireTokens()
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			if _, err := c.ListCarOrders(ctx, dayQuery()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if sim.TokensIssued() != 3 {
		t.Fatalf("%d tokens after concurrent refusals, want 3", sim.TokensIssued())
	}
}

// TestTokenRefusedEvenWhenFresh: a server that refuses every token gets one
// new token and one repeat, then a retryable error that says so.
func TestTokenRefusedEvenWhenFresh(t *testing.T) {
	var tokens, lists int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == DefaultTokenPath {
			tokens++
			fmt.Fprintf(w, `{"code":0,"msg":"success","data":{"access_token":"tok-%d","expire_time":7200}}`, tokens)
			return
		}
		lists++
		fmt.Fprint(w, `{"code":1,"msg":"token已失效"}`)
	}))
	defer srv.Close()
	c := newClient(t, testConfig(srv.URL), nil)
	_, err := c.ListCarOrders(context.Background(), dayQuery())
	var e *Error
	if !errors.As(err, &e) || !e.TokenRefused || !IsTokenRefused(err) || !IsRetryable(err) || e.Msg != "token已失效" || e.Code != 1 {
		t.Fatalf("err = %#v", err)
	}
	if tokens != 2 || lists != 2 {
		t.Fatalf("%d token calls, %d list calls; want 2 and 2", tokens, lists)
	}
	if !strings.Contains(err.Error(), "car order list page 1") || !strings.Contains(err.Error(), "token已失效") {
		t.Fatalf("error text %q", err)
	}
}

// TestPagesBeyondTheFirst reads every page of 7 orders, 3 a page.
func TestPagesBeyondTheFirst(t *testing.T) {
	sim, srv := startSim(t, fbtsim.Options{})
	addOrders(t, sim, 7)
	c := newClient(t, testConfig(srv.URL), nil)
	q := dayQuery()
	q.PageSize = 3
	seen := map[string]bool{}
	pages := 0
	for q.PageIndex = 1; ; q.PageIndex++ {
		p, err := c.ListCarOrders(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if p.TotalCount != 7 || p.TotalPages != 3 || p.PageIndex != q.PageIndex || p.PageSize != 3 {
			t.Fatalf("page %d: %+v", q.PageIndex, p)
		}
		for _, r := range p.Results {
			var o struct {
				OrderInfo struct {
					OrderID string `json:"order_id"`
				} `json:"order_info"`
			}
			if err := json.Unmarshal(r, &o); err != nil || seen[o.OrderInfo.OrderID] {
				t.Fatalf("result %s: %v (seen before: %v)", r, err, seen[o.OrderInfo.OrderID])
			}
			seen[o.OrderInfo.OrderID] = true
		}
		if !p.More() {
			break
		}
	}
	if pages != 3 || len(seen) != 7 {
		t.Fatalf("%d pages, %d orders; want 3 and 7", pages, len(seen))
	}
}

// TestResultsKeptExactly: results and the detail come back byte for byte,
// numbers with more digits than a float64 holds included.
func TestResultsKeptExactly(t *testing.T) {
	order := `{ "order_info" : {"order_id":"o-1","status":"700"}, "price_info": {"total_price": 98765432101234.5678, "coupon_amount": 0.10} }`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case DefaultTokenPath:
			fmt.Fprint(w, `{"code":"0","msg":"success","data":{"access_token":"tok","expire_time":"7200"}}`)
		case DefaultListPath:
			fmt.Fprintf(w, `{"code":0,"msg":"success","data":{"total_count":"1","page_index":"1","page_size":"50","total_pages":"1","results":[%s]}}`, order)
		case DefaultDetailPath:
			fmt.Fprintf(w, `{"code":0,"msg":"success","data":%s}`, order)
		}
	}))
	defer srv.Close()
	c := newClient(t, testConfig(srv.URL), nil)
	p, err := c.ListCarOrders(context.Background(), dayQuery())
	if err != nil || len(p.Results) != 1 || string(p.Results[0]) != order || p.TotalCount != 1 || p.More() {
		t.Fatalf("page %+v, %v", p, err)
	}
	d, err := c.CarOrderDetail(context.Background(), "o-1")
	if err != nil || string(d) != order {
		t.Fatalf("detail %s, %v", d, err)
	}
}

// TestRefusalCarriesMsg: code 1 answers become errors naming the call and
// carrying Fenbeitong's msg, and they are not retryable.
func TestRefusalCarriesMsg(t *testing.T) {
	sim, srv := startSim(t, fbtsim.Options{})
	ctx := context.Background()

	cfg := testConfig(srv.URL)
	cfg.SignKey = "not-the-sign-key"
	_, err := newClient(t, cfg, nil).ListCarOrders(ctx, dayQuery())
	var e *Error
	if !errors.As(err, &e) || !e.HasCode || e.Code != 1 || e.Msg != "sign error" || e.Retryable || e.Call != "car order list page 1" {
		t.Fatalf("wrong sign key: %#v", err)
	}
	if got, want := err.Error(), `fenbeitong open API car order list page 1 failed: code 1, msg "sign error"`; got != want {
		t.Fatalf("error text\n%s\nwant\n%s", got, want)
	}

	_, err = newClient(t, testConfig(srv.URL), nil).CarOrderDetail(ctx, "no-such-order")
	if !errors.As(err, &e) || e.Msg != "订单不存在" || e.Call != "car order detail of no-such-order" || IsRetryable(err) {
		t.Fatalf("unknown order: %#v", err)
	}

	cfg = testConfig(srv.URL)
	cfg.AppKey = "not-the-app-key"
	_, err = newClient(t, cfg, nil).ListCarOrders(ctx, dayQuery())
	if !errors.As(err, &e) || e.Call != "token" || e.Msg != "app_id或app_key错误" || IsRetryable(err) {
		t.Fatalf("wrong app key: %#v", err)
	}

	c := newClient(t, testConfig(srv.URL), nil)
	c.cfg.EmployeeID = "" // past validation: what the server answers a call without one
	_, err = c.ListCarOrders(ctx, dayQuery())
	if !errors.As(err, &e) || e.Msg != "employee_id不能为空" {
		t.Fatalf("no employee: %#v", err)
	}
	if sim.TokensIssued() != 3 {
		t.Fatalf("%d tokens issued, want 3 (the wrong app key gets none)", sim.TokensIssued())
	}
}

// TestFailuresWithoutARefusal: gateways, timeouts and abandoned calls are
// retryable; a wrong path and an invalid query are not, and an invalid
// query is never sent.
func TestFailuresWithoutARefusal(t *testing.T) {
	sim, srv := startSim(t, fbtsim.Options{})
	ctx := context.Background()
	c := newClient(t, testConfig(srv.URL), nil)

	sim.FailNext(1, http.StatusBadGateway)
	_, err := c.ListCarOrders(ctx, dayQuery())
	var e *Error
	if !errors.As(err, &e) || e.HTTPStatus != 502 || !e.Retryable || e.HasCode || e.Call != "token" ||
		strings.Contains(err.Error(), "simulated gateway failure") || !strings.Contains(err.Error(), "HTTP 502") {
		t.Fatalf("gateway failure: %#v %q", err, err)
	}
	if _, err := c.ListCarOrders(ctx, dayQuery()); err != nil {
		t.Fatalf("after the failure: %v", err)
	}
	sim.FailNext(1, http.StatusServiceUnavailable)
	if _, err := c.ListCarOrders(ctx, dayQuery()); !IsRetryable(err) || !errors.As(err, &e) || e.Call != "car order list page 1" {
		t.Fatalf("list 503: %#v", err)
	}

	cfg := testConfig(srv.URL)
	cfg.ListPath = "/openapi/no/such/path"
	if _, err := newClient(t, cfg, nil).ListCarOrders(ctx, dayQuery()); IsRetryable(err) || !errors.As(err, &e) || e.HTTPStatus != 404 {
		t.Fatalf("wrong path: %#v", err)
	}

	before := len(sim.Requests())
	for _, q := range []ListQuery{{}, {CreateEnd: "2024/05/01"}, {CreateBegin: "2024-05-02", CreateEnd: "2024-05-01"},
		{CreateEnd: "2024-05-01", PageSize: 501}, {CreateEnd: "2024-05-01", PageIndex: -1}} {
		if _, err := c.ListCarOrders(ctx, q); err == nil || IsRetryable(err) || !strings.Contains(err.Error(), "invalid query") {
			t.Fatalf("query %+v: %v", q, err)
		}
	}
	if _, err := c.CarOrderDetail(ctx, ""); err == nil || IsRetryable(err) {
		t.Fatalf("empty order id: %v", err)
	}
	if n := len(sim.Requests()); n != before {
		t.Fatalf("%d requests sent for invalid queries", n-before)
	}

	block := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(block)
	cfg = testConfig(slow.URL)
	cfg.Timeout = 100 * time.Millisecond
	_, err = newClient(t, cfg, nil).ListCarOrders(ctx, dayQuery())
	if !IsRetryable(err) || !strings.Contains(err.Error(), "no answer within 100ms") {
		t.Fatalf("timeout: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := newClient(t, testConfig(slow.URL), nil).ListCarOrders(cancelled, dayQuery()); !IsRetryable(err) {
		t.Fatalf("cancelled: %v", err)
	}

	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<html>maintenance</html>")
	}))
	defer garbage.Close()
	_, err = newClient(t, testConfig(garbage.URL), nil).ListCarOrders(ctx, dayQuery())
	if !IsRetryable(err) || !strings.Contains(err.Error(), "not Fenbeitong's JSON envelope") || strings.Contains(err.Error(), "maintenance") {
		t.Fatalf("not an envelope: %v", err)
	}
	if IsRetryable(errors.New("other")) || IsRetryable(nil) {
		t.Fatal("IsRetryable of a foreign error")
	}
}

// TestBusyRefusalIsRetryable: a refusal whose msg says to slow down may
// succeed later.
func TestBusyRefusalIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == DefaultTokenPath {
			fmt.Fprint(w, `{"code":0,"data":{"access_token":"tok","expire_time":7200}}`)
			return
		}
		fmt.Fprint(w, `{"code":1,"msg":"请求过于频繁，请稍后再试"}`)
	}))
	defer srv.Close()
	_, err := newClient(t, testConfig(srv.URL), nil).ListCarOrders(context.Background(), dayQuery())
	if !IsRetryable(err) || IsTokenRefused(err) {
		t.Fatalf("busy: %v", err)
	}
}

// TestRateLimit makes calls from several goroutines through one client at
// 10 a second and checks, by the simulator's arrival times, that no 1 s
// window holds more than RPS + burst (+1 for scheduling jitter) and that the
// calls took as long as the rate demands.
func TestRateLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 3 s")
	}
	sim, srv := startSim(t, fbtsim.Options{})
	cfg := testConfig(srv.URL)
	cfg.RPS = 10
	c := newClient(t, cfg, nil)
	const callers, each = 5, 6
	start := time.Now()
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for range each {
				if _, err := c.ListCarOrders(context.Background(), dayQuery()); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)

	reqs := sim.Requests()
	if len(reqs) != callers*each+1 {
		t.Fatalf("%d requests, want %d", len(reqs), callers*each+1)
	}
	const most = 10 + 1 + 1
	for i, r := range reqs {
		n := 0
		for _, o := range reqs[i:] {
			if o.At.Sub(r.At) < time.Second {
				n++
			}
		}
		if n > most {
			t.Fatalf("%d requests in the second from request %d, want at most %d", n, i, most)
		}
	}
	// 31 calls at 10 a second with a burst of 1 take at least 3 s.
	if took < 2800*time.Millisecond {
		t.Fatalf("31 calls took %s at 10 a second", took)
	}
}

// TestSecretsNeverShown prints the config and client every way, marshals
// and logs the config, and makes errors from a server that echoes every
// secret it receives: no secret or token appears.
func TestSecretsNeverShown(t *testing.T) {
	var echoed []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == DefaultTokenPath {
			fmt.Fprint(w, `{"code":0,"data":{"access_token":"TOKEN-secret-eyJhbGciOiJIUzI1NiJ9","expire_time":7200}}`)
			return
		}
		form, _ := url.ParseQuery(string(body))
		msg := "bad call: token " + form.Get("access_token") + " sign key " + testSignKey + " app key " + testAppKey
		echoed = append(echoed, msg)
		b, _ := json.Marshal(map[string]any{"code": 1, "msg": msg})
		if r.URL.Path == DefaultDetailPath {
			w.WriteHeader(http.StatusInternalServerError)
			b = []byte("internal error for " + msg)
		}
		_, _ = w.Write(b)
	}))
	defer srv.Close()

	cfg := testConfig(srv.URL)
	c := newClient(t, cfg, nil)
	secrets := []string{testAppKey, testSignKey, "TOKEN-secret"}
	texts := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%q", "%x"} {
		texts["config "+verb] = fmt.Sprintf(verb, cfg)
		texts["config pointer "+verb] = fmt.Sprintf(verb, &cfg)
		texts["client "+verb] = fmt.Sprintf(verb, c)
	}
	texts["nested"] = fmt.Sprintf("%+v", struct {
		API  Config
		Next *Client
	}{cfg, c})
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	texts["json"] = string(b)
	var logged bytes.Buffer
	slogLogger(&logged).Info("config", "fenbeitong", cfg)
	texts["slog"] = logged.String()

	_, err = c.ListCarOrders(context.Background(), dayQuery())
	var e *Error
	if !errors.As(err, &e) || len(echoed) != 1 {
		t.Fatalf("list: %v (echoed %d)", err, len(echoed))
	}
	texts["list error"], texts["list msg"] = err.Error(), e.Msg
	_, err = c.CarOrderDetail(context.Background(), "o-1")
	texts["detail error"] = fmt.Sprintf("%v %+v", err, err)
	for name, text := range texts {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s shows a secret: %s", name, text)
			}
		}
	}
	if !strings.Contains(texts["config %v"], "AppKey:[redacted]") || !strings.Contains(texts["list msg"], "[redacted]") ||
		!strings.Contains(echoed[0], "TOKEN-secret") {
		t.Fatalf("redaction not as expected: %q / %q", texts["config %v"], texts["list msg"])
	}
}

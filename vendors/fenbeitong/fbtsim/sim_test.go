package fbtsim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong/fbtsim"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong/openapi"
)

const (
	appID   = "sim-app"
	appKey  = "sim-app-key-0123456789"
	signKey = "sim-sign-key-abcdef"
)

func start(t *testing.T, o fbtsim.Options) (*fbtsim.Sim, *httptest.Server) {
	o.AppID, o.AppKey, o.SignKey = appID, appKey, signKey
	sim := fbtsim.New(o)
	return sim, testkit.HTTPServer(t, sim)
}

func client(t *testing.T, srv *httptest.Server) *openapi.Client {
	t.Helper()
	c, err := openapi.New(openapi.Config{URL: srv.URL, AppID: appID, AppKey: appKey, SignKey: signKey,
		EmployeeID: "emp-1", RPS: openapi.MaxRPS, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func decodeCar(t *testing.T, body []byte) (*vendors.Event, *fenbeitong.CarOrder) {
	t.Helper()
	ev, err := fenbeitong.Decode(body)
	if err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	c, ok := ev.Data.(*fenbeitong.CarOrder)
	if !ok {
		t.Fatalf("data is %T", ev.Data)
	}
	return ev, c
}

// TestDefaultPathsMatchTheClient keeps the two packages' defaults together.
func TestDefaultPathsMatchTheClient(t *testing.T) {
	if fbtsim.DefaultTokenPath != openapi.DefaultTokenPath || fbtsim.DefaultListPath != openapi.DefaultListPath ||
		fbtsim.DefaultDetailPath != openapi.DefaultDetailPath {
		t.Fatal("default paths differ from package openapi's")
	}
}

// TestBookedPushThenCompletedPull: the booked order is a push the decoder
// accepts; once the simulator completes it, the pulled order decodes to
// the same record (car_order, the order id) at a higher version, with the
// exact final fare.
func TestBookedPushThenCompletedPull(t *testing.T) {
	clk := testkit.NewClock(time.Date(2024, 5, 1, 2, 0, 0, 0, time.UTC))
	sim, srv := start(t, fbtsim.Options{Now: clk.Now})
	const id = "fbt-car-0001"
	booked := fbtsim.BookedOrder(id, time.Date(2024, 5, 1, 1, 30, 0, 0, time.UTC))

	push, pc := decodeCar(t, booked)
	if push.Vendor != vendors.Fenbeitong || push.Kind != "car_order" || push.ExternalID != id || pc.Status != 350 ||
		pc.StatusName != "预约成功" || pc.Price == nil || !pc.Price.TotalPrice.Value.IsZero() || len(pc.PriceDetails) != 0 ||
		pc.CreateTime.Time.Format(time.DateTime) != "2024-05-01 09:30:00" || len(push.Warnings) != 0 {
		t.Fatalf("booked push: %+v %+v", push, pc)
	}

	if err := sim.AddOrder(booked); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	if err := sim.SetStatus(id, fbtsim.StatusCompleted, fbtsim.SampleFare()); err != nil {
		t.Fatal(err)
	}
	c := client(t, srv)
	ctx := context.Background()
	page, err := c.ListCarOrders(ctx, openapi.ListQuery{CreateBegin: "2024-05-01", CreateEnd: "2024-05-01", Status: 700})
	if err != nil || len(page.Results) != 1 {
		t.Fatalf("list: %+v %v", page, err)
	}
	pulled, cc := decodeCar(t, page.Results[0])
	if pulled.Vendor != push.Vendor || pulled.Kind != push.Kind || pulled.ExternalID != push.ExternalID {
		t.Fatalf("pulled record %s/%s/%s, pushed %s/%s/%s", pulled.Vendor, pulled.Kind, pulled.ExternalID, push.Vendor, push.Kind, push.ExternalID)
	}
	if pulled.Version <= push.Version || pulled.EventKey == push.EventKey {
		t.Fatalf("pulled version %d key %s, pushed version %d key %s", pulled.Version, pulled.EventKey, push.Version, push.EventKey)
	}
	if cc.Status != 700 || cc.StatusName != "已完成" || !cc.Price.TotalPrice.Value.Equal(decimal.RequireFromString("52.30")) ||
		len(cc.PriceDetails) != 4 || cc.PriceDetails[1].Amount.String() != "30.8" || cc.PriceDetails[1].Type != "distance_fee" ||
		cc.PaymentTime.Time.Format(time.DateTime) != "2024-05-01 11:00:00" || len(pulled.Warnings) != 0 {
		t.Fatalf("pulled order: %+v", cc)
	}
	if raw := string(page.Results[0]); !strings.Contains(raw, `"total_price":"52.30"`) || !strings.Contains(raw, `"amount":"14.00"`) || !strings.Contains(raw, `"status":"700"`) {
		t.Fatalf("amounts not written as text: %s", raw)
	}
	var sum decimal.Decimal
	for _, l := range cc.PriceDetails {
		sum = sum.Add(l.Amount.Value)
	}
	if !sum.Equal(cc.Price.TotalPrice.Value) {
		t.Fatalf("lines add up to %s, total %s", sum, cc.Price.TotalPrice.Value)
	}

	detail, err := c.CarOrderDetail(ctx, id)
	if err != nil || string(detail) != string(page.Results[0]) {
		t.Fatalf("detail %s, %v", detail, err)
	}
	if p, err := c.ListCarOrders(ctx, openapi.ListQuery{CreateEnd: "2024-05-01", Status: 350}); err != nil || p.TotalCount != 0 {
		t.Fatalf("booked orders left: %+v %v", p, err)
	}
}

// TestExactFare: a fare wider than a float64 holds comes back digit for digit.
func TestExactFare(t *testing.T) {
	sim, srv := start(t, fbtsim.Options{})
	if err := sim.AddOrder(fbtsim.BookedOrder("o-wide", time.Date(2024, 5, 1, 1, 0, 0, 0, time.UTC))); err != nil {
		t.Fatal(err)
	}
	fare := fbtsim.Fare{Total: "98765432101234.56", Lines: []fbtsim.FareLine{{Name: "里程费", Type: "distance_fee", Amount: "98765432101234.56"}}}
	if err := sim.SetStatus("o-wide", 700, fare); err != nil {
		t.Fatal(err)
	}
	body, err := client(t, srv).CarOrderDetail(context.Background(), "o-wide")
	if err != nil {
		t.Fatal(err)
	}
	_, c := decodeCar(t, body)
	if c.Price.TotalPrice.String() != "98765432101234.56" || c.PriceDetails[0].Amount.String() != "98765432101234.56" {
		t.Fatalf("fare %s / %s", c.Price.TotalPrice, c.PriceDetails[0].Amount)
	}
}

// TestVendorSamplesAsOrders: the vendor's page sample and the full fixture
// are held, completed and decoded; SetStatus writes each value in the kind
// the order had it (the sample's status is a string, its total a number).
func TestVendorSamplesAsOrders(t *testing.T) {
	sim, srv := start(t, fbtsim.Options{})
	full, err := os.ReadFile(filepath.Join("..", "..", "..", "golden", "testdata", "fixtures", "fenbeitong_car_full.json"))
	if err != nil {
		t.Fatal(err)
	}
	sample := fenbeitong.SampleBody("sample-1", 350, "2024-05-01 09:00:00")
	for _, body := range [][]byte{sample, full} {
		if err := sim.AddOrder(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := sim.SetStatus("sample-1", 700, fbtsim.SampleFare()); err != nil {
		t.Fatal(err)
	}
	c := client(t, srv)
	got, err := c.CarOrderDetail(context.Background(), "sample-1")
	if err != nil {
		t.Fatal(err)
	}
	if s := string(got); !strings.Contains(s, `"status":"700"`) || !strings.Contains(s, `"total_price":52.30`) || !strings.Contains(s, `"departure_city_id ":""`) {
		t.Fatalf("sample after SetStatus: %s", s)
	}
	pushed, _ := decodeCar(t, sample)
	pulled, pc := decodeCar(t, got)
	if pulled.ExternalID != pushed.ExternalID || pulled.Kind != pushed.Kind || pulled.Version <= pushed.Version || pc.Price.TotalPrice.String() != "52.3" {
		t.Fatalf("sample pulled %+v", pulled)
	}

	got, err = c.CarOrderDetail(context.Background(), "6612c0ffee0000000000a611")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := decodeCar(t, full)
	ev, fc := decodeCar(t, got)
	if ev.EventKey != want.EventKey || ev.Version != want.Version || fc.Price.TotalPrice.String() != "98765432101234.5678" {
		t.Fatalf("full fixture changed on the way: %s vs %s", ev.EventKey, want.EventKey)
	}
}

// TestListFiltersAndOrder: creation dates are China dates, the end date is
// inclusive, status and order id filter, newest first.
func TestListFiltersAndOrder(t *testing.T) {
	sim, srv := start(t, fbtsim.Options{})
	add := func(id string, utc time.Time, status int) {
		t.Helper()
		if err := sim.AddOrder(fbtsim.BookedOrder(id, utc)); err != nil {
			t.Fatal(err)
		}
		if status != 350 {
			if err := sim.SetStatus(id, status); err != nil {
				t.Fatal(err)
			}
		}
	}
	add("apr30-late", time.Date(2024, 4, 30, 15, 30, 0, 0, time.UTC), 350)  // 2024-04-30 23:30 China
	add("may01-early", time.Date(2024, 4, 30, 16, 10, 0, 0, time.UTC), 700) // 2024-05-01 00:10 China
	add("may01-noon", time.Date(2024, 5, 1, 4, 0, 0, 0, time.UTC), 610)     // 2024-05-01 12:00 China
	add("may02-late", time.Date(2024, 5, 2, 15, 59, 0, 0, time.UTC), 700)   // 2024-05-02 23:59 China
	add("may03", time.Date(2024, 5, 2, 16, 0, 0, 0, time.UTC), 700)         // 2024-05-03 00:00 China
	c := client(t, srv)
	ids := func(q openapi.ListQuery) string {
		t.Helper()
		p, err := c.ListCarOrders(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range p.Results {
			var o struct {
				OrderInfo struct {
					OrderID string `json:"order_id"`
				} `json:"order_info"`
			}
			if err := json.Unmarshal(r, &o); err != nil {
				t.Fatal(err)
			}
			out = append(out, o.OrderInfo.OrderID)
		}
		return strings.Join(out, ",")
	}
	cases := []struct {
		q    openapi.ListQuery
		want string
	}{
		{openapi.ListQuery{CreateBegin: "2024-05-01", CreateEnd: "2024-05-01"}, "may01-noon,may01-early"},
		{openapi.ListQuery{CreateBegin: "2024-05-01", CreateEnd: "2024-05-02"}, "may02-late,may01-noon,may01-early"},
		{openapi.ListQuery{CreateEnd: "2024-05-02"}, "may02-late,may01-noon,may01-early,apr30-late"},
		{openapi.ListQuery{CreateBegin: "2024-04-01", CreateEnd: "2024-05-31", Status: 700}, "may03,may02-late,may01-early"},
		{openapi.ListQuery{CreateEnd: "2024-05-31", OrderID: "may01-noon"}, "may01-noon"},
		{openapi.ListQuery{CreateEnd: "2024-05-31", PageSize: 2, PageIndex: 3}, "apr30-late"},
		{openapi.ListQuery{CreateEnd: "2024-05-31", PageSize: 2, PageIndex: 4}, ""},
	}
	for _, tc := range cases {
		if got := ids(tc.q); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.q, got, tc.want)
		}
	}
}

// envelope is an answer as a test reads it.
type envelope struct {
	Code int             `json:"code"`
	Msg  string          `json:"msg"`
	Data json.RawMessage `json:"data"`
}

func post(t *testing.T, srv *httptest.Server, path, contentType, body string) (int, envelope) {
	t.Helper()
	resp, err := http.Post(srv.URL+path, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env envelope
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, env
}

func getToken(t *testing.T, srv *httptest.Server) (string, json.RawMessage) {
	t.Helper()
	_, env := post(t, srv, fbtsim.DefaultTokenPath, "application/json", fmt.Sprintf(`{"app_id":%q,"app_key":%q}`, appID, appKey))
	var data struct {
		AccessToken string          `json:"access_token"`
		ExpireTime  json.RawMessage `json:"expire_time"`
	}
	if err := json.Unmarshal(env.Data, &data); env.Code != 0 || err != nil || data.AccessToken == "" {
		t.Fatalf("token answer %+v", env)
	}
	return data.AccessToken, data.ExpireTime
}

// signed returns a form signed with key.
func signed(token, data, key string, drop ...string) string {
	ts := openapi.Timestamp(time.Now())
	f := url.Values{"timestamp": {ts}, "sign": {openapi.Sign(ts, data, key)}, "access_token": {token},
		"employee_id": {"emp-1"}, "employee_type": {"0"}, "data": {data}}
	for _, d := range drop {
		f.Del(d)
	}
	return f.Encode()
}

// TestChecksOfSignedCalls drives the simulator by hand through each refusal.
func TestChecksOfSignedCalls(t *testing.T) {
	clk := testkit.NewClock(time.Date(2024, 5, 1, 2, 0, 0, 0, time.UTC))
	sim, srv := start(t, fbtsim.Options{Now: clk.Now, TokenTTL: time.Hour})
	token, expire := getToken(t, srv)
	if string(expire) != "3600" {
		t.Fatalf("expire_time %s, want 3600 (seconds)", expire)
	}
	const form = "application/x-www-form-urlencoded"
	list := fbtsim.DefaultListPath
	data := `{"create_time_end":"2024-05-01"}`
	cases := []struct {
		name, path, contentType, body, msg string
	}{
		{"accepted", list, form, signed(token, data, signKey), "success"},
		{"wrong sign", list, form, signed(token, data, "other-key"), "sign error"},
		{"no employee", list, form, signed(token, data, signKey, "employee_id"), "employee_id不能为空"},
		{"no sign", list, form, signed(token, data, signKey, "sign"), "sign不能为空"},
		{"unknown token", list, form, signed("sim-forged", data, signKey), "access_token无效"},
		{"json body", list, "application/json", data, "Content-Type须为application/x-www-form-urlencoded"},
		{"data not json", list, form, signed(token, `page=1`, signKey), "data格式错误"},
		{"no end date", list, form, signed(token, `{"page_index":1}`, signKey), "create_time_end不能为空"},
		{"bad date", list, form, signed(token, `{"create_time_end":"2024/05/01"}`, signKey), "create_time_end格式错误，须为yyyy-MM-dd"},
		{"page too big", list, form, signed(token, `{"create_time_end":"2024-05-01","page_size":501}`, signKey), "page_size不能超过500"},
		{"detail without id", fbtsim.DefaultDetailPath, form, signed(token, `{}`, signKey), "order_id不能为空"},
		{"detail unknown", fbtsim.DefaultDetailPath, form, signed(token, `{"order_id":"x"}`, signKey), "订单不存在"},
		{"wrong app key", fbtsim.DefaultTokenPath, "application/json", `{"app_id":"sim-app","app_key":"nope"}`, "app_id或app_key错误"},
	}
	for _, c := range cases {
		status, env := post(t, srv, c.path, c.contentType, c.body)
		wantCode := 1
		if c.msg == "success" {
			wantCode = 0
		}
		if status != 200 || env.Code != wantCode || env.Msg != c.msg {
			t.Errorf("%s: HTTP %d %+v, want code %d msg %s", c.name, status, env, wantCode, c.msg)
		}
	}

	clk.Advance(time.Hour)
	if _, env := post(t, srv, list, form, signed(token, data, signKey)); env.Code != 1 || env.Msg != "access_token已过期" {
		t.Fatalf("expired token: %+v", env)
	}
	if status, _ := post(t, srv, "/openapi/other", form, ""); status != http.StatusNotFound {
		t.Fatalf("unknown path: HTTP %d", status)
	}
	resp, err := http.Get(srv.URL + list)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: HTTP %d", resp.StatusCode)
	}

	if sim.TokensIssued() != 1 || sim.Calls(fbtsim.EndpointToken) != 2 || sim.Calls(fbtsim.EndpointList) != 12 ||
		sim.Calls(fbtsim.EndpointDetail) != 2 || sim.Calls(fbtsim.EndpointOther) != 1 {
		t.Fatalf("counts: tokens %d, token %d, list %d, detail %d, other %d", sim.TokensIssued(), sim.Calls(fbtsim.EndpointToken),
			sim.Calls(fbtsim.EndpointList), sim.Calls(fbtsim.EndpointDetail), sim.Calls(fbtsim.EndpointOther))
	}
	reqs := sim.Requests()
	if len(reqs) != 17 || reqs[1].Endpoint != fbtsim.EndpointList || reqs[1].Code != 0 || reqs[2].Msg != "sign error" ||
		reqs[16].HTTPStatus != http.StatusMethodNotAllowed || reqs[16].Code != -1 {
		t.Fatalf("requests %+v", reqs)
	}
}

// TestExpireTimeStyles: the token answer writes expire_time each way.
func TestExpireTimeStyles(t *testing.T) {
	now := time.Date(2024, 5, 1, 2, 0, 0, 0, time.UTC)
	for style, want := range map[fbtsim.ExpireStyle]string{
		fbtsim.ExpireSecondsFromNow: "7200",
		fbtsim.ExpireEpochSeconds:   fmt.Sprint(now.Add(2 * time.Hour).Unix()),
		fbtsim.ExpireEpochMillis:    fmt.Sprint(now.Add(2 * time.Hour).UnixMilli()),
	} {
		_, srv := start(t, fbtsim.Options{ExpireStyle: style, Now: func() time.Time { return now }})
		if _, got := getToken(t, srv); string(got) != want {
			t.Errorf("style %d: expire_time %s, want %s", style, got, want)
		}
	}
}

// TestFailNextAndSetStatusErrors covers the injected failure and the
// helpers' refusals.
func TestFailNextAndSetStatusErrors(t *testing.T) {
	sim, srv := start(t, fbtsim.Options{})
	sim.FailNext(2, http.StatusServiceUnavailable)
	for range 2 {
		if status, _ := post(t, srv, fbtsim.DefaultTokenPath, "application/json", "{}"); status != http.StatusServiceUnavailable {
			t.Fatalf("HTTP %d, want 503", status)
		}
	}
	getToken(t, srv)
	if sim.TokensIssued() != 1 || sim.Requests()[0].Code != -1 {
		t.Fatalf("after failures: %d tokens, %+v", sim.TokensIssued(), sim.Requests()[0])
	}

	if err := sim.AddOrder([]byte(`{"order_info":{"order_id":"a"}}`)); err == nil {
		t.Fatal("an order without create_time was added")
	}
	if err := sim.AddOrder([]byte(`{"price_info":{}}`)); err == nil {
		t.Fatal("an order without order_info was added")
	}
	if err := sim.AddOrder(fbtsim.BookedOrder("o-1", time.Now())); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"unknown order": sim.SetStatus("nope", 700),
		"comma decimal": sim.SetStatus("o-1", 700, fbtsim.Fare{Total: "52,30"}),
		"exponent":      sim.SetStatus("o-1", 700, fbtsim.Fare{Total: "5e1"}),
		"bad line":      sim.SetStatus("o-1", 700, fbtsim.Fare{Total: "1", Lines: []fbtsim.FareLine{{Amount: ".5"}}}),
		"two fares":     sim.SetStatus("o-1", 700, fbtsim.SampleFare(), fbtsim.SampleFare()),
		"no status":     sim.SetStatus("o-1", 0),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if body, ok := sim.Order("o-1"); !ok || !strings.Contains(string(body), `"status":"350"`) {
		t.Fatalf("order changed by refused calls: %s", body)
	}
}

package openapi

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong/fbtsim"
)

// Test credentials: long and distinctive, so a leak is found by a substring search.
const (
	testAppID      = "app-id-5747fbc10f0e"
	testAppKey     = "APPKEY-secret-59b74c1323445f2d54dd"
	testSignKey    = "SIGNKEY-secret-0a1b2c3d4e5f6a7b8c9d"
	testEmployeeID = "5ea12bf723445f17d650fcb9"
)

// newClock is a settable clock for a client and a simulator to share.
func newClock() *testkit.Clock { return testkit.NewClock(time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)) }

// testConfig is a valid config for a server at url, fast enough for tests.
func testConfig(url string) Config {
	return Config{URL: url, AppID: testAppID, AppKey: testAppKey, SignKey: testSignKey,
		EmployeeID: testEmployeeID, RPS: MaxRPS, Timeout: 5 * time.Second}
}

// newClient builds a client for cfg, on clk when it is not nil.
func newClient(t *testing.T, cfg Config, clk *testkit.Clock) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	if clk != nil {
		c.now = clk.Now
	}
	return c
}

// startSim serves a simulator with the test credentials.
func startSim(t *testing.T, o fbtsim.Options) (*fbtsim.Sim, *httptest.Server) {
	o.AppID, o.AppKey, o.SignKey = testAppID, testAppKey, testSignKey
	sim := fbtsim.New(o)
	return sim, testkit.HTTPServer(t, sim)
}

// addOrders adds n booked orders created on 2024-05-01, one a minute, with
// ids ord-000 to ord-<n-1>.
func addOrders(t *testing.T, sim *fbtsim.Sim, n int) {
	t.Helper()
	base := time.Date(2024, 5, 1, 1, 0, 0, 0, time.UTC) // 09:00 in China
	for i := range n {
		if err := sim.AddOrder(fbtsim.BookedOrder(fmt.Sprintf("ord-%03d", i), base.Add(time.Duration(i)*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
}

// dayQuery selects the orders of 2024-05-01.
func dayQuery() ListQuery { return ListQuery{CreateBegin: "2024-05-01", CreateEnd: "2024-05-01"} }

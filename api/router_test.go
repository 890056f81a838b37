package api_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.temporal.io/api/serviceerror"

	"github.com/erpbridge/erpbridge/api"
	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/intake"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/store"
)

func TestHealthz(t *testing.T) {
	t.Parallel()
	// Liveness needs nothing: no database, no Temporal, even while draining.
	f := newFixture(t, testConfig(t, nil), func(d *api.Deps) {
		d.Temporal, d.Store, d.Draining = nil, nil, func() bool { return true }
	})
	rec := f.get(t, "/healthz")
	if rec.Code != http.StatusOK || rec.Body.String() != `{"status":"ok"}` {
		t.Fatalf("GET /healthz = %d %s, want 200 {\"status\":\"ok\"}", rec.Code, rec.Body)
	}
}

// closedStore is a store whose database connection is closed.
func closedStore(t *testing.T) *store.Store {
	db := testenv.SQLite(t)
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlDB.Close(); err != nil {
		t.Fatal(err)
	}
	return store.New(db)
}

// Ready means able to take a callback durably: the store answers and the api
// is not shutting down. Temporal being down only degrades it. No answer
// quotes a driver error or names a host.
func TestReadyz(t *testing.T) {
	t.Parallel()
	type readiness struct {
		Status   string            `json:"status"`
		Degraded string            `json:"degraded"`
		Checks   map[string]string `json:"checks"`
	}
	tests := []struct {
		name   string
		deps   func(t *testing.T, d *api.Deps, fake *fakeTemporal)
		status int
		want   string // the answer's status field
		// degraded is the path the answer says is down while the other works.
		degraded string
		checks   map[string]string // exact check values
	}{
		{
			name:   "database and temporal answer",
			deps:   func(t *testing.T, d *api.Deps, _ *fakeTemporal) {},
			status: http.StatusOK, want: "ready",
			checks: map[string]string{"database": "ok", "temporal": "ok"},
		},
		{
			name:   "database closed",
			deps:   func(t *testing.T, d *api.Deps, _ *fakeTemporal) { d.Store = closedStore(t) },
			status: http.StatusOK, want: "degraded", degraded: "database",
			checks: map[string]string{"database": "unreachable", "temporal": "ok"},
		},
		{
			name: "temporal unhealthy",
			deps: func(t *testing.T, d *api.Deps, fake *fakeTemporal) {
				fake.healthErr = serviceerror.NewUnavailable("frontend down at temporal-frontend.internal:7233")
			},
			status: http.StatusOK, want: "degraded", degraded: "temporal",
			checks: map[string]string{"database": "ok", "temporal": "unreachable"},
		},
		{
			name: "both down",
			deps: func(t *testing.T, d *api.Deps, fake *fakeTemporal) {
				d.Store = closedStore(t)
				fake.healthErr = errors.New("dial tcp 10.0.0.7:7233: connection refused")
			},
			status: http.StatusServiceUnavailable, want: "unavailable",
			checks: map[string]string{"database": "unreachable", "temporal": "unreachable"},
		},
		{
			name:   "nothing configured",
			deps:   func(t *testing.T, d *api.Deps, _ *fakeTemporal) { d.Store, d.Temporal = nil, nil },
			status: http.StatusServiceUnavailable, want: "unavailable",
			checks: map[string]string{"database": "unreachable", "temporal": "not configured"},
		},
		{
			name:   "draining",
			deps:   func(t *testing.T, d *api.Deps, _ *fakeTemporal) { d.Draining = func() bool { return true } },
			status: http.StatusServiceUnavailable, want: "shutting down",
			checks: map[string]string{"database": "ok", "temporal": "ok"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fake *fakeTemporal
			f := newFixture(t, testConfig(t, nil), func(d *api.Deps) {
				fake = d.Temporal.(*fakeTemporal)
				tt.deps(t, d, fake)
			})
			rec := f.get(t, "/readyz")
			if rec.Code != tt.status {
				t.Fatalf("GET /readyz = %d %s, want %d", rec.Code, rec.Body, tt.status)
			}
			var r readiness
			if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
				t.Fatalf("decode %s: %v", rec.Body, err)
			}
			if r.Status != tt.want || r.Degraded != tt.degraded {
				t.Errorf("status = %q, degraded %q; want %q, %q", r.Status, r.Degraded, tt.want, tt.degraded)
			}
			if len(r.Checks) != len(tt.checks) {
				t.Errorf("checks = %v, want %v", r.Checks, tt.checks)
			}
			for k, v := range tt.checks {
				if r.Checks[k] != v {
					t.Errorf("checks[%s] = %q, want %q", k, r.Checks[k], v)
				}
			}
			for _, leak := range []string{"10.0.0.7", "temporal-frontend.internal", "dial tcp", "sql: "} {
				if strings.Contains(rec.Body.String(), leak) {
					t.Errorf("readyz answer %s quotes %q", rec.Body, leak)
				}
			}
		})
	}
}

func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testConfig(t, nil))
	for range 2 { // a delivery and its redelivery
		if rec := f.post(t, autoX3Path, "application/json", sampleAutoX3("msg-met-0001")); rec.Code != http.StatusOK {
			t.Fatalf("callback status = %d", rec.Code)
		}
	}
	f.post(t, "/webhooks/fenbeitong", "application/json", sampleFenbeitong("FBT-CAR-0100", 700)) // no token: refused

	rec := f.get(t, "/metrics")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", rec.Code)
	}
	text := rec.Body.String()
	for _, want := range []string{
		`erpbridge_callbacks_total{event_type="event.autox3.order.receivebase.create",outcome="accepted",vendor="autox3"} 1`,
		`erpbridge_callbacks_total{event_type="unknown",outcome="unauthorized",vendor="fenbeitong"} 1`,
		`erpbridge_callback_ack_seconds_count{outcome="accepted",vendor="autox3"} 1`,
		`erpbridge_callbacks_total{event_type="event.autox3.order.receivebase.create",outcome="duplicate",vendor="autox3"} 1`,
		`erpbridge_callback_duplicates_total{vendor="autox3"} 1`,
		`erpbridge_callback_ack_seconds_bucket{outcome="accepted",vendor="autox3",le="+Inf"} 1`,
		`go_goroutines `,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestNewRouterDefaultsMetrics(t *testing.T) {
	t.Parallel()
	st := store.New(testenv.SQLite(t))
	relay := intake.NewRelay(st, &fakeTemporal{}, "q", nil, nil)
	r, err := api.NewRouter(api.Deps{Config: testConfig(t, nil), Temporal: &fakeTemporal{}, Store: st, Relay: relay})
	if err != nil {
		t.Fatalf("NewRouter: %v", err)
	}
	f := &fixture{router: r, relay: relay}
	if rec := f.post(t, autoX3Path, "", sampleAutoX3("msg-def-0001")); rec.Code != http.StatusOK {
		t.Fatalf("callback without Metrics or Logger = %d %s", rec.Code, rec.Body)
	}
	rec := f.get(t, "/metrics")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `erpbridge_callbacks_total{event_type="event.autox3.order.receivebase.create",outcome="accepted",vendor="autox3"} 1`) {
		t.Fatalf("GET /metrics on default metrics = %d, lacks the callback", rec.Code)
	}
}

func TestNewRouterRefusesBadTrustedProxy(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.HTTP.TrustedProxies = []string{"not-an-address"}
	_, err := api.NewRouter(api.Deps{Config: cfg})
	if err == nil {
		t.Fatal("NewRouter accepted a trusted proxy that is not an address or CIDR")
	}
}

func TestAccessLogOmitsQueryAndPersonalData(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testConfig(t, nil))
	const wrongToken = "wrong-token-5a9d0e"
	requests := []struct {
		target string
		body   []byte
		status int
	}{
		{fenbeitongPath, sampleFenbeitong("FBT-CAR-0200", 700), http.StatusOK},
		{"/webhooks/fenbeitong?token=" + wrongToken, sampleFenbeitong("FBT-CAR-0201", 700), http.StatusUnauthorized},
		{fenbeitongPath + "&extra=1", []byte(`{"order_info":"x"}`), http.StatusBadRequest},
		{autoX3Path + "?trace=abc", sampleAutoX3("msg-log-0001"), http.StatusOK},
	}
	for _, r := range requests {
		if rec := f.post(t, r.target, "application/json", r.body); rec.Code != r.status {
			t.Fatalf("POST %s = %d %s, want %d", r.target, rec.Code, rec.Body, r.status)
		}
	}
	// With Temporal down the callback is stored and acknowledged; the relay's failure is logged.
	f.temporal.startErr = serviceerror.NewUnavailable("frontend down")
	if rec := f.post(t, fenbeitongPath, "application/json", sampleFenbeitong("FBT-CAR-0202", 700)); rec.Code != http.StatusOK {
		t.Fatalf("POST with Temporal down = %d", rec.Code)
	}

	logs := f.logs.String()
	assertNoneOf(t, "logs", logs, testToken, wrongToken, "token=", "?", "trace=abc")
	assertNoneOf(t, "logs", logs, fenbeitongPersonal...)
	assertNoneOf(t, "logs", logs, autoX3Personal...)

	var access []map[string]any
	for _, rec := range logRecords(t, f.logs) {
		if rec["msg"] == "http request" {
			access = append(access, rec)
		}
	}
	if len(access) != len(requests)+1 {
		t.Fatalf("%d access log records, want %d:\n%s", len(access), len(requests)+1, logs)
	}
	wantPaths := []string{"/webhooks/fenbeitong", "/webhooks/fenbeitong", "/webhooks/fenbeitong", "/webhooks/autox3", "/webhooks/fenbeitong"}
	wantOutcomes := []string{"accepted", "unauthorized", "malformed", "accepted", "accepted"}
	for i, rec := range access {
		if rec["path"] != wantPaths[i] || rec["method"] != http.MethodPost || rec["outcome"] != wantOutcomes[i] {
			t.Errorf("access record %d = %v, want POST %s outcome %s", i, rec, wantPaths[i], wantOutcomes[i])
		}
		if _, ok := rec["status"].(float64); !ok {
			t.Errorf("access record %d has no numeric status: %v", i, rec)
		}
	}
	if id, _ := access[3]["workflow_id"].(string); id != "autox3:msg-log-0001" {
		t.Errorf("accepted AutoX3 record workflow_id = %v, want autox3:msg-log-0001", access[3]["workflow_id"])
	}
	if id, _ := access[0]["event_key"].(string); !strings.HasPrefix(id, "3:FBT-CAR-0200:700:") {
		t.Errorf("accepted Fenbeitong record event_key = %v, want the derived event key", access[0]["event_key"])
	}
}

// With ADMIN_ADDR set, readiness and metrics leave the webhook port for the
// admin handler; liveness stays on both.
func TestAdminAddressServesReadinessApart(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, nil)
	cfg.HTTP.AdminAddr = "127.0.0.1:9090"
	f := newFixture(t, cfg)
	for _, path := range []string{"/readyz", "/metrics"} {
		if rec := f.get(t, path); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s on the webhook port = %d, want 404", path, rec.Code)
		}
	}
	if rec := f.get(t, "/healthz"); rec.Code != http.StatusOK {
		t.Errorf("GET /healthz on the webhook port = %d", rec.Code)
	}
	admin, err := api.NewAdminHandler(api.Deps{Config: cfg, Temporal: f.temporal, Store: f.store, Relay: f.relay, Metrics: f.metrics})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/readyz", "/metrics", "/healthz"} {
		rec := httptest.NewRecorder()
		admin.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s on the admin address = %d %s", path, rec.Code, rec.Body)
		}
	}
}

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/erpbridge/erpbridge/codec"
	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/tracing"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong/fbtsim"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong/openapi"
)

const (
	fbtAppKey  = "fbt-app-key-for-tests-9c1d"
	fbtSignKey = "fbt-sign-key-for-tests-77ae"
)

// The reconciliation schedule pulls Fenbeitong's car orders and feeds each
// through the path of a push: an order pushed only as booked ends at the
// ERP completed with its exact final fare; an order never pushed arrives; an
// order already at its state sends nothing; a second run sends nothing;
// orders beyond the first page are read; every call is signed and one
// token serves them all; the keys never reach the logs nor the histories.
// Each call to the open API is a span of the run's trace, and no span
// holds a key or the token.
func TestFenbeitongReconciliation(t *testing.T) {
	// The list gives summaries: each order's detail is fetched for its record.
	sim := fbtsim.New(fbtsim.Options{AppID: "erpbridge-app", AppKey: fbtAppKey, SignKey: fbtSignKey, ListSummary: true})
	api := httptest.NewServer(sim)
	defer api.Close()
	logs := &testkit.Buffer{}
	rec := tracetest.NewSpanRecorder()
	s := newStack(t, "mysql", stackOptions{logs: logs, tracing: tracing.WithProcessor(rec, nil), configure: func(c *config.Config) {
		c.Reconcile.URL, c.Reconcile.AppID, c.Reconcile.AppKey, c.Reconcile.SignKey = api.URL, "erpbridge-app", fbtAppKey, fbtSignKey
		c.Reconcile.EmployeeID, c.Reconcile.PageSize = "emp-1", 2
	}})
	created := time.Now().Add(-2 * time.Hour)
	id := func(name string) string { return "RC" + name + testkit.RandomHex(6) }
	booked, neverPushed, current := id("A"), id("B"), id("C")
	others := []string{id("D"), id("E")}
	final := fbtsim.Fare{Total: "98765432101234.56", Lines: []fbtsim.FareLine{
		{Name: "起步价格", Type: "start_price", Amount: "14.00"},
		{Name: "里程费", Type: "distance_fee", Amount: "98765432101220.56"},
	}}
	add := func(orderID string) []byte {
		body := fbtsim.BookedOrder(orderID, created)
		if err := sim.AddOrder(body); err != nil {
			t.Fatal(err)
		}
		return body
	}
	complete := func(orderID string) {
		if err := sim.SetStatus(orderID, fbtsim.StatusCompleted, final); err != nil {
			t.Fatal(err)
		}
	}
	atERP := func(orderID string, n int) {
		t.Helper()
		testenv.Eventually(t, fmt.Sprintf("%s at the ERP %d times", orderID, n), time.Minute, func() error {
			if got := len(s.records("car_order", orderID)); got != n {
				return fmt.Errorf("%d records", got)
			}
			return nil
		})
	}
	// Pushed as booked; the API completes it later.
	s.mustAccept(fbtPath(), add(booked))
	atERP(booked, 1)
	complete(booked)
	// Never pushed.
	add(neverPushed)
	complete(neverPushed)
	// Pushed completed, exactly as the API has it.
	add(current)
	complete(current)
	currentBody, _ := sim.Order(current)
	s.mustAccept(fbtPath(), currentBody)
	atERP(current, 1)
	for _, o := range others {
		add(o)
		complete(o)
	}

	run := s.schedule(flow.ReconcileScheduleID, flow.ReconcileWorkflowName, flow.ReconcileInput{Lookback: 72 * time.Hour, PageSize: 2})
	var first flow.ReconcileResult
	run(&first)
	t.Logf("first run: %+v", first)
	if first.Found != 5 || first.Pages != 3 || first.TotalPages != 3 || first.New != 4 || first.Unchanged != 1 || first.Details != 5 || first.Invalid != 0 {
		t.Fatalf("first run %+v; want 5 orders found over 3 pages, each detail fetched, 4 new, 1 unchanged", first)
	}
	// The booked order ends completed with its exact final fare.
	testenv.Eventually(t, "the booked order completed at the ERP", time.Minute, func() error {
		recs := s.records("car_order", booked)
		if len(recs) != 2 {
			return fmt.Errorf("%d records", len(recs))
		}
		var d struct {
			Status    int `json:"status"`
			PriceInfo struct {
				TotalPrice string `json:"total_price"`
			} `json:"price_info"`
		}
		if err := json.Unmarshal(recs[1].Data, &d); err != nil {
			return err
		}
		if d.Status != fbtsim.StatusCompleted || d.PriceInfo.TotalPrice != final.Total {
			return fmt.Errorf("the ERP's last state is status %d, total %q", d.Status, d.PriceInfo.TotalPrice)
		}
		return nil
	})
	atERP(neverPushed, 1)
	for _, o := range others {
		atERP(o, 1)
	}
	atERP(current, 1) // already at its state: nothing sent
	// The pulled events are marked so.
	var pulled models.InboundEvent
	if err := s.db.Where("vendor = ? AND external_id = ? AND origin = ?", "fenbeitong", neverPushed, models.OriginPull).Take(&pulled).Error; err != nil {
		t.Fatalf("the never-pushed order's event is not marked pulled: %v", err)
	}
	d, err := s.c.DescribeWorkflowExecution(context.Background(), pulled.WorkflowID, "")
	if err != nil {
		t.Fatal(err)
	}
	var origin string
	if p := d.GetWorkflowExecutionInfo().GetMemo().GetFields()["origin"]; p == nil || codec.DataConverter(s.keyring).FromPayload(p, &origin) != nil || origin != models.OriginPull {
		t.Errorf("the pulled event's workflow memo says origin %q", origin)
	}

	// A second run finds everything as it is: nothing new, nothing sent.
	sends := s.sim.Stats().Attempts
	var second flow.ReconcileResult
	run(&second)
	if second.Found != 5 || second.New != 0 || second.Unchanged != 5 {
		t.Fatalf("second run %+v; want 5 found, none new", second)
	}
	testenv.Eventually(t, "no event workflow running after the second run", time.Minute, func() error {
		if n, err := s.count(`WorkflowType = "` + flow.EventWorkflowName + `" AND ExecutionStatus = "Running"`); err != nil || n != 0 {
			return fmt.Errorf("%d running, %v", n, err)
		}
		return nil
	})
	if after := s.sim.Stats().Attempts; after != sends {
		t.Fatalf("the second run sent %d records to the ERP", after-sends)
	}

	// The metrics count both runs: 10 orders found, 4 new (and their events
	// changed records), 6 found as they were.
	_, metricsText := s.get("/metrics")
	for _, want := range []string{
		`erpbridge_reconcile_orders_total{outcome="found",vendor="fenbeitong"} 10`,
		`erpbridge_reconcile_orders_total{outcome="new",vendor="fenbeitong"} 4`,
		`erpbridge_reconcile_orders_total{outcome="unchanged",vendor="fenbeitong"} 6`,
		`erpbridge_reconcile_events_total{outcome="changed",vendor="fenbeitong"} 4`,
	} {
		if !strings.Contains(metricsText, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// Every call signed, one token for all of them.
	if n := sim.TokensIssued(); n != 1 {
		t.Errorf("%d tokens issued for two runs, want 1 reused", n)
	}
	for _, r := range sim.Requests() {
		if r.Code != 0 {
			t.Errorf("the open API refused a call to %s: %d %s", r.Endpoint, r.Code, r.Msg)
		}
	}
	// The keys never reach the logs, nor any run's history.
	s.checkNothingLeaks(logs, []string{fbtAppKey, fbtSignKey}, nil)

	// Each open-API call is a span in the trace of the run that made it.
	var run0 sdktrace.ReadOnlySpan
	for _, sp := range rec.Ended() {
		if sp.Name() == "RunWorkflow:"+flow.ReconcileWorkflowName {
			run0 = sp
			break
		}
	}
	if run0 == nil {
		t.Fatalf("no span of a reconciliation run among %d", len(rec.Ended()))
	}
	spans := spansOf(rec, run0.SpanContext().TraceID())
	for _, want := range []string{"POST " + openapi.DefaultTokenPath, "POST " + openapi.DefaultListPath, "POST " + openapi.DefaultDetailPath} {
		if _, ok := named(spans, want); !ok {
			t.Errorf("the first run's trace has no span %q: %v", want, names(spans))
		}
	}
	for _, sp := range append(rec.Ended(), startedOnly(rec)...) {
		for _, kv := range sp.Attributes() {
			for _, secret := range append([]string{fbtAppKey, fbtSignKey}, sim.IssuedTokens()...) {
				if strings.Contains(kv.Value.Emit(), secret) {
					t.Errorf("span %q attribute %s holds a key or the token", sp.Name(), kv.Key)
				}
			}
		}
	}
}

package erpsim

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/erp"
)

// TestClientAgainstSimulator drives erp.Client against the simulator through
// every class of answer the contract knows.
func TestClientAgainstSimulator(t *testing.T) {
	t.Parallel()
	s, srv := start(t, filepath.Join(t.TempDir(), "erp", "sim.jsonl"), token)
	client := erp.NewClient(srv.URL+"/", token, 2*time.Second)
	ctx := context.Background()
	at := time.Date(2021, 3, 23, 20, 30, 10, 0, time.FixedZone("", 8*3600))
	rec := erp.Record{
		Source: "autox3", Kind: "reception_order", ExternalID: "6482", Version: 1616502610117,
		OccurredAt: at, Data: json.RawMessage(`{"amount":"1234.50","items":[{"price":"0.10"}]}`),
	}

	// Accepted, then a resend of the same state is done as a duplicate.
	res, err := client.Send(ctx, rec)
	if err != nil || res.Status != 201 || res.Duplicate {
		t.Fatalf("first send: %+v %v", res, err)
	}
	res, err = client.Send(ctx, rec)
	if err != nil || res.Status != 409 || !res.Duplicate {
		t.Fatalf("resend: %+v %v", res, err)
	}
	held, ok := s.Latest("autox3", "reception_order", "6482")
	if !ok || held.IdempotencyKey != erp.IdempotencyKey(rec) || string(held.Data) != string(rec.Data) ||
		!held.OccurredAt.Equal(at) || held.Version != rec.Version {
		t.Fatalf("held = %+v", held)
	}

	// A different state under the same version has a different key: accepted.
	changed := rec
	changed.Data = json.RawMessage(`{"amount":"1234.60","items":[{"price":"0.10"}]}`)
	if res, err := client.Send(ctx, changed); err != nil || res.Status != 201 {
		t.Fatalf("changed state: %+v %v", res, err)
	}

	// Injected failures are retryable.
	if err := s.SetFaults(Faults{FailureRate: 1}); err != nil {
		t.Fatal(err)
	}
	next := rec
	next.Version++
	_, err = client.Send(ctx, next)
	var e *erp.Error
	if !errors.As(err, &e) || e.Status != 503 || !e.Retryable || e.Reason != "injected failure" {
		t.Fatalf("injected failure: %v", err)
	}

	// An outage is retryable and says when to come back.
	if err := s.SetFaults(Faults{OutageSeconds: 30}); err != nil {
		t.Fatal(err)
	}
	_, err = client.Send(ctx, next)
	if !errors.As(err, &e) || e.Status != 503 || !e.Retryable || e.RetryAfter < 29*time.Second || e.RetryAfter > 30*time.Second {
		t.Fatalf("outage: %+v", err)
	}

	// A rejected external id is a permanent rejection carrying the reason.
	if err := s.SetFaults(Faults{RejectExternalIDs: []string{"6482"}, RejectReason: "unknown customer"}); err != nil {
		t.Fatal(err)
	}
	_, err = client.Send(ctx, next)
	if !errors.As(err, &e) || e.Retryable || e.Status != 422 ||
		e.Detail() != "ERP rejected record autox3/reception_order/6482 v1616502610118: HTTP 422: unknown customer" ||
		strings.Contains(err.Error(), "unknown customer") {
		t.Fatalf("rejection: %v", err)
	}

	// Latency past the client's timeout is retryable with no status.
	if err := s.SetFaults(Faults{LatencyMS: 1000}); err != nil {
		t.Fatal(err)
	}
	_, err = erp.NewClient(srv.URL, token, 100*time.Millisecond).Send(ctx, next)
	if !errors.As(err, &e) || e.Status != 0 || !e.Retryable {
		t.Fatalf("timeout: %v", err)
	}

	// Once the faults clear, the same record goes through.
	if err := s.SetFaults(Faults{}); err != nil {
		t.Fatal(err)
	}
	if res, err := client.Send(ctx, next); err != nil || res.Status != 201 {
		t.Fatalf("after recovery: %+v %v", res, err)
	}

	// A wrong token is a permanent rejection.
	_, err = erp.NewClient(srv.URL, "wrong", time.Second).Send(ctx, next)
	if !errors.As(err, &e) || e.Retryable || e.Status != 401 || e.Reason != "missing or wrong bearer token" {
		t.Fatalf("wrong token: %v", err)
	}

	if got := s.Records("autox3", "reception_order", "6482"); len(got) != 3 {
		t.Fatalf("held %d states, want 3", len(got))
	}
	if st := s.Stats(); st.Accepted != 3 || st.Duplicates != 1 || st.FailedInjected != 2 || st.Rejected != 2 {
		t.Fatalf("stats = %+v", st)
	}
}

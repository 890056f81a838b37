package api_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"gorm.io/gorm"

	"github.com/erpbridge/erpbridge/api"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/metrics"
	"github.com/erpbridge/erpbridge/store"
)

// acceptAll is a Temporal that starts every workflow at once and keeps
// nothing, so a benchmark measures the handler alone.
type acceptAll struct{}

func (acceptAll) ExecuteWorkflow(_ context.Context, opts client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
	return fakeRun{id: opts.ID}, nil
}

func (acceptAll) CheckHealth(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	return &client.CheckHealthResponse{}, nil
}

func benchmarkAccept(b *testing.B, db *gorm.DB, target string, body func(i int) []byte) {
	st := store.New(db)
	r, err := api.NewRouter(api.Deps{Config: testConfig(b, nil), Temporal: acceptAll{}, Store: st, Metrics: metrics.New()})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var took []time.Duration
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		req := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body(i)))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		b.StartTimer()
		start := time.Now()
		r.ServeHTTP(rec, req)
		took = append(took, time.Since(start))
		if rec.Code != http.StatusOK {
			b.Fatalf("status = %d %s", rec.Code, rec.Body)
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkAutoX3Accept is the acknowledgement of a new signed AutoX3
// callback: read, parse, verify, store the claim check, answer (the relay
// starts the workflow afterwards), on each store.
func BenchmarkAutoX3Accept(b *testing.B) {
	for name, open := range map[string]func(testing.TB) *gorm.DB{"sqlite": testenv.SQLite, "mysql": testenv.MySQL} {
		b.Run(name, func(b *testing.B) {
			benchmarkAccept(b, open(b), autoX3Path, func(i int) []byte { return sampleAutoX3(fmt.Sprintf("msg-bench-%d", i)) })
		})
	}
}

// BenchmarkFenbeitongAccept is the acknowledgement of a new Fenbeitong push, on each store.
func BenchmarkFenbeitongAccept(b *testing.B) {
	for name, open := range map[string]func(testing.TB) *gorm.DB{"sqlite": testenv.SQLite, "mysql": testenv.MySQL} {
		b.Run(name, func(b *testing.B) {
			benchmarkAccept(b, open(b), fenbeitongPath, func(i int) []byte { return sampleFenbeitong(fmt.Sprintf("FBT-BENCH-%d", i), 700) })
		})
	}
}

package api_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.temporal.io/sdk/client"

	"github.com/erpbridge/erpbridge/api"
	"github.com/erpbridge/erpbridge/internal/metrics"
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

func benchmarkAccept(b *testing.B, target string, body []byte) {
	r, err := api.NewRouter(api.Deps{Config: testConfig(b, nil), Temporal: acceptAll{}, Metrics: metrics.New()})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status = %d %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkAutoX3Accept is the cost of taking the signed AutoX3 sample:
// read, parse, verify, start, answer.
func BenchmarkAutoX3Accept(b *testing.B) {
	benchmarkAccept(b, autoX3Path, sampleAutoX3("msg-bench-0001"))
}

// BenchmarkFenbeitongAccept is the cost of taking Fenbeitong's sample push.
func BenchmarkFenbeitongAccept(b *testing.B) {
	benchmarkAccept(b, fenbeitongPath, sampleFenbeitong("FBT-BENCH-0001", 700))
}

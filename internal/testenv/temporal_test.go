package testenv_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestSharedTemporal checks testenv.Temporal: one server per test binary with
// the project's search attributes, usable in visibility queries.
func TestSharedTemporal(t *testing.T) {
	srv := testenv.Temporal(t)
	if again := testenv.Temporal(t); again != srv {
		t.Fatal("testenv.Temporal started a second server")
	}
	c := srv.Client()
	testenv.AssertSearchAttributes(t, c, "default", flow.SearchAttributeNames...)

	orderID := "order-" + uuid.NewString()
	if _, err := c.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{
		ID:        "testenv-shared-" + uuid.NewString(),
		TaskQueue: "no-worker-" + uuid.NewString(),
		TypedSearchAttributes: temporal.NewSearchAttributes(
			temporal.NewSearchAttributeKeyKeyword("Vendor").ValueSet("fenbeitong"),
			temporal.NewSearchAttributeKeyKeyword("OrderID").ValueSet(orderID),
		),
	}, "NoSuchWorkflow"); err != nil {
		t.Fatalf("start workflow with search attributes: %v", err)
	}
	query := fmt.Sprintf("Vendor = 'fenbeitong' AND OrderID = '%s'", orderID)
	testenv.Eventually(t, "workflow listed by its search attributes", 15*time.Second, func() error {
		resp, err := c.ListWorkflow(t.Context(), &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err != nil {
			t.Fatalf("list workflows %q: %v", query, err)
		}
		if n := len(resp.GetExecutions()); n != 1 {
			return fmt.Errorf("query %q found %d executions, want 1", query, n)
		}
		return nil
	})
}

// A server of the test's own has only the search attributes asked for.
func TestNewTemporal(t *testing.T) {
	srv := testenv.NewTemporal(t, "OrderID")
	if srv == testenv.Temporal(t) {
		t.Fatal("NewTemporal returned the shared server")
	}
	resp, err := srv.Client().OperatorService().ListSearchAttributes(t.Context(), &operatorservice.ListSearchAttributesRequest{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	custom := resp.GetCustomAttributes()
	if _, ok := custom["OrderID"]; !ok {
		t.Errorf("OrderID is not registered: %v", custom)
	}
	if _, ok := custom["Vendor"]; ok {
		t.Errorf("Vendor is registered though not asked for: %v", custom)
	}
}

func TestEventually(t *testing.T) {
	calls := 0
	testenv.Eventually(t, "third call", 5*time.Second, func() error {
		if calls++; calls < 3 {
			return fmt.Errorf("call %d", calls)
		}
		return nil
	})
	if calls != 3 {
		t.Fatalf("check called %d times, want 3", calls)
	}
}

// Root is the erpbridge module root: two levels above this package.
func TestRoot(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := testenv.Root(t), filepath.Dir(filepath.Dir(wd)); got != want {
		t.Fatalf("Root = %s, want %s", got, want)
	}
}

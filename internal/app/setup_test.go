package app

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// setup creates the namespace with the configured retention and registers
// the search attributes on it; run again, it changes nothing but a retention
// that differs.
func TestSetupCreatesNamespaceAndSearchAttributes(t *testing.T) {
	srv := testenv.Temporal(t)
	c := srv.Client()
	ns := fmt.Sprintf("setup-%d", time.Now().UnixNano())
	vars := map[string]string{"TEMPORAL_ADDRESS": srv.FrontendHostPort(), "TEMPORAL_NAMESPACE": ns,
		"TEMPORAL_NAMESPACE_RETENTION": "72h"}
	retention := func() time.Duration {
		d, err := c.WorkflowService().DescribeNamespace(t.Context(), &workflowservice.DescribeNamespaceRequest{Namespace: ns})
		if err != nil {
			t.Fatal(err)
		}
		return d.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration()
	}
	if code, out := runMain(t, vars, "setup"); code != 0 || !strings.Contains(out, `"changed":"created"`) {
		t.Fatalf("setup: exit %d\n%s", code, out)
	}
	if got := retention(); got != 72*time.Hour {
		t.Errorf("retention %s, want 72h", got)
	}
	resp, err := c.OperatorService().ListSearchAttributes(t.Context(), &operatorservice.ListSearchAttributesRequest{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range flow.SearchAttributeNames {
		if resp.GetCustomAttributes()[name] != enums.INDEXED_VALUE_TYPE_KEYWORD {
			t.Errorf("%s is %v on %s, want Keyword", name, resp.GetCustomAttributes()[name], ns)
		}
	}
	if code, out := runMain(t, vars, "setup"); code != 0 || !strings.Contains(out, `"changed":""`) || !strings.Contains(out, `"added":null`) {
		t.Fatalf("setup again: exit %d\n%s", code, out)
	}
	vars["TEMPORAL_NAMESPACE_RETENTION"] = "240h"
	if code, out := runMain(t, vars, "setup"); code != 0 || !strings.Contains(out, `"changed":"updated"`) {
		t.Fatalf("setup with a new retention: exit %d\n%s", code, out)
	}
	if got := retention(); got != 240*time.Hour {
		t.Errorf("retention %s, want 240h", got)
	}
}

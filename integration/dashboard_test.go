package integration

import (
	"bufio"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/erpbridge/erpbridge/erp/erpsim"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/vendors/autox3"
)

const dashboardFile = "../deploy/grafana/dashboards/erpbridge.json"

// Every query of the Grafana dashboard names only metrics that a running
// erpbridge really exports on /metrics, after it has accepted callbacks of
// both vendors, synced one, parked one on an ERP rejection and refused a
// forged one. Grafana cannot run here; this keeps the dashboard honest.
func TestDashboardQueriesNameExportedMetrics(t *testing.T) {
	exprs := dashboardQueries(t)
	if len(exprs) < 8 {
		t.Fatalf("the dashboard has %d queries; it should cover callbacks, latency, backlog, ERP outcomes and parked records", len(exprs))
	}
	s := newStack(t, "mysql")

	// An AutoX3 callback that syncs and is redelivered, a Fenbeitong push the
	// ERP rejects, a forged callback.
	r := newReception()
	body := r.body(time.Now().UnixMilli())
	s.mustAccept("/webhooks/autox3", body)
	orderID := testkit.RandomHex(12)
	if err := s.sim.SetFaults(erpsim.Faults{RejectExternalIDs: []string{orderID}}); err != nil {
		t.Fatal(err)
	}
	s.mustAccept(fbtPath(), fbtBody(orderID, 700, time.Now()))
	s.post("/webhooks/autox3", autox3.SampleReceptionBody(uuid.NewString(), uniqueID(), time.Now().UnixMilli(), "not-the-secret"))
	s.mustResult(r.wfID, string(models.EventSynced))
	s.mustAccept("/webhooks/autox3", body)
	testenv.Eventually(t, "the Fenbeitong order parked", time.Minute, func() error {
		ids, err := s.list(`SyncStatus = "rejected"`)
		if err == nil && len(ids) == 0 {
			err = errors.New("no workflow has SyncStatus rejected yet")
		}
		return err
	})

	code, text := s.get("/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics answered %d", code)
	}
	exported := exportedNames(text)
	for _, expr := range exprs {
		names := metricNames(expr)
		if len(names) == 0 {
			t.Errorf("query names no metric: %s", expr)
		}
		for _, name := range names {
			if !exported[name] && !lazySDKCounters[name] {
				t.Errorf("query %q names %s, which /metrics does not export", expr, name)
			}
		}
	}
}

// lazySDKCounters are the Temporal SDK's counters that appear on /metrics
// at their first increment only: a worker that never failed a workflow task
// exports no workflow-task failure counter. Their names are the SDK's
// (go.temporal.io/sdk's metric "workflow_task_execution_failed", with the
// temporal_ prefix the worker's reporter adds).
var lazySDKCounters = map[string]bool{"temporal_workflow_task_execution_failed": true}

// dashboardQueries returns the expr of every target of every panel.
func dashboardQueries(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	var out []string
	for _, p := range d.Panels {
		for _, target := range p.Targets {
			if strings.TrimSpace(target.Expr) == "" {
				t.Errorf("panel %q has a target without a query", p.Title)
				continue
			}
			out = append(out, target.Expr)
		}
	}
	return out
}

// exportedNames reads the sample names of a Prometheus text exposition.
func exportedNames(text string) map[string]bool {
	out := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			out[line[:i]] = true
		}
	}
	return out
}

var (
	// What in a PromQL expression is not a metric name: strings, label
	// matchers, ranges and durations, and the label lists of by/without/on/ignoring.
	promStrings  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	promMatchers = regexp.MustCompile(`\{[^}]*\}`)
	promRanges   = regexp.MustCompile(`\[[^\]]*\]`)
	promLabels   = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promIdent    = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*`)
	promKeywords = []string{"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan"}
)

// metricNames returns the metric names an expression selects: identifiers
// that are not functions (followed by a parenthesis), keywords or labels.
func metricNames(expr string) []string {
	e := promStrings.ReplaceAllString(expr, `""`)
	e = promMatchers.ReplaceAllString(e, " ")
	e = promRanges.ReplaceAllString(e, " ")
	e = promLabels.ReplaceAllString(e, " ")
	var names []string
	for _, loc := range promIdent.FindAllStringIndex(e, -1) {
		word := e[loc[0]:loc[1]]
		rest := strings.TrimLeft(e[loc[1]:], " \t\n")
		if strings.HasPrefix(rest, "(") || slices.Contains(promKeywords, strings.ToLower(word)) ||
			(loc[0] > 0 && (e[loc[0]-1] >= '0' && e[loc[0]-1] <= '9' || e[loc[0]-1] == '.')) {
			continue // a function, a keyword, or the unit of a number like 5m or 1e3
		}
		if !slices.Contains(names, word) {
			names = append(names, word)
		}
	}
	return names
}

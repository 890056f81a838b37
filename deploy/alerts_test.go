package deploy_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/metrics"
)

const (
	prometheusDir  = "prometheus"
	alertsFile     = "alerts.yml"
	alertTestsFile = "alerts_test.yml"
	dashboardFile  = "grafana/dashboards/erpbridge.json"
	datasourceFile = "grafana/provisioning/datasources/prometheus.yml"
	operationsDoc  = "../docs/operations.md"
)

// `promtool check config` accepts prometheus.yml with the rule files it
// loads, `promtool check rules` the rules, and `promtool test rules` passes
// every case of alerts_test.yml. promtool is Debian's prometheus package.
func TestPromtool(t *testing.T) {
	bin, err := exec.LookPath("promtool")
	if err != nil {
		testenv.Unavailable(t, "promtool is not on PATH (apt-get install prometheus)")
	}
	for _, args := range [][]string{
		{"check", "config", "prometheus.yml"},
		{"check", "rules", alertsFile},
		{"test", "rules", alertTestsFile},
	} {
		cmd := exec.Command(bin, args...)
		cmd.Dir = prometheusDir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

type alertRule struct {
	Alert       string            `yaml:"alert"`
	Record      string            `yaml:"record"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// alertRules reads alerts.yml.
func alertRules(t *testing.T) []alertRule {
	t.Helper()
	var f struct {
		Groups []struct {
			Name  string      `yaml:"name"`
			Rules []alertRule `yaml:"rules"`
		} `yaml:"groups"`
	}
	readYAML(t, filepath.Join(prometheusDir, alertsFile), &f)
	var rules []alertRule
	for _, g := range f.Groups {
		rules = append(rules, g.Rules...)
	}
	if len(rules) == 0 {
		t.Fatalf("%s holds no rules", alertsFile)
	}
	return rules
}

func readYAML(t *testing.T, name string, v any) {
	t.Helper()
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

var (
	// serviceMetric finds the names of erpbridge's and the Temporal SDK's
	// metrics in a PromQL expression.
	serviceMetric = regexp.MustCompile(`\b(?:erpbridge|temporal)_[a-z0-9_]+`)
	byClause      = regexp.MustCompile(`\bby\s*\(([^)]*)\)`)
	descName      = regexp.MustCompile(`^Desc\{fqName: "([^"]+)"`)
	descLabels    = regexp.MustCompile(`variableLabels: \{([^}]*)\}\}$`)
)

// exportedMetrics returns the name and the label names of every metric of
// metrics.New, whether or not it has a value yet.
func exportedMetrics(t *testing.T) map[string][]string {
	t.Helper()
	m := metrics.New()
	out := map[string][]string{}
	v := reflect.ValueOf(m).Elem()
	for i := range v.NumField() {
		c, ok := v.Field(i).Interface().(prometheus.Collector)
		if !ok || v.Field(i).IsNil() {
			continue
		}
		ch := make(chan *prometheus.Desc, 8)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			s := d.String()
			name, labels := descName.FindStringSubmatch(s), descLabels.FindStringSubmatch(s)
			if name == nil || labels == nil {
				t.Fatalf("cannot read the metric description %s", s)
			}
			out[name[1]] = nil
			if labels[1] != "" {
				out[name[1]] = strings.Split(labels[1], ",")
			}
		}
	}
	return out
}

// Every alert is loaded by Prometheus, labelled with a severity (and the
// vendor where its metrics carry one), annotated with a summary, a
// description and a runbook section of docs/operations.md that exists,
// waits a `for:` so that a blip does not page, reads only metrics erpbridge
// exports, and has a promtool case that fires and one that stays quiet.
func TestAlertRulesAreLoadedDocumentedAndTested(t *testing.T) {
	var prom struct {
		RuleFiles []string `yaml:"rule_files"`
	}
	readYAML(t, filepath.Join(prometheusDir, "prometheus.yml"), &prom)
	if !slices.Contains(prom.RuleFiles, alertsFile) {
		t.Errorf("prometheus.yml rule_files %v does not load %s", prom.RuleFiles, alertsFile)
	}

	var tests struct {
		RuleFiles []string `yaml:"rule_files"`
		Tests     []struct {
			AlertRuleTest []struct {
				Alertname string `yaml:"alertname"`
				ExpAlerts []struct {
					ExpLabels map[string]string `yaml:"exp_labels"`
				} `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	readYAML(t, filepath.Join(prometheusDir, alertTestsFile), &tests)
	if !slices.Contains(tests.RuleFiles, alertsFile) {
		t.Errorf("%s rule_files %v does not test %s", alertTestsFile, tests.RuleFiles, alertsFile)
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	firingLabels := map[string][]map[string]string{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) == 0 {
				quiet[a.Alertname] = true
			}
			for _, e := range a.ExpAlerts {
				fires[a.Alertname] = true
				firingLabels[a.Alertname] = append(firingLabels[a.Alertname], e.ExpLabels)
			}
		}
	}

	doc, err := os.ReadFile(operationsDoc)
	if err != nil {
		t.Fatal(err)
	}
	exported := exportedMetrics(t)
	seen := map[string]bool{}
	for _, r := range alertRules(t) {
		name := r.Alert
		if name == "" {
			t.Errorf("recording rule %s: alerts.yml holds alerts only", r.Record)
			continue
		}
		if seen[name] {
			t.Errorf("alert %s is defined twice", name)
		}
		seen[name] = true
		if !strings.HasPrefix(name, "Erpbridge") {
			t.Errorf("alert %s: names start with Erpbridge", name)
		}
		if d, err := time.ParseDuration(r.For); err != nil || d < time.Minute {
			t.Errorf("alert %s waits for %q; want at least 1m so that a blip does not page", name, r.For)
		}
		if s := r.Labels["severity"]; s != "critical" && s != "warning" {
			t.Errorf("alert %s severity %q, want critical or warning", name, s)
		}
		for _, a := range []string{"summary", "description"} {
			if strings.TrimSpace(r.Annotations[a]) == "" {
				t.Errorf("alert %s has no %s", name, a)
			}
		}
		// GitHub's anchor of the heading "### <alert name>".
		if want := "docs/operations.md#" + strings.ToLower(name); r.Annotations["runbook_url"] != want {
			t.Errorf("alert %s runbook_url %q, want %q", name, r.Annotations["runbook_url"], want)
		}
		if !regexp.MustCompile(`(?m)^#{2,4} ` + name + `$`).Match(doc) {
			t.Errorf("docs/operations.md has no heading %q for alert %s's runbook", name, name)
		}
		if !fires[name] || !quiet[name] {
			t.Errorf("alert %s: %s has a firing case %v, a quiet case %v; want both", name, alertTestsFile, fires[name], quiet[name])
		}

		byVendor := false
		for _, m := range serviceMetric.FindAllString(r.Expr, -1) {
			if !strings.HasPrefix(m, "erpbridge_") {
				continue
			}
			labels, ok := exported[m]
			if !ok {
				t.Errorf("alert %s reads %s, which package metrics does not export", name, m)
			}
			if slices.Contains(labels, "vendor") || slices.Contains(labels, "source") {
				byVendor = true
			}
		}
		if !byVendor {
			continue
		}
		for _, by := range byClause.FindAllStringSubmatch(r.Expr, -1) {
			if !slices.Contains(strings.Split(strings.ReplaceAll(by[1], " ", ""), ","), "vendor") {
				t.Errorf("alert %s aggregates by (%s), losing the vendor", name, by[1])
			}
		}
		for _, l := range firingLabels[name] {
			if l["vendor"] == "" {
				t.Errorf("alert %s fires in %s without a vendor label: %v", name, alertTestsFile, l)
			}
		}
	}
	for name := range fires {
		if !seen[name] {
			t.Errorf("%s tests %s, which alerts.yml does not define", alertTestsFile, name)
		}
	}
}

type dashboardPanel struct {
	ID          int    `json:"id"`
	Type        string `json:"type"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Targets     []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Options struct {
		Datasource  string          `json:"datasource"`
		StateFilter map[string]bool `json:"stateFilter"`
	} `json:"options"`
}

// The Grafana dashboard shows what the alerts watch: an alert list of the
// provisioned Prometheus's alerts, and for every alert on erpbridge's or the
// SDK's metrics a panel that names the alert in its description and queries
// the metrics of the alert's expression and no others.
func TestDashboardShowsEveryAlert(t *testing.T) {
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []dashboardPanel `json:"panels"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	var ds struct {
		Datasources []struct {
			Name string `yaml:"name"`
			Type string `yaml:"type"`
		} `yaml:"datasources"`
	}
	readYAML(t, datasourceFile, &ds)
	if len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" {
		t.Fatalf("%s provisions %v, want one Prometheus data source", datasourceFile, ds.Datasources)
	}

	listed := false
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d is used twice", p.ID)
		}
		ids[p.ID] = true
		if p.Type == "alertlist" && p.Options.Datasource == ds.Datasources[0].Name &&
			p.Options.StateFilter["firing"] && p.Options.StateFilter["pending"] {
			listed = true
		}
	}
	if !listed {
		t.Errorf("no alertlist panel shows the firing and pending alerts of data source %q", ds.Datasources[0].Name)
	}

	for _, r := range alertRules(t) {
		read := serviceMetric.FindAllString(r.Expr, -1)
		if len(read) == 0 {
			continue // Prometheus's own series (up): the alert list shows them.
		}
		var panel *dashboardPanel
		for i, p := range d.Panels {
			if regexp.MustCompile(`\b` + r.Alert + `\b`).MatchString(p.Description) {
				panel = &d.Panels[i]
				break
			}
		}
		if panel == nil {
			t.Errorf("no dashboard panel names alert %s in its description", r.Alert)
			continue
		}
		shown := false
		for _, target := range panel.Targets {
			for _, m := range serviceMetric.FindAllString(target.Expr, -1) {
				if !strings.Contains(r.Expr, m) {
					t.Errorf("panel %q for alert %s queries %s, which the alert does not read", panel.Title, r.Alert, m)
				}
				shown = true
			}
		}
		if !shown {
			t.Errorf("panel %q for alert %s queries none of %v", panel.Title, r.Alert, read)
		}
	}
}

// The compose stack's Prometheus mounts every rule file prometheus.yml loads
// where Prometheus looks for it: beside its configuration file.
func TestComposePrometheusLoadsRules(t *testing.T) {
	c := load(t)
	var prom struct {
		RuleFiles []string `yaml:"rule_files"`
	}
	readYAML(t, filepath.Join(prometheusDir, "prometheus.yml"), &prom)
	s := c.Services["prometheus"]
	var configFile string
	if cmd, ok := s.Command.([]any); ok {
		for _, arg := range cmd {
			if v, ok := strings.CutPrefix(fmtString(arg), "--config.file="); ok {
				configFile = v
			}
		}
	}
	if configFile == "" {
		t.Fatalf("prometheus command %v sets no --config.file", s.Command)
	}
	root, err := filepath.Abs(prometheusDir)
	if err != nil {
		t.Fatal(err)
	}
	mounts := map[string]string{} // container path: host path
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 {
			mounts[parts[1]] = parts[0]
		}
	}
	for _, f := range append([]string{"prometheus.yml"}, prom.RuleFiles...) {
		want := path.Join(path.Dir(configFile), f)
		if f == "prometheus.yml" {
			want = configFile
		}
		if got := mounts[want]; got != filepath.Join(root, f) {
			t.Errorf("prometheus mounts %q at %s, want deploy/prometheus/%s", got, want, f)
		}
	}
}

func fmtString(v any) string {
	s, _ := v.(string)
	return s
}

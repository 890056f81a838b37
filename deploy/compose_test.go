// Package deploy_test checks docker-compose.yml, the Dockerfile and the
// files they load, as `docker-compose config` resolves them, against the
// rules of the deployment: what is exposed, in what order services start,
// how secrets travel, and whether each stop_grace_period covers the
// service's shutdown budget.
package deploy_test

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/internal/testenv"
)

const (
	composeFile = "../docker-compose.yml"
	testERPURL  = "https://erp.example.com/api"
	// graceMargin is what a stop_grace_period must leave beyond the budget:
	// the process's own exit, logs flushed.
	graceMargin = 5 * time.Second
)

// profiles are every combination of the file's profiles.
var profiles = [][]string{nil, {"dev"}, {"monitoring"}, {"dev", "monitoring"}}

type service struct {
	Image       string            `yaml:"image"`
	Command     any               `yaml:"command"`
	Entrypoint  any               `yaml:"entrypoint"`
	Environment map[string]string `yaml:"environment"`
	Ports       []any             `yaml:"ports"`
	Volumes     []string          `yaml:"volumes"`
	Secrets     []any             `yaml:"secrets"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Healthcheck *struct {
		Test    []string `yaml:"test"`
		Disable bool     `yaml:"disable"`
	} `yaml:"healthcheck"`
	Restart         string   `yaml:"restart"`
	StopGracePeriod string   `yaml:"stop_grace_period"`
	ReadOnly        bool     `yaml:"read_only"`
	Profiles        []string `yaml:"profiles"`
	Networks        map[string]any
}

type composeConfig struct {
	Services map[string]service `yaml:"services"`
	Secrets  map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
}

// compose runs docker-compose on the project's file with no .env file and
// only vars among the variables the file reads.
func compose(t *testing.T, vars map[string]string, args ...string) ([]byte, error) {
	t.Helper()
	bin, err := exec.LookPath("docker-compose")
	if err != nil {
		testenv.Unavailable(t, "docker-compose is not on PATH (apt-get install docker-compose)")
	}
	file, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	read := map[string]bool{"COMPOSE_PROFILES": true, "COMPOSE_FILE": true, "COMPOSE_PROJECT_NAME": true}
	for _, m := range regexp.MustCompile(`\$\{([A-Z0-9_]+)`).FindAllSubmatch(file, -1) {
		read[string(m[1])] = true
	}
	var env []string
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); !read[name] {
			env = append(env, kv)
		}
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	envFile := filepath.Join(t.TempDir(), "empty.env")
	if err := os.WriteFile(envFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"--file", composeFile, "--env-file", envFile}, args...)...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("docker-compose %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

func profileArgs(p []string) []string {
	var args []string
	for _, name := range p {
		args = append(args, "--profile", name)
	}
	return args
}

var loaded struct {
	once sync.Once
	c    composeConfig
	err  error
}

// load resolves the file with every profile on (once per test binary:
// docker-compose takes seconds).
func load(t *testing.T) composeConfig {
	t.Helper()
	// Checked here, outside the once: a skip inside it would leave every
	// later test an empty configuration instead of its own skip.
	if _, err := exec.LookPath("docker-compose"); err != nil {
		testenv.Unavailable(t, "docker-compose is not on PATH (apt-get install docker-compose)")
	}
	loaded.once.Do(func() {
		loaded.c, loaded.err = resolveWith(t, map[string]string{"ERP_URL": testERPURL}, profileArgs(profiles[len(profiles)-1])...)
	})
	if loaded.err != nil {
		t.Fatal(loaded.err)
	}
	return loaded.c
}

// resolveWith is the file as `docker-compose args… config` resolves it with
// only vars set (see compose).
func resolveWith(t *testing.T, vars map[string]string, args ...string) (composeConfig, error) {
	t.Helper()
	out, err := compose(t, vars, append(slices.Clone(args), "config")...)
	if err != nil {
		return composeConfig{}, err
	}
	var c composeConfig
	if err := yaml.Unmarshal(out, &c); err != nil {
		return c, fmt.Errorf("parse docker-compose config: %w", err)
	}
	return c, nil
}

// `docker-compose config` accepts every profile; without ERP_URL the file
// still resolves and the worker's configuration refuses it, naming ERP_URL.
func TestComposeConfigEveryProfile(t *testing.T) {
	for _, p := range profiles {
		if _, err := compose(t, map[string]string{"ERP_URL": testERPURL}, append(profileArgs(p), "config", "--quiet")...); err != nil {
			t.Errorf("profiles %v: %v", p, err)
		}
	}
	// Without ERP_URL the file resolves (a connector needs none), and the
	// worker refuses to start, naming it.
	bare, err := resolveWith(t, nil)
	if err != nil {
		t.Fatalf("without ERP_URL: %v", err)
	}
	if err := containerConfig(t, bare.Services["worker"]).Require(config.Needs{Store: true, ERP: true}); err == nil || !strings.Contains(err.Error(), "ERP_URL") {
		t.Errorf("the worker without ERP_URL: %v, want a refusal that names it", err)
	}
	// The simulator exists in the dev profile only, Prometheus and Grafana in
	// the monitoring profile; everything else always.
	c := load(t)
	want := map[string][]string{"erpsim": {"dev"}, "prometheus": {"monitoring"}, "grafana": {"monitoring"}}
	for name, s := range c.Services {
		if !slices.Equal(s.Profiles, want[name]) {
			t.Errorf("%s profiles %v, want %v", name, s.Profiles, want[name])
		}
	}
}

// port is one published port, whichever form docker-compose prints.
type port struct {
	hostIP    string
	published string
	target    string
}

func parsePort(t *testing.T, p any) port {
	t.Helper()
	switch v := p.(type) {
	case string: // [ip:]published:target[/proto]
		v, _, _ = strings.Cut(v, "/")
		parts := strings.Split(v, ":")
		switch len(parts) {
		case 3:
			return port{parts[0], parts[1], parts[2]}
		case 2:
			return port{"", parts[0], parts[1]}
		}
	case map[string]any:
		s := func(k string) string {
			if x, ok := v[k]; ok && x != nil {
				return fmt.Sprint(x)
			}
			return ""
		}
		return port{s("host_ip"), s("published"), s("target")}
	}
	t.Fatalf("cannot read port %#v", p)
	return port{}
}

// Only the TLS proxy publishes a port on every interface, and only 443; the
// control plane (Temporal frontend, Web UI, codec server, simulator,
// Prometheus, Grafana) is published on loopback only; databases, api and
// worker have no host port at all; and the proxy forwards /webhooks/* only,
// to the api's webhook port, while /readyz and /metrics live on another.
func TestComposeExposure(t *testing.T) {
	c := load(t)
	loopbackOnly := []string{"temporal", "temporal-ui", "codec-server", "erpsim", "prometheus", "grafana"}
	for name, s := range c.Services {
		for _, raw := range s.Ports {
			p := parsePort(t, raw)
			switch {
			case name == "proxy":
				if p.target != "443" {
					t.Errorf("proxy publishes container port %s; only 443 (HTTPS) may be public", p.target)
				}
			case !slices.Contains(loopbackOnly, name):
				t.Errorf("%s publishes %s:%s, and it should have no host port", name, p.published, p.target)
			case p.hostIP != "127.0.0.1":
				t.Errorf("%s publishes %s on %q, not on 127.0.0.1 only", name, p.target, p.hostIP)
			}
		}
	}
	if len(c.Services["proxy"].Ports) != 1 {
		t.Errorf("proxy ports = %v, want the HTTPS port alone", c.Services["proxy"].Ports)
	}
	if !strings.HasPrefix(c.Services["proxy"].Image, "caddy:") {
		t.Errorf("proxy image %q, want the official Caddy image", c.Services["proxy"].Image)
	}
	if nets := c.Services["proxy"].Networks; len(nets) != 1 || nets["edge"] == nil && !hasKey(nets, "edge") {
		t.Errorf("proxy networks %v, want the edge network alone", nets)
	}

	api := c.Services["api"].Environment
	webhookPort, adminPort := portOf(api["HTTP_ADDR"]), portOf(api["ADMIN_ADDR"])
	if adminPort == "" || adminPort == webhookPort {
		t.Fatalf("api ADMIN_ADDR %q must keep /readyz and /metrics off the webhook port %q", api["ADMIN_ADDR"], api["HTTP_ADDR"])
	}
	caddy, err := os.ReadFile("caddy/Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	proxied := regexp.MustCompile(`(?s)handle /webhooks/\* \{.*?reverse_proxy api:` + webhookPort + `\b`).Match(caddy)
	if !proxied || strings.Count(string(caddy), "reverse_proxy") != 1 {
		t.Errorf("the Caddyfile must reverse_proxy to api:%s inside `handle /webhooks/*` and nowhere else", webhookPort)
	}
	if !regexp.MustCompile(`(?m)^\s*handle \{\s*\n\s*respond 404`).Match(caddy) {
		t.Error("the Caddyfile must answer 404 to everything but the webhooks")
	}
	if api["TRUSTED_PROXIES"] == "" {
		t.Error("the api trusts no proxy: FENBEITONG_ALLOWED_IPS would see the proxy's address")
	}
}

func hasKey(m map[string]any, k string) bool { _, ok := m[k]; return ok }

func portOf(addr string) string {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	return p
}

// Start-up order: a dependency on a one-shot job waits for it to complete
// successfully; one on a server waits for it to be healthy; and the chain
// schema -> server -> namespace -> api/worker holds.
func TestComposeDependencies(t *testing.T) {
	c := load(t)
	jobs := map[string]bool{}
	for name, s := range c.Services {
		if s.Restart == "no" {
			jobs[name] = true
		}
	}
	for _, j := range []string{"migrate", "setup", "temporal-schema"} {
		if !jobs[j] {
			t.Errorf("%s should be a one-shot job (restart: \"no\")", j)
		}
	}
	for name, s := range c.Services {
		for dep, d := range s.DependsOn {
			target, ok := c.Services[dep]
			switch {
			case !ok:
				t.Errorf("%s depends on %s, which does not exist", name, dep)
			case jobs[dep] && d.Condition != "service_completed_successfully":
				t.Errorf("%s depends on the job %s with %q, want service_completed_successfully", name, dep, d.Condition)
			case !jobs[dep] && target.Healthcheck != nil && !target.Healthcheck.Disable && d.Condition != "service_healthy":
				t.Errorf("%s depends on the server %s with %q, want service_healthy", name, dep, d.Condition)
			}
		}
	}
	for _, edge := range []struct{ from, to, condition string }{
		{"temporal-schema", "temporal-db", "service_healthy"},
		{"temporal", "temporal-schema", "service_completed_successfully"},
		{"setup", "temporal", "service_healthy"},
		{"migrate", "mysql", "service_healthy"},
		{"api", "migrate", "service_completed_successfully"},
		{"api", "setup", "service_completed_successfully"},
		{"worker", "migrate", "service_completed_successfully"},
		{"worker", "setup", "service_completed_successfully"},
		{"proxy", "api", "service_healthy"},
		{"proxy", "worker", "service_healthy"},
		{"temporal-ui", "temporal", "service_healthy"},
	} {
		if got := c.Services[edge.from].DependsOn[edge.to].Condition; got != edge.condition {
			t.Errorf("%s -> %s: condition %q, want %q", edge.from, edge.to, got, edge.condition)
		}
	}
	if _, ok := c.Services["worker"].DependsOn["erpsim"]; ok {
		t.Error("the worker depends on the simulator, which exists in the dev profile only")
	}
	// Every long-running server can be waited for.
	for _, name := range []string{"mysql", "temporal-db", "temporal", "api", "worker", "codec-server", "erpsim"} {
		if h := c.Services[name].Healthcheck; h == nil || h.Disable || len(h.Test) == 0 {
			t.Errorf("%s has no health check", name)
		}
	}
	// Temporal's current layout: the server image, the schema by admin-tools.
	if img := c.Services["temporal"].Image; img != "temporalio/server:1.29.1" {
		t.Errorf("temporal image %q, want temporalio/server:1.29.1", img)
	}
	if img := c.Services["temporal-schema"].Image; !strings.HasPrefix(img, "temporalio/admin-tools:1.29.1") {
		t.Errorf("temporal-schema image %q, want temporalio/admin-tools of the server's version", img)
	}
	if !strings.Contains(flat(c.Services["temporal-schema"].Command), "temporal-sql-tool") {
		t.Error("temporal-schema does not run temporal-sql-tool")
	}
	if img := c.Services["mysql"].Image; img != "mysql:8.4" {
		t.Errorf("mysql image %q, want mysql:8.4 (LTS)", img)
	}
	for name, s := range c.Services {
		if strings.Contains(s.Image, "auto-setup") {
			t.Errorf("%s uses %s, the deprecated dev-only image", name, s.Image)
		}
	}
}

// Secrets travel as Compose secrets read through *_FILE: no secret variable
// is set directly, every *_FILE names a secret the service mounts, every
// secret is a file, and no password is on a command line.
func TestComposeSecrets(t *testing.T) {
	c := load(t)
	direct := []string{"PAYLOAD_KEY", "PAYLOAD_OLD_KEYS", "AUTOX3_APP_SECRET", "FENBEITONG_TOKEN", "ERP_TOKEN",
		"CODEC_SERVER_TOKEN", "MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD", "POSTGRES_PASSWORD", "POSTGRES_PWD",
		"SQL_PASSWORD", "GF_SECURITY_ADMIN_PASSWORD"}
	for name, s := range c.Services {
		mounted := map[string]bool{}
		for _, sec := range s.Secrets {
			switch v := sec.(type) {
			case string:
				mounted[v] = true
			case map[string]any:
				mounted[fmt.Sprint(v["source"])] = true
			}
		}
		for k, v := range s.Environment {
			if slices.Contains(direct, k) && v != "" {
				t.Errorf("%s sets %s directly; use %s_FILE and a Compose secret", name, k, k)
			}
			if strings.HasSuffix(k, "_FILE") && strings.HasPrefix(v, "/run/secrets/") {
				if sec := strings.TrimPrefix(v, "/run/secrets/"); !mounted[sec] {
					t.Errorf("%s reads %s from secret %s, which it does not mount", name, k, sec)
				}
			}
			if k == "MYSQL_DSN" && strings.Contains(strings.SplitN(v, "@", 2)[0], ":") {
				t.Errorf("%s MYSQL_DSN holds a password; use MYSQL_PASSWORD_FILE", name)
			}
		}
		for sec := range mounted {
			if c.Secrets[sec].File == "" {
				t.Errorf("%s mounts secret %s, which is not a file secret", name, sec)
			}
		}
		lines := flat(s.Command) + " " + flat(s.Entrypoint)
		if s.Healthcheck != nil {
			lines += " " + strings.Join(s.Healthcheck.Test, " ")
		}
		if regexp.MustCompile(`--password|--pw\b|\s-p\S`).MatchString(lines) {
			t.Errorf("%s passes a password flag: %s", name, lines)
		}
		// A shell may set a password variable, from a secret file only.
		for _, loc := range regexp.MustCompile(`(PASSWORD|PWD)=`).FindAllStringIndex(lines, -1) {
			if rest := lines[loc[1]:]; !strings.HasPrefix(rest, `"$$(cat /run/secrets/`) {
				t.Errorf("%s sets %s from something else than a secret file", name, lines[loc[0]:min(len(lines), loc[1]+20)])
			}
		}
	}
	for _, tt := range []struct{ service, variable, secret string }{
		{"mysql", "MYSQL_ROOT_PASSWORD_FILE", "mysql_root_password"},
		{"mysql", "MYSQL_PASSWORD_FILE", "erpbridge_db_password"},
		{"temporal-db", "POSTGRES_PASSWORD_FILE", "temporal_db_password"},
		{"grafana", "GF_SECURITY_ADMIN_PASSWORD__FILE", "grafana_admin_password"},
		{"api", "PAYLOAD_KEY_FILE", "payload_key"},
		{"api", "AUTOX3_APP_SECRET_FILE", "autox3_app_secret"},
		{"api", "FENBEITONG_TOKEN_FILE", "fenbeitong_token"},
		{"api", "MYSQL_PASSWORD_FILE", "erpbridge_db_password"},
		{"worker", "PAYLOAD_KEY_FILE", "payload_key"},
		{"worker", "ERP_TOKEN_FILE", "erp_token"},
		{"migrate", "MYSQL_PASSWORD_FILE", "erpbridge_db_password"},
		{"codec-server", "PAYLOAD_KEY_FILE", "payload_key"},
	} {
		if got := c.Services[tt.service].Environment[tt.variable]; got != "/run/secrets/"+tt.secret {
			t.Errorf("%s %s = %q, want /run/secrets/%s", tt.service, tt.variable, got, tt.secret)
		}
	}
	// The erpbridge containers' configuration parses as the binary reads it
	// (secret files aside), in the production profile, and is not refused.
	for name, needs := range map[string]config.Needs{"api": {Store: true}, "worker": {Store: true, ERP: true}, "migrate": {Store: true}} {
		cfg := containerConfig(t, c.Services[name])
		if cfg.Profile != config.ProfileProduction || cfg.Store.AutoMigrate {
			t.Errorf("%s runs profile %q with AutoMigrate %v, want production without", name, cfg.Profile, cfg.Store.AutoMigrate)
		}
		if err := cfg.Require(needs); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// containerConfig reads a service's environment the way the binary does,
// without its *_FILE secrets (not on this machine).
func containerConfig(t *testing.T, s service) config.Config {
	t.Helper()
	cfg, err := config.FromEnv(func(k string) string {
		if strings.HasSuffix(k, "_FILE") {
			return ""
		}
		return s.Environment[k]
	})
	if err != nil {
		t.Fatalf("container configuration: %v", err)
	}
	return cfg
}

// Each erpbridge service's stop_grace_period covers its shutdown budget
// (drain window, in-flight requests, worker stop) with room to exit; Docker
// would otherwise kill it after 10s.
func TestComposeGracePeriods(t *testing.T) {
	c := load(t)
	budgets := map[string][2]bool{ // service: api, worker
		"api": {true, false}, "worker": {false, true}, "codec-server": {false, false}, "erpsim": {false, false},
	}
	for name, roles := range budgets {
		s := c.Services[name]
		grace, err := time.ParseDuration(s.StopGracePeriod)
		if err != nil {
			t.Errorf("%s stop_grace_period %q: %v", name, s.StopGracePeriod, err)
			continue
		}
		budget := containerConfig(t, s).ShutdownBudget(roles[0], roles[1])
		if grace < budget+graceMargin {
			t.Errorf("%s stop_grace_period %s does not cover its %s shutdown budget plus %s", name, grace, budget, graceMargin)
		}
	}
	w := containerConfig(t, c.Services["worker"])
	if w.Temporal.WorkerStopTimeout < w.ERP.Timeout {
		t.Errorf("the worker stops after %s, before an ERP call of up to %s can finish", w.Temporal.WorkerStopTimeout, w.ERP.Timeout)
	}
	for _, name := range []string{"mysql", "temporal-db", "temporal"} {
		if grace, err := time.ParseDuration(c.Services[name].StopGracePeriod); err != nil || grace < 30*time.Second {
			t.Errorf("%s stop_grace_period %q, want at least 30s for a clean shutdown", name, c.Services[name].StopGracePeriod)
		}
	}
}

// With ERP_KIND=kingdee or tryton the worker's send bound is exactly four
// connector calls, and its stop_grace_period still covers its shutdown.
func TestComposeConnectorsFitTheGracePeriod(t *testing.T) {
	for _, env := range []map[string]string{
		{"ERP_KIND": "kingdee", "KINGDEE_URL": "https://kd.example.com/K3Cloud/", "KINGDEE_ACCT_ID": "62a0f0c1d2e3", "KINGDEE_USERNAME": "erpbridge", "KINGDEE_APP_ID": "231415_abc"},
		{"ERP_KIND": "tryton", "TRYTON_URL": "https://tryton.example.com/", "TRYTON_DATABASE": "erp", "TRYTON_USER": "erpbridge"},
	} {
		c, err := resolveWith(t, env)
		if err != nil {
			t.Fatalf("%s: %v", env["ERP_KIND"], err)
		}
		w := c.Services["worker"]
		cfg := containerConfig(t, w)
		call := map[string]time.Duration{"kingdee": cfg.Kingdee.Timeout, "tryton": cfg.Tryton.Timeout}[env["ERP_KIND"]]
		// A send is four of the connector's calls (config.ERP.Timeout): 2m
		// with the default 30s call bound, which the file leaves as it is.
		if cfg.ERP.Kind != env["ERP_KIND"] || cfg.ERP.Timeout != 4*call || cfg.ERP.Timeout != 2*time.Minute {
			t.Errorf("%s: the worker runs kind %q with ERP_TIMEOUT %s and a call bound of %s; want 4 calls, 2m",
				env["ERP_KIND"], cfg.ERP.Kind, cfg.ERP.Timeout, call)
		}
		grace, err := time.ParseDuration(w.StopGracePeriod)
		if budget := cfg.ShutdownBudget(false, true); err != nil || grace < budget+graceMargin {
			t.Errorf("%s: worker stop_grace_period %q does not cover its %s shutdown budget plus %s", env["ERP_KIND"], w.StopGracePeriod, budget, graceMargin)
		}
	}
}

// Every file or directory the stack mounts from this repository exists, and
// Prometheus scrapes the ports the api and the worker serve /metrics on.
func TestComposeMountsAndScrapeTargets(t *testing.T) {
	c := load(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range c.Services {
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if !strings.HasPrefix(src, root) {
				continue // a named volume
			}
			if _, err := os.Stat(src); err != nil {
				t.Errorf("%s mounts %s: %v", name, src, err)
			}
		}
	}
	t.Run("temporal server configuration", func(t *testing.T) {
		// The temporal service runs `temporal-server --root /etc/temporal/erpbridge
		// --config config --env erpbridge` on ./deploy/temporal, the cluster
		// drills' configuration.
		for _, f := range []string{"temporal/config/erpbridge.yaml", "temporal/dynamicconfig.yaml"} {
			if _, err := os.Stat(f); err != nil {
				t.Errorf("the temporal service needs deploy/%s: %v", f, err)
			}
		}
		if b, _ := os.ReadFile("temporal/dynamicconfig.yaml"); strings.Contains(string(b), "forceSearchAttributesCacheRefreshOnRead:") {
			t.Error("deploy/temporal/dynamicconfig.yaml turns on forceSearchAttributesCacheRefreshOnRead, which Temporal says is not for production")
		}
	})
	var prom struct {
		ScrapeConfigs []struct {
			JobName      string `yaml:"job_name"`
			DNSSDConfigs []struct {
				Names []string `yaml:"names"`
				Port  int      `yaml:"port"`
			} `yaml:"dns_sd_configs"`
		} `yaml:"scrape_configs"`
	}
	raw, err := os.ReadFile("prometheus/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &prom); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"api":    portOf(c.Services["api"].Environment["ADMIN_ADDR"]),
		"worker": portOf(c.Services["worker"].Environment["METRICS_ADDR"]),
	}
	got := map[string]string{}
	for _, sc := range prom.ScrapeConfigs {
		for _, d := range sc.DNSSDConfigs {
			for _, n := range d.Names {
				got[n] = strconv.Itoa(d.Port)
			}
		}
	}
	for svc, p := range want {
		if p == "" || got[svc] != p {
			t.Errorf("Prometheus scrapes %s on port %q, it serves /metrics on %q", svc, got[svc], p)
		}
	}
}

// The image is built with go.mod's Go, stamps the version the binary
// prints, and checks its own health without a shell.
func TestDockerfile(t *testing.T) {
	df, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	from := regexp.MustCompile(`(?m)^FROM golang:(\S+) AS build$`).FindSubmatch(df)
	if goLine == nil || from == nil || string(from[1]) != string(goLine[1]) {
		t.Errorf("build image golang:%s, go.mod says go %s", from, goLine)
	}
	for _, want := range []string{
		"FROM gcr.io/distroless/static-debian12:nonroot",
		"-X github.com/erpbridge/erpbridge/internal/app.version=${VERSION}",
		`HEALTHCHECK --interval=10s --timeout=6s --start-period=20s --retries=3 CMD ["erpbridge", "healthcheck"]`,
		"USER nonroot:nonroot",
	} {
		if !bytes.Contains(df, []byte(want)) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	src, err := os.ReadFile("../internal/app/version.go")
	if err != nil || !bytes.Contains(src, []byte("\nvar version = ")) {
		t.Errorf("internal/app.version, which the Dockerfile stamps, is gone: %v", err)
	}
}

// flat joins a command given as a string or a list.
func flat(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = fmt.Sprint(p)
		}
		return strings.Join(parts, " ")
	}
	return ""
}

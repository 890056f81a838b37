package devstack_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/erpbridge/erpbridge/internal/devstack"
	"github.com/erpbridge/erpbridge/internal/testenv"
)

const composeFile = "../../docker-compose.yml"

type composeService struct {
	Image       string            `yaml:"image"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Ports       []struct {
		Published int `yaml:"published"`
		Target    int `yaml:"target"`
	} `yaml:"ports"`
	Volumes       []string       `yaml:"volumes"`
	DependsOn     map[string]any `yaml:"depends_on"`
	Healthcheck   map[string]any `yaml:"healthcheck"`
	ContainerName string         `yaml:"container_name"`
	Restart       string         `yaml:"restart"`
	Deploy        struct {
		Replicas int `yaml:"replicas"`
	} `yaml:"deploy"`
}

// runCompose runs docker-compose on the project's file with only vars set
// among the variables it reads, and no .env file.
func runCompose(t *testing.T, vars map[string]string, args ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("docker-compose")
	if err != nil {
		testenv.Unavailable(t, "docker-compose is not on PATH")
	}
	envFile := filepath.Join(t.TempDir(), "empty.env")
	if err := os.WriteFile(envFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// The variables docker-compose.yml reads are cleared so the developer's
	// environment cannot change what the tests see.
	composeVars := []string{
		"ERPBRIDGE_IMAGE", "ERPBRIDGE_DB_PASSWORD", "MYSQL_ROOT_PASSWORD", "TEMPORAL_NAMESPACE",
		"TEMPORAL_TASK_QUEUE", "ERP_URL", "ERP_TOKEN", "AUTOX3_APP_SECRET", "FENBEITONG_TOKEN",
		"FENBEITONG_ALLOWED_IPS", "TRUSTED_PROXIES", "PAYLOAD_KEY", "PAYLOAD_OLD_KEYS",
		"CODEC_SERVER_TOKEN", "CODEC_CORS_ORIGINS", "LOG_LEVEL", "TEMPORAL_SERVER_VERSION",
		"TEMPORAL_UI_VERSION", "TEMPORAL_CODEC_ENDPOINT", "WORKER_REPLICAS",
	}
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(composeVars, name) {
			env = append(env, kv)
		}
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	cmd := exec.Command(bin, append([]string{"-f", composeFile, "--env-file", envFile}, args...)...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("docker-compose %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

func TestComposeConfigValidWithoutVariables(t *testing.T) {
	runCompose(t, nil, "config", "-q")
}

func TestComposeConfig(t *testing.T) {
	const (
		payloadKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
		appSecret  = "autox3-test-secret"
		fbtToken   = "fenbeitong-test-token"
	)
	vars := map[string]string{
		"PAYLOAD_KEY":           payloadKey,
		"AUTOX3_APP_SECRET":     appSecret,
		"FENBEITONG_TOKEN":      fbtToken,
		"ERPBRIDGE_DB_PASSWORD": "db-test-password",
		"WORKER_REPLICAS":       "3",
	}
	runCompose(t, vars, "config", "-q")
	var cfg struct {
		Services map[string]composeService `yaml:"services"`
		Volumes  map[string]any            `yaml:"volumes"`
	}
	if err := yaml.Unmarshal(runCompose(t, vars, "config"), &cfg); err != nil {
		t.Fatalf("parse docker-compose config: %v", err)
	}

	want := []string{"mysql", "temporal", "temporal-ui", "setup", "migrate", "api", "worker", "codec-server", "erpsim"}
	var got []string
	for name := range cfg.Services {
		got = append(got, name)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("services = %v, want %v", got, want)
	}
	svc := cfg.Services

	// The erpbridge commands: one image, the command as argument, the secrets passed through.
	for name, command := range map[string]string{
		"setup": "setup", "migrate": "migrate", "api": "api", "worker": "worker",
		"codec-server": "codec-server", "erpsim": "erpsim",
	} {
		s := svc[name]
		if !slices.Equal(s.Command, []string{command}) {
			t.Errorf("%s command = %v, want [%s]", name, s.Command, command)
		}
		if s.Image != "erpbridge:local" {
			t.Errorf("%s image = %q, want erpbridge:local", name, s.Image)
		}
	}
	for _, name := range []string{"api", "worker", "codec-server", "setup", "migrate"} {
		env := svc[name].Environment
		if env["PAYLOAD_KEY"] != payloadKey {
			t.Errorf("%s does not get PAYLOAD_KEY", name)
		}
		if env["TEMPORAL_ADDRESS"] != "temporal:7233" {
			t.Errorf("%s TEMPORAL_ADDRESS = %q", name, env["TEMPORAL_ADDRESS"])
		}
		if !strings.HasPrefix(env["MYSQL_DSN"], "erpbridge:db-test-password@tcp(mysql:3306)/erpbridge") {
			t.Errorf("%s MYSQL_DSN does not use the erpbridge user on the mysql service", name)
		}
	}
	for _, name := range []string{"api", "worker"} {
		env := svc[name].Environment
		if env["AUTOX3_APP_SECRET"] != appSecret || env["FENBEITONG_TOKEN"] != fbtToken {
			t.Errorf("%s does not get the vendor secrets", name)
		}
		if env["ERP_URL"] != "http://erpsim:8090" {
			t.Errorf("%s ERP_URL = %q, want the simulator", name, env["ERP_URL"])
		}
		if c, _ := svc[name].DependsOn["migrate"].(map[string]any); c["condition"] != "service_completed_successfully" {
			t.Errorf("%s does not wait for migrate to complete: %v", name, svc[name].DependsOn)
		}
	}
	if _, ok := svc["erpsim"].Environment["PAYLOAD_KEY"]; ok {
		t.Error("erpsim is given PAYLOAD_KEY, which it has no use for")
	}
	if svc["erpsim"].Environment["ERPSIM_DATA"] == "" || !hasVolumeAt(svc["erpsim"].Volumes, "/data") {
		t.Errorf("erpsim keeps its data outside a volume: env %v volumes %v", svc["erpsim"].Environment, svc["erpsim"].Volumes)
	}
	if svc["setup"].Restart != "on-failure" {
		t.Errorf("setup restart = %q, want on-failure", svc["setup"].Restart)
	}

	// Host ports.
	for name, port := range map[string][2]int{
		"api": {8080, 8080}, "codec-server": {8234, 8234}, "erpsim": {8090, 8090},
		"temporal-ui": {8233, 8080}, "temporal": {7233, 7233},
	} {
		ports := svc[name].Ports
		if len(ports) != 1 || ports[0].Published != port[0] || ports[0].Target != port[1] {
			t.Errorf("%s ports = %+v, want %d:%d", name, ports, port[0], port[1])
		}
	}

	// The worker scales: no fixed host port or container name, replicas from the environment.
	w := svc["worker"]
	if len(w.Ports) != 0 || w.ContainerName != "" {
		t.Errorf("worker cannot be scaled: ports %v, container_name %q", w.Ports, w.ContainerName)
	}
	if w.Deploy.Replicas != 3 {
		t.Errorf("worker replicas = %d with WORKER_REPLICAS=3", w.Deploy.Replicas)
	}

	// Temporal on MySQL 8, the UI pointed at it and at the codec server.
	if e := svc["temporal"].Environment; e["DB"] != "mysql8" || e["MYSQL_SEEDS"] != "mysql" {
		t.Errorf("temporal environment = %v, want DB=mysql8 MYSQL_SEEDS=mysql", e)
	}
	if c, _ := svc["temporal"].DependsOn["mysql"].(map[string]any); c["condition"] != "service_healthy" {
		t.Errorf("temporal does not wait for a healthy mysql: %v", svc["temporal"].DependsOn)
	}
	if !strings.HasPrefix(svc["temporal"].Image, "temporalio/auto-setup:") {
		t.Errorf("temporal image = %q", svc["temporal"].Image)
	}
	if e := svc["temporal-ui"].Environment; e["TEMPORAL_ADDRESS"] != "temporal:7233" || e["TEMPORAL_CODEC_ENDPOINT"] != "http://localhost:8234" {
		t.Errorf("temporal-ui environment = %v", e)
	}

	// MySQL: healthcheck, data volume, init scripts that create the databases.
	m := svc["mysql"]
	if m.Image != "mysql:8.0" || m.Healthcheck == nil || !hasVolumeAt(m.Volumes, "/var/lib/mysql") {
		t.Errorf("mysql = image %q, healthcheck %v, volumes %v", m.Image, m.Healthcheck, m.Volumes)
	}
	if !hasVolumeAt(m.Volumes, "/docker-entrypoint-initdb.d") {
		t.Fatalf("mysql has no init scripts mounted: %v", m.Volumes)
	}
	initSQL, err := os.ReadFile("../../deploy/mysql-init/01-databases.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, db := range []string{"erpbridge", "temporal", "temporal_visibility"} {
		if !regexp.MustCompile(`CREATE DATABASE IF NOT EXISTS ` + db + `\b`).Match(initSQL) {
			t.Errorf("the mysql init script does not create database %s", db)
		}
	}
	if _, err := os.Stat("../../deploy/temporal/dynamicconfig.yaml"); err != nil {
		t.Errorf("temporal dynamic config: %v", err)
	}
}

func hasVolumeAt(volumes []string, target string) bool {
	for _, v := range volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && parts[1] == target {
			return true
		}
	}
	return false
}

// TestPinnedCLIVersionEverywhere keeps the Makefile, which CI uses to install
// the CLI, on the version the code looks for.
func TestPinnedCLIVersionEverywhere(t *testing.T) {
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^TEMPORAL_CLI_VERSION\s*:=\s*(\S+)`).FindSubmatch(mk)
	if m == nil || string(m[1]) != devstack.TemporalCLIVersion {
		t.Errorf("Makefile TEMPORAL_CLI_VERSION = %q, want %s", m, devstack.TemporalCLIVersion)
	}
	if !bytes.Contains(mk, []byte("TEMPORAL_CLI_PKG     := "+devstack.TemporalCLIModule)) {
		t.Errorf("Makefile does not install %s", devstack.TemporalCLIModule)
	}
	st, err := os.Stat("../../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode()&0o111 == 0 {
		t.Errorf(".ci/run is not executable: %v", st.Mode())
	}
}

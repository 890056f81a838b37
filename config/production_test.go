package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/config"
)

// secretFile writes content to a fresh file and returns its path.
func secretFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Every secret can come from a file, as Compose secrets are mounted; the
// file's trailing newline is not part of it.
func TestSecretsFromFiles(t *testing.T) {
	vars := map[string]string{
		"PAYLOAD_KEY_FILE":        secretFile(t, "a2V5\n"),
		"PAYLOAD_OLD_KEYS_FILE":   secretFile(t, "b2xk,b2xkMg==\n"),
		"AUTOX3_APP_SECRET_FILE":  secretFile(t, "app-secret\n"),
		"FENBEITONG_TOKEN_FILE":   secretFile(t, "url-token"),
		"ERP_TOKEN_FILE":          secretFile(t, "erp-token\r\n"),
		"CODEC_SERVER_TOKEN_FILE": secretFile(t, "codec-token\n"),
		"MYSQL_DSN":               "erpbridge@tcp(mysql:3306)/erpbridge",
		"MYSQL_PASSWORD_FILE":     secretFile(t, "p@ss:w/rd\n"),
	}
	c := fromEnv(t, vars)
	got := []string{c.Codec.PayloadKey, c.Codec.PayloadOldKeys, c.Vendors.AutoX3AppSecret, c.Vendors.FenbeitongToken, c.ERP.Token, c.Codec.ServerToken}
	want := []string{"a2V5", "b2xk,b2xkMg==", "app-secret", "url-token", "erp-token", "codec-token"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("secrets = %q, want %q", got, want)
	}
	if c.Store.MySQLDSN != "erpbridge:p@ss:w/rd@tcp(mysql:3306)/erpbridge" || c.Store.Kind != config.StoreMySQL {
		t.Errorf("MYSQL_PASSWORD not put into the DSN: %q (store %q)", c.Store.MySQLDSN, c.Store.Kind)
	}

	// The whole DSN may be a secret too.
	c = fromEnv(t, map[string]string{"MYSQL_DSN_FILE": secretFile(t, "u:pw@tcp(db:3306)/x\n")})
	if c.Store.MySQLDSN != "u:pw@tcp(db:3306)/x" || c.Store.Kind != config.StoreMySQL {
		t.Fatalf("MYSQL_DSN_FILE: %q %q", c.Store.MySQLDSN, c.Store.Kind)
	}
}

func TestSecretFileErrorsNameTheVariableNotTheSecret(t *testing.T) {
	for name, vars := range map[string]map[string]string{
		"both set":     {"PAYLOAD_KEY": "c2VjcmV0LWluLWVudg==", "PAYLOAD_KEY_FILE": secretFile(t, "c2VjcmV0LWluLWZpbGU=")},
		"missing file": {"PAYLOAD_KEY_FILE": filepath.Join(t.TempDir(), "absent")},
		"password twice": {"MYSQL_DSN": "u:c2VjcmV0LWluLWVudg==@tcp(db:3306)/x",
			"MYSQL_PASSWORD_FILE": secretFile(t, "c2VjcmV0LWluLWZpbGU=")},
		"password without DSN": {"MYSQL_PASSWORD": "c2VjcmV0LWluLWVudg=="},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := config.FromEnv(env(vars))
			if err == nil {
				t.Fatal("accepted")
			}
			if strings.Contains(err.Error(), "c2VjcmV0") {
				t.Errorf("the error shows a secret: %v", err)
			}
			if !strings.Contains(err.Error(), "PAYLOAD_KEY") && !strings.Contains(err.Error(), "MYSQL_PASSWORD") {
				t.Errorf("the error does not name the variable: %v", err)
			}
		})
	}
}

func TestStoreChoice(t *testing.T) {
	tests := []struct {
		vars      map[string]string
		store     string
		wantError string
	}{
		{vars: nil, store: ""}, // production without a DSN: undecided, Require refuses it
		{vars: map[string]string{"ERPBRIDGE_PROFILE": "dev"}, store: config.StoreSQLite},
		{vars: map[string]string{"STORE": "sqlite"}, store: config.StoreSQLite},
		{vars: map[string]string{"MYSQL_DSN": "u@tcp(db:3306)/x"}, store: config.StoreMySQL},
		{vars: map[string]string{"MYSQL_DSN": "u@tcp(db:3306)/x", "STORE": "MySQL"}, store: config.StoreMySQL},
		{vars: map[string]string{"STORE": "mysql"}, wantError: "STORE=mysql but MYSQL_DSN is not set"},
		{vars: map[string]string{"STORE": "sqlite", "MYSQL_DSN": "u@tcp(db:3306)/x"}, wantError: "STORE=sqlite but MYSQL_DSN is set"},
		{vars: map[string]string{"STORE": "postgres"}, wantError: `STORE="postgres" must be mysql or sqlite`},
	}
	for _, tt := range tests {
		c, err := config.FromEnv(env(tt.vars))
		if tt.wantError != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantError) {
				t.Errorf("%v: err = %v, want %q", tt.vars, err, tt.wantError)
			}
			continue
		}
		if err != nil || c.Store.Kind != tt.store {
			t.Errorf("%v: store %q, err %v; want %q", tt.vars, c.Store.Kind, err, tt.store)
		}
	}
}

func TestProfileAndAutoMigrate(t *testing.T) {
	c, err := config.FromEnv(env(map[string]string{"ERPBRIDGE_PROFILE": "dev"}))
	if err != nil || !c.Store.AutoMigrate {
		t.Fatalf("dev: AutoMigrate %v, err %v; want true", c.Store.AutoMigrate, err)
	}
	c, err = config.FromEnv(env(map[string]string{"ERPBRIDGE_PROFILE": "dev", "AUTO_MIGRATE": "false"}))
	if err != nil || c.Store.AutoMigrate {
		t.Fatalf("dev, AUTO_MIGRATE=false: AutoMigrate %v, err %v", c.Store.AutoMigrate, err)
	}
	if c, err = config.FromEnv(env(nil)); err != nil || c.Store.AutoMigrate {
		t.Fatalf("production: AutoMigrate %v, err %v; want false", c.Store.AutoMigrate, err)
	}
	_, err = config.FromEnv(env(map[string]string{"AUTO_MIGRATE": "true"}))
	if err == nil || !strings.Contains(err.Error(), "AUTO_MIGRATE=true is refused in the production profile") {
		t.Fatalf("production, AUTO_MIGRATE=true: %v", err)
	}
	_, err = config.FromEnv(env(map[string]string{"ERPBRIDGE_PROFILE": "staging"}))
	if err == nil || !strings.Contains(err.Error(), `ERPBRIDGE_PROFILE="staging" must be production or dev`) {
		t.Fatalf("unknown profile: %v", err)
	}
}

func TestERPURLMustBeHTTPWithHost(t *testing.T) {
	for _, bad := range []string{"erp.example.com", "ftp://erp.example.com", "http://", "https:///records", "http//erp", "://x", "https://user:hunter2@"} {
		_, err := config.FromEnv(env(map[string]string{"ERP_URL": bad}))
		if err == nil || !strings.Contains(err.Error(), "is not an http(s) URL with a host") {
			t.Errorf("ERP_URL=%q: %v", bad, err)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the error shows the URL's password: %v", err)
		}
	}
	for _, good := range []string{"https://erp.example.com", "http://10.0.0.5:8080/api/", "https://erp.example.com:8443/v1"} {
		if _, err := config.FromEnv(env(map[string]string{"ERP_URL": good})); err != nil {
			t.Errorf("ERP_URL=%q: %v", good, err)
		}
	}
}

// The start-up refusals of the production profile, checked per command.
func TestRequire(t *testing.T) {
	load := func(vars map[string]string) config.Config {
		t.Helper()
		c := fromEnv(t, vars)
		return c
	}
	const dsn = "u@tcp(db:3306)/x"
	tests := []struct {
		name      string
		vars      map[string]string
		needs     config.Needs
		wantError string
	}{
		{"no database", nil, config.Needs{Store: true}, "MYSQL_DSN is not set"},
		{"database not needed", nil, config.Needs{}, ""},
		{"explicit sqlite", map[string]string{"STORE": "sqlite"}, config.Needs{Store: true}, ""},
		{"mysql", map[string]string{"MYSQL_DSN": dsn}, config.Needs{Store: true}, ""},
		{"default ERP is the simulator", map[string]string{"MYSQL_DSN": dsn}, config.Needs{Store: true, ERP: true}, "ERP_URL=http://127.0.0.1:8090 is the ERP simulator or this machine"},
		{"compose simulator", map[string]string{"ERP_URL": "http://erpsim:8090"}, config.Needs{ERP: true}, "refused in the production profile"},
		{"localhost", map[string]string{"ERP_URL": "https://localhost/erp"}, config.Needs{ERP: true}, "refused"},
		{"IPv6 loopback", map[string]string{"ERP_URL": "http://[::1]:8090"}, config.Needs{ERP: true}, "refused"},
		{"password hidden", map[string]string{"ERP_URL": "http://u:hunter2@127.0.0.1:8090"}, config.Needs{ERP: true}, "http://u:xxxxx@127.0.0.1:8090"},
		{"ERP not needed", map[string]string{"ERP_URL": "http://erpsim:8090"}, config.Needs{}, ""},
		{"real ERP", map[string]string{"ERP_URL": "https://erp.example.com"}, config.Needs{ERP: true}, ""},
		{"simulator in dev", map[string]string{"ERPBRIDGE_PROFILE": "dev", "ERP_URL": "http://erpsim:8090"}, config.Needs{Store: true, ERP: true}, ""},
		{"both reported", map[string]string{"ERP_URL": "http://erpsim:8090"}, config.Needs{Store: true, ERP: true}, "MYSQL_DSN is not set: set it (or MYSQL_DSN_FILE), or set STORE=sqlite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := load(tt.vars).Require(tt.needs)
			switch {
			case tt.wantError == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantError != "" && (err == nil || !strings.Contains(err.Error(), tt.wantError)):
				t.Fatalf("err = %v, want %q", err, tt.wantError)
			case err != nil && strings.Contains(err.Error(), "hunter2"):
				t.Fatalf("the error shows a password: %v", err)
			}
		})
	}
}

// The shutdown budget adds up the API's drain window, the in-flight request
// bound and the worker's stop bound; the worker's default covers an ERP call
// that has started.
func TestShutdownBudget(t *testing.T) {
	c := fromEnv(t, map[string]string{"ERP_TIMEOUT": "20s"})
	if c.Temporal.WorkerStopTimeout != 25*time.Second {
		t.Errorf("WorkerStopTimeout = %s, want ERP_TIMEOUT + 5s", c.Temporal.WorkerStopTimeout)
	}
	for _, tt := range []struct {
		api, worker bool
		want        time.Duration
	}{
		{true, false, 15 * time.Second}, // 5s drain window + 10s requests
		{false, true, 35 * time.Second}, // 10s /metrics + 25s worker
		{true, true, 40 * time.Second},  // all three
	} {
		if got := c.ShutdownBudget(tt.api, tt.worker); got != tt.want {
			t.Errorf("ShutdownBudget(api=%v, worker=%v) = %s, want %s", tt.api, tt.worker, got, tt.want)
		}
	}
}

func TestPoolSize(t *testing.T) {
	for _, bad := range []string{"0", "-3", "many"} {
		_, err := config.FromEnv(env(map[string]string{"DB_MAX_OPEN_CONNS": bad}))
		if err == nil || !strings.Contains(err.Error(), "DB_MAX_OPEN_CONNS") {
			t.Errorf("DB_MAX_OPEN_CONNS=%q: %v", bad, err)
		}
	}
}

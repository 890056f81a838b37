package app

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/store"
)

const testPayloadKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// runMain calls Main and returns its exit code and everything it printed.
func runMain(t *testing.T, vars map[string]string, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(args, env(vars), &out, &errOut)
	return code, out.String() + errOut.String()
}

// The production profile refuses, before touching anything, what would
// start "fine" and fail later or silently.
func TestStartupRefusals(t *testing.T) {
	sqlite := filepath.Join(t.TempDir(), "erpbridge.db")
	tests := []struct {
		name string
		cmd  string
		vars map[string]string
		want string
	}{
		{"api without a database", "api", map[string]string{"PAYLOAD_KEY": testPayloadKey}, "MYSQL_DSN is not set"},
		{"worker without a database", "worker", map[string]string{"PAYLOAD_KEY": testPayloadKey, "ERP_URL": "https://erp.example.com"}, "MYSQL_DSN is not set"},
		{"migrate without a database", "migrate", nil, "MYSQL_DSN is not set"},
		{"worker on the simulator", "worker", map[string]string{"STORE": "sqlite", "SQLITE_PATH": sqlite, "ERP_URL": "http://erpsim:8090"}, "ERP_URL=http://erpsim:8090 is the ERP simulator"},
		{"all on the default ERP", "all", map[string]string{"STORE": "sqlite", "SQLITE_PATH": sqlite}, "is the ERP simulator or this machine"},
		{"ERP_URL without a scheme", "api", map[string]string{"ERP_URL": "erp.example.com"}, "is not an http(s) URL with a host"},
		{"api migrating in production", "api", map[string]string{"AUTO_MIGRATE": "true"}, "AUTO_MIGRATE=true is refused"},
		{"unreadable secret file", "codec-server", map[string]string{"PAYLOAD_KEY_FILE": "/nonexistent/payload_key"}, "PAYLOAD_KEY_FILE: open /nonexistent/payload_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := runMain(t, tt.vars, tt.cmd)
			if code != 1 || !strings.Contains(out, tt.want) {
				t.Fatalf("exit %d, output %q; want 1 and %q", code, out, tt.want)
			}
		})
	}
	if _, err := os.Stat(sqlite); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused command created the database file: %v", err)
	}
}

// In production api and worker never alter the schema: on a database that
// migrate has not prepared they refuse to start, and leave it untouched.
func TestProductionNeverMigrates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "erpbridge.db")
	vars := map[string]string{"STORE": "sqlite", "SQLITE_PATH": path, "PAYLOAD_KEY": testPayloadKey,
		"ERP_URL": "https://erp.example.com", "TEMPORAL_ADDRESS": "127.0.0.1:1"}
	for _, cmd := range []string{"api", "worker", "all"} {
		code, out := runMain(t, vars, cmd)
		if code != 1 || !strings.Contains(out, "run `erpbridge migrate` first") {
			t.Fatalf("%s on an empty database: exit %d, %q", cmd, code, out)
		}
	}
	db, err := store.Open("", path)
	if err != nil {
		t.Fatal(err)
	}
	if tables, _ := db.Migrator().GetTables(); len(tables) != 0 {
		t.Fatalf("api or worker created tables %v", tables)
	}
	sqlDB, _ := db.DB()
	sqlDB.Close()

	if code, out := runMain(t, vars, "migrate"); code != 0 {
		t.Fatalf("migrate: exit %d, %q", code, out)
	}
	// Past the schema check, the worker goes on to Temporal (absent here).
	if code, out := runMain(t, vars, "worker"); code != 1 || !strings.Contains(out, "connect to Temporal") {
		t.Fatalf("worker on a migrated database: exit %d, %q", code, out)
	}
}

// Two `erpbridge migrate` processes started together on one fresh MariaDB
// database both succeed: the lock makes the second wait, then find nothing
// to do, instead of failing on CREATE TABLE.
func TestConcurrentMigrateProcesses(t *testing.T) {
	testenv.RequireServers(t)
	bin := buildBinary(t)
	for round := range 3 {
		dsn := testenv.NewMySQLDatabase(t)
		var wg sync.WaitGroup
		outs := make([]string, 2)
		errs := make([]error, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := exec.Command(bin, "migrate")
				cmd.Env = []string{"MYSQL_DSN=" + dsn, "LOG_LEVEL=info"}
				out, err := cmd.CombinedOutput()
				outs[i], errs[i] = string(out), err
			}()
		}
		wg.Wait()
		for i := range 2 {
			if errs[i] != nil || !strings.Contains(outs[i], "schema migrated") {
				t.Fatalf("round %d, migrate %d: %v\n%s", round, i, errs[i], outs[i])
			}
		}
		db, err := store.Open(dsn, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := store.CheckSchema(t.Context(), db); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		sqlDB, _ := db.DB()
		sqlDB.Close()
	}
}

const stampedVersion = "v0.0.0-test+deploy"

// buildBinary builds cmd/erpbridge once per test binary, stamped the way the
// Dockerfile and the Makefile stamp it.
func buildBinary(t *testing.T) string {
	t.Helper()
	return testenv.Erpbridge(t, "-ldflags", "-X github.com/erpbridge/erpbridge/internal/app.version="+stampedVersion)
}

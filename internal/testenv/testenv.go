// Package testenv gives tests the real servers they need: a fresh database on
// the MySQL-compatible server, an embedded SQLite file, a private MariaDB
// server a test may kill (NewMariaDB), a Temporal dev server and a Tryton
// server, the erpbridge binary built from ./cmd/erpbridge (Erpbridge), and
// two rules: under -short no server is started (RequireServers), and under
// CI=true a missing server fails the test instead of skipping it
// (Unavailable). Eventually is the one way tests wait for something to
// happen.
package testenv

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql" // the MySQL driver for the admin connection
	"gorm.io/gorm"

	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/store"
)

// InCI reports whether the tests run in CI, where nothing may be skipped.
func InCI() bool { return os.Getenv("CI") == "true" }

// RequireServers skips the test under -short: a test that starts a Temporal
// dev server, builds the Temporal CLI, launches Chromium, needs the
// MySQL-compatible server or Tryton, or starts a private MariaDB is not a
// unit test. Every helper here that provides
// such a server calls it; tests that start one by other means call it first.
func RequireServers(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs real servers (Temporal, MySQL or a private MariaDB, Tryton, Chromium): skipped under -short")
	}
}

// Eventually calls check every 100 ms until it returns nil, and fails the test
// with what and check's last error if timeout passes first. check runs on the
// test's goroutine, so it may end the test itself (t.Fatal) when waiting
// longer is pointless.
func Eventually(t testing.TB, what string, timeout time.Duration, check func() error) {
	t.Helper()
	EventuallyEvery(t, what, timeout, 100*time.Millisecond, check)
}

// EventuallyEvery is Eventually calling check every interval: for a check
// that is itself costly (a query over a whole cluster, say).
func EventuallyEvery(t testing.TB, what string, timeout, interval time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s: %v", what, timeout, err)
		}
		time.Sleep(interval)
	}
}

// Unavailable fails the test under CI and skips it elsewhere.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("required server unavailable under CI=true: %s", msg)
	}
	t.Skipf("server unavailable (set CI=true to make this a failure): %s", msg)
}

// MySQLServerDSN is the admin DSN of the test server, without a database:
// TEST_MYSQL_DSN when set, else root with an empty password on 127.0.0.1:3306.
func MySQLServerDSN() string {
	if dsn := os.Getenv("TEST_MYSQL_DSN"); dsn != "" {
		return dsn
	}
	return "root:@tcp(127.0.0.1:3306)/"
}

// NewMySQLDatabase creates an empty database with a unique name on the test
// server, drops it when the test ends, and returns a DSN for it.
func NewMySQLDatabase(t testing.TB) string {
	t.Helper()
	RequireServers(t)
	admin, err := sql.Open("mysql", MySQLServerDSN())
	if err != nil {
		Unavailable(t, "mysql: %v", err)
	}
	admin.SetConnMaxLifetime(time.Minute)
	if err := admin.Ping(); err != nil {
		admin.Close()
		Unavailable(t, "mysql at %s: %v", MySQLServerDSN(), err)
	}
	name := "erpbridge_t_" + testkit.RandomHex(6)
	if _, err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		admin.Close()
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name)
		admin.Close()
	})
	base := MySQLServerDSN()
	q := ""
	if i := strings.Index(base, "?"); i >= 0 {
		base, q = base[:i], base[i:]
	}
	base = base[:strings.LastIndex(base, "/")+1]
	return base + name + q
}

// MySQL returns a migrated GORM handle on a fresh MySQL database.
func MySQL(t testing.TB) *gorm.DB {
	t.Helper()
	return open(t, NewMySQLDatabase(t), "")
}

// SQLite returns a migrated GORM handle on a fresh SQLite file.
func SQLite(t testing.TB) *gorm.DB {
	t.Helper()
	return open(t, "", filepath.Join(t.TempDir(), "erpbridge.db"))
}

// Databases returns both stores, by name, for tests that must pass on each.
func Databases(t *testing.T) map[string]func(testing.TB) *gorm.DB {
	return map[string]func(testing.TB) *gorm.DB{"mysql": MySQL, "sqlite": SQLite}
}

// EachStore runs f as a subtest on a fresh migrated database of each store,
// MySQL then SQLite, for tests that must pass on both.
func EachStore(t *testing.T, f func(t *testing.T, db *gorm.DB)) {
	t.Helper()
	for _, name := range []string{"mysql", "sqlite"} {
		open := Databases(t)[name]
		t.Run(name, func(t *testing.T) { f(t, open(t)) })
	}
}

func open(t testing.TB, dsn, path string) *gorm.DB {
	t.Helper()
	db, err := store.Open(dsn, path)
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	sqlDB, _ := db.DB()
	t.Cleanup(func() { sqlDB.Close() })
	if err := store.Migrate(t.Context(), db); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
}

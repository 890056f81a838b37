package testenv

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/internal/testkit"
)

// MariaDB is a MariaDB server of a test's own: its own data directory and
// port, never the machine's shared server, so the test may kill it. It is
// stopped when the test ends.
type MariaDB struct {
	t       testing.TB
	port    int
	logFile string
	server  string   // mariadbd's path
	args    []string // mariadbd's arguments, the same at every start

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// NewMariaDB initialises a data directory in a temporary folder and starts
// mariadbd on a free loopback port, with root allowed in over TCP without a
// password. A machine without MariaDB's server fails the test under
// CI=true and skips it elsewhere.
func NewMariaDB(t testing.TB) *MariaDB {
	t.Helper()
	RequireServers(t)
	server, err := exec.LookPath("mariadbd")
	if err != nil {
		server = "/usr/sbin/mariadbd"
	}
	install, ierr := exec.LookPath("mariadb-install-db")
	if _, serr := os.Stat(server); serr != nil || ierr != nil {
		Unavailable(t, "mariadbd and mariadb-install-db are needed for a private MariaDB (Debian's mariadb-server)")
	}
	dir := t.TempDir()
	// What mariadb-install-db and mariadbd share: no option files, the data
	// directory, and root's own user when the tests run as root.
	base := []string{"--no-defaults", "--datadir=" + filepath.Join(dir, "data")}
	if os.Geteuid() == 0 {
		base = append(base, "--user=root")
	}
	installArgs := append(slices.Clone(base), "--auth-root-authentication-method=normal", "--skip-test-db")
	if out, err := exec.Command(install, installArgs...).CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	m := &MariaDB{t: t, port: testkit.FreePort(t), logFile: filepath.Join(dir, "mariadbd.log"), server: server}
	m.args = append(slices.Clone(base), "--port="+strconv.Itoa(m.port),
		"--bind-address=127.0.0.1", "--socket="+filepath.Join(dir, "mysqld.sock"), "--pid-file="+filepath.Join(dir, "mysqld.pid"),
		"--log-error="+m.logFile, "--innodb-buffer-pool-size=64M", "--skip-log-bin", "--max-connections=500")
	m.Start()
	t.Cleanup(func() { m.kill() })
	return m
}

// DSN is a go-sql-driver DSN for database db on this server (created on first use).
func (m *MariaDB) DSN(db string) string {
	m.t.Helper()
	admin, err := sql.Open("mysql", fmt.Sprintf("root:@tcp(127.0.0.1:%d)/", m.port))
	if err != nil {
		m.t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE DATABASE IF NOT EXISTS `" + db + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		m.t.Fatalf("create database %s: %v", db, err)
	}
	return fmt.Sprintf("root:@tcp(127.0.0.1:%d)/%s", m.port, db)
}

// Start starts the server (again, after Kill, on the same data and port)
// and waits until it answers.
func (m *MariaDB) Start() {
	m.t.Helper()
	m.mu.Lock()
	cmd := exec.Command(m.server, m.args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		m.mu.Unlock()
		m.t.Fatalf("start mariadbd: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	m.cmd, m.exited = cmd, exited
	m.mu.Unlock()
	Eventually(m.t, "private MariaDB answers", time.Minute, func() error {
		select {
		case <-exited:
			m.t.Fatalf("mariadbd exited at start:\n%s", m.log())
		default:
		}
		db, err := sql.Open("mysql", fmt.Sprintf("root:@tcp(127.0.0.1:%d)/", m.port))
		if err != nil {
			return err
		}
		defer db.Close()
		return db.Ping()
	})
}

// Kill kills the server at once (SIGKILL), as a crash or a failover does,
// and waits until its port is closed.
func (m *MariaDB) Kill() {
	m.t.Helper()
	if !m.kill() {
		m.t.Fatal("mariadbd did not die within 30s of SIGKILL")
	}
}

// kill sends SIGKILL to the server's process group and waits up to 30 s for
// it to exit; it reports false when it did not. A server not running is
// left alone.
func (m *MariaDB) kill() bool {
	m.mu.Lock()
	cmd, exited := m.cmd, m.exited
	m.cmd = nil
	m.mu.Unlock()
	if cmd == nil {
		return true
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-exited:
		return true
	case <-time.After(30 * time.Second):
		return false
	}
}

// log is the end of the server's error log, for failures.
func (m *MariaDB) log() string {
	b, _ := os.ReadFile(m.logFile)
	s := string(b)
	if lines := strings.Split(s, "\n"); len(lines) > 30 {
		s = strings.Join(lines[len(lines)-30:], "\n")
	}
	return s
}

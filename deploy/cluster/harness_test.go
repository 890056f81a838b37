//go:build cluster

package cluster_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"gorm.io/gorm"

	"github.com/erpbridge/erpbridge/codec"
	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/erp/erpsim"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/store"
	"github.com/erpbridge/erpbridge/temporalclient"
	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/vendors/registry"
)

const (
	autoSecret = "drill-autox3-secret"
	fbtToken   = "drill-fenbeitong-token"
	erpToken   = "drill-erp-token"
	// upTimeout covers a first `make temporal-server` (CI builds it before).
	upTimeout = 15 * time.Minute
)

// cluster is one running cluster.sh cluster with what the drills need to
// drive it from outside: the API replicas' URLs, the ERP simulator, the
// erpbridge database and a Temporal client over mTLS.
type cluster struct {
	t      *testing.T
	root   string
	dir    string
	env    []string
	base   int
	apis   []string
	erpURL string
	dsn    string
	db     *gorm.DB
	c      client.Client
	reg    *vendors.Registry
	cfg    config.Config // what the erpbridge processes run with
}

// startCluster runs `cluster.sh up` with databases and ports of its own and
// tears it down (databases dropped) when the test ends; if the test binary
// dies instead, the script's watchdog does that.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	root := testenv.Root(t)
	for _, need := range []struct{ what, addr string }{{"PostgreSQL", pgAddr()}, {"MariaDB", mysqlAddr()}} {
		conn, err := net.DialTimeout("tcp", need.addr, 3*time.Second)
		if err != nil {
			testenv.Unavailable(t, "%s at %s: %v", need.what, need.addr, err)
		}
		conn.Close()
	}
	for _, tool := range []string{"mysql", "openssl", "curl", "setsid"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Unavailable(t, "%s is not installed: %v", tool, err)
		}
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	dir, err := os.MkdirTemp("", "erpbridge-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	base := freePortBase(t, 20)
	name := "erpbridge_drill_" + testkit.RandomHex(4)
	c := &cluster{t: t, root: root, dir: dir, base: base, erpURL: fmt.Sprintf("http://127.0.0.1:%d", base+9)}
	c.env = append(os.Environ(),
		"CLUSTER_DIR="+dir, "CLUSTER_NAME="+name, "CLUSTER_PORT_BASE="+strconv.Itoa(base), "CLUSTER_TLS=1",
		"CLUSTER_OWNER_PID="+strconv.Itoa(os.Getpid()),
		"AUTOX3_APP_SECRET="+autoSecret, "FENBEITONG_TOKEN="+fbtToken, "ERP_TOKEN="+erpToken,
		"PAYLOAD_KEY="+base64.StdEncoding.EncodeToString(key),
		// Short ERP backoff, as in the integration tests; quick graceful stops.
		"ERP_RETRY_INITIAL=200ms", "ERP_RETRY_MAX_INTERVAL=2s", "SHUTDOWN_TIMEOUT=15s")
	for i := range 2 {
		c.apis = append(c.apis, fmt.Sprintf("http://127.0.0.1:%d", base+10+i))
	}

	t.Cleanup(func() {
		if t.Failed() {
			c.keepLogs()
		}
		if out, err := c.script(5*time.Minute, "down", "--purge"); err != nil {
			t.Errorf("cluster.sh down: %v\n%s", err, out)
		}
		os.RemoveAll(dir)
	})
	start := time.Now()
	if out, err := c.script(upTimeout, "up"); err != nil {
		c.keepLogs()
		t.Fatalf("cluster.sh up: %v\n%s", err, out)
	}
	t.Logf("cluster up in %s (ports %d-%d, databases %s_*)", time.Since(start).Round(time.Second), base, base+19, name)

	c.dsn = fmt.Sprintf("root:@tcp(%s)/%s", mysqlAddr(), name)
	if c.db, err = store.Open(c.dsn, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqlDB, _ := c.db.DB(); sqlDB.Close() })

	tls := filepath.Join(dir, "tls")
	c.cfg = config.Default()
	c.cfg.Temporal.Address = fmt.Sprintf("127.0.0.1:%d", base)
	c.cfg.Temporal.TLSCert, c.cfg.Temporal.TLSKey = filepath.Join(tls, "erpbridge.pem"), filepath.Join(tls, "erpbridge.key")
	c.cfg.Temporal.TLSCA, c.cfg.Temporal.TLSServerName = filepath.Join(tls, "ca.pem"), "frontend.cluster.local"
	c.cfg.Vendors.AutoX3AppSecret, c.cfg.Vendors.FenbeitongToken = autoSecret, fbtToken
	keyring, err := codec.ParseKeyring(base64.StdEncoding.EncodeToString(key), "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if c.c, err = temporalclient.Dial(ctx, c.cfg, temporalclient.DialOptions{DataConverter: codec.DataConverter(keyring)}); err != nil {
		t.Fatalf("dial the cluster over mTLS: %v", err)
	}
	t.Cleanup(c.c.Close)
	if c.reg, err = registry.New(c.cfg); err != nil {
		t.Fatal(err)
	}
	return c
}

// script runs cluster.sh with the cluster's environment.
func (c *cluster) script(timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(c.root, "deploy/cluster/cluster.sh"), args...)
	cmd.Env = c.env
	cmd.Dir = c.root
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// must runs cluster.sh and fails the test when it fails.
func (c *cluster) must(args ...string) {
	c.t.Helper()
	if out, err := c.script(3*time.Minute, args...); err != nil {
		c.t.Fatalf("cluster.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// erpbridge runs a one-shot erpbridge command with the cluster's environment
// (the one `cluster.sh env` prints).
func (c *cluster) erpbridge(args ...string) (stdout, stderr string, err error) {
	envOut, err := c.script(time.Minute, "env")
	if err != nil {
		return "", envOut, err
	}
	script := envOut + "\nexec \"$ERPBRIDGE\" \"$@\"\n"
	cmd := exec.Command("bash", append([]string{"-c", script, "erpbridge"}, args...)...)
	cmd.Env = append(c.env, "ERPBRIDGE="+filepath.Join(c.dir, "bin/erpbridge"))
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// keepLogs copies the cluster's logs to artifacts/cluster/ for a failed run.
func (c *cluster) keepLogs() {
	dst := filepath.Join(c.root, "artifacts/cluster/logs")
	_ = os.MkdirAll(dst, 0o755)
	files, _ := filepath.Glob(filepath.Join(c.dir, "logs/*.log"))
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil {
			_ = os.WriteFile(filepath.Join(dst, filepath.Base(f)), b, 0o644)
		}
	}
	c.t.Logf("cluster logs kept in %s", dst)
}

// count counts workflows matching a visibility query.
func (c *cluster) count(query string) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: "default", Query: query})
	if err != nil {
		return 0, err
	}
	return resp.GetCount(), nil
}

// erpRecords reads every record the ERP simulator accepted, in acceptance order.
func (c *cluster) erpRecords() ([]erpsim.Entry, error) {
	resp, err := http.Get(c.erpURL + "/records")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct{ Records []erpsim.Entry }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, err
	}
	return out.Records, nil
}

// erpFaults replaces the ERP simulator's faults.
func (c *cluster) erpFaults(f erpsim.Faults) {
	c.t.Helper()
	b, _ := json.Marshal(f)
	req, _ := http.NewRequest(http.MethodPut, c.erpURL+"/faults", bytes.NewReader(b))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("PUT /faults: %d %s", resp.StatusCode, body)
	}
}

// procStat is one of the cluster's processes as /proc shows it.
type procStat struct {
	name, pid string
	rssMiB    int
	cpu       time.Duration // user and system time so far
}

// procStats reads the cluster's running processes.
func (c *cluster) procStats() []procStat {
	var out []procStat
	pids, _ := filepath.Glob(filepath.Join(c.dir, "pids/*"))
	for _, f := range pids {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		p := procStat{name: filepath.Base(f), pid: strings.TrimSpace(string(b))}
		stat, err := os.ReadFile("/proc/" + p.pid + "/stat")
		if err != nil {
			continue
		}
		// The fields after the command name, which is in parentheses: utime
		// is the 12th, stime the 13th, rss (in pages) the 22nd.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 22 {
			continue
		}
		user, _ := strconv.ParseInt(fields[11], 10, 64)
		sys, _ := strconv.ParseInt(fields[12], 10, 64)
		pages, _ := strconv.ParseInt(fields[21], 10, 64)
		p.cpu = time.Duration(user+sys) * time.Second / clockTicks
		p.rssMiB = int(pages * int64(os.Getpagesize()) >> 20)
		out = append(out, p)
	}
	return out
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on Linux.
const clockTicks = 100

// cpuTimes is the CPU time each running process of the cluster used so far, by pid.
func (c *cluster) cpuTimes() map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, p := range c.procStats() {
		out[p.pid] = p.cpu
	}
	return out
}

// cpuSince is the CPU time the cluster's processes used since the snapshot
// before; a process replaced meanwhile counts from its restart.
func (c *cluster) cpuSince(before map[string]time.Duration) time.Duration {
	var total time.Duration
	for pid, now := range c.cpuTimes() {
		total += now - before[pid]
	}
	return total
}

// eventually polls f every 250 ms until it returns nil or timeout passes.
func eventually(t *testing.T, what string, timeout time.Duration, f func() error) {
	t.Helper()
	testenv.EventuallyEvery(t, what, timeout, 250*time.Millisecond, f)
}

func pgAddr() string {
	return net.JoinHostPort(envOr("PG_HOST", "127.0.0.1"), envOr("PG_PORT", "5432"))
}

func mysqlAddr() string {
	return net.JoinHostPort(envOr("CLUSTER_MYSQL_HOST", "127.0.0.1"), envOr("CLUSTER_MYSQL_PORT", "3306"))
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// freePortBase finds n consecutive free loopback ports in a random place
// between 20000 and 32767, so runs of other engineers do not collide.
// Temporal's PostgreSQL schema keeps membership ports as smallint, so they
// stay below 32768.
func freePortBase(t *testing.T, n int) int {
	t.Helper()
	for range 200 {
		var b [2]byte
		_, _ = rand.Read(b[:])
		base := 20000 + (int(b[0])<<8|int(b[1]))%(32768-20000-n)
		free := true
		for p := base; p < base+n && free; p++ {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				free = false
				continue
			}
			ln.Close()
		}
		if free {
			return base
		}
	}
	t.Fatal("no free range of ports")
	return 0
}

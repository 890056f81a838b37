package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/internal/reason"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/internal/testkit"
)

// Generous bounds: the test must also pass on a slow two-core machine.
const (
	cliTimeout      = 10 * time.Minute // a first run may build the pinned Temporal CLI
	readyTimeout    = 3 * time.Minute
	callbackTimeout = 30 * time.Second
	syncTimeout     = 2 * time.Minute
	stopTimeout     = 60 * time.Second // SIGINT to exit; dev itself allows 25 s + 10 s
	portFreeTimeout = 30 * time.Second
)

// configKeys are the environment variables erpbridge reads, and the
// Temporal CLI's. The test clears them so the stack it starts depends on
// nothing but what the test sets.
func configKeys() []string {
	return append(config.Variables(), "TEMPORAL_CLI")
}

// devStack is a running `erpbridge dev` process started by a test, with the
// addresses it was given.
type devStack struct {
	t       *testing.T
	root    string // module root
	dataDir string
	cli     string // the Temporal CLI the stack runs

	httpAddr, codecAddr, erpsimAddr, temporalAddr, fbtSimAddr string
	uiPort                                                    int

	cmd     *exec.Cmd
	out     *testkit.Buffer
	exited  chan struct{}
	waitErr error
}

// startDevStack builds erpbridge, runs `erpbridge dev` on free ports with a
// fresh DATA_DIR and returns once /readyz answers 200. The stack is stopped
// with SIGINT when the test ends, and the test checks that nothing of it is
// left running.
func startDevStack(t *testing.T) *devStack {
	t.Helper()
	testenv.RequireServers(t)
	root := testenv.Root(t)
	cli := testenv.TemporalCLI(t)
	bin := testenv.Erpbridge(t)

	ports := testkit.FreePorts(t, 6)
	s := &devStack{
		t:            t,
		root:         root,
		dataDir:      t.TempDir(),
		cli:          cli,
		httpAddr:     net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])),
		codecAddr:    net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1])),
		erpsimAddr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[2])),
		temporalAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[3])),
		uiPort:       ports[4],
		fbtSimAddr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[5])),
		out:          &testkit.Buffer{},
		exited:       make(chan struct{}),
	}
	env := withoutKeys(os.Environ(), configKeys())
	env = append(env,
		"DATA_DIR="+s.dataDir,
		"HTTP_ADDR="+s.httpAddr,
		"CODEC_ADDR="+s.codecAddr,
		"ERPSIM_ADDR="+s.erpsimAddr,
		"FENBEITONG_SIM_ADDR="+s.fbtSimAddr,
		"TEMPORAL_ADDRESS="+s.temporalAddr,
		"TEMPORAL_UI_PORT="+strconv.Itoa(s.uiPort),
		"TEMPORAL_CLI="+cli,
	)
	logFile, err := os.Create(filepath.Join(s.dataDir, "dev.out"))
	if err != nil {
		t.Fatalf("create the dev output file: %v", err)
	}
	s.cmd = exec.Command(bin, "dev")
	s.cmd.Dir = s.dataDir
	s.cmd.Env = env
	s.cmd.Stdout = io.MultiWriter(s.out, logFile)
	s.cmd.Stderr = s.cmd.Stdout
	s.cmd.WaitDelay = 5 * time.Second
	setParentDeathSignal(s.cmd)
	if err := s.cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start %s dev: %v", bin, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		logFile.Close()
		close(s.exited)
	}()
	t.Cleanup(s.stop)
	t.Logf("erpbridge dev (pid %d): API %s, codec %s, ERP simulator %s, Temporal %s, Web UI %s, DATA_DIR %s",
		s.cmd.Process.Pid, s.httpAddr, s.codecAddr, s.erpsimAddr, s.temporalAddr, s.uiURL(), s.dataDir)

	start := time.Now()
	s.eventually("GET /readyz answers 200", readyTimeout, func() error {
		resp, err := http.Get("http://" + s.httpAddr + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /readyz: %s", resp.Status)
		}
		return nil
	})
	t.Logf("the stack was ready after %s", time.Since(start).Round(time.Millisecond))
	return s
}

// uiURL is the Temporal Web UI's base address.
func (s *devStack) uiURL() string { return fmt.Sprintf("http://127.0.0.1:%d", s.uiPort) }

// eventually is testenv.Eventually that gives up at once when erpbridge dev
// has exited (its output is logged when the test ends).
func (s *devStack) eventually(what string, timeout time.Duration, check func() error) {
	s.t.Helper()
	testenv.Eventually(s.t, what, timeout, func() error {
		select {
		case <-s.exited:
			s.t.Fatalf("%s: erpbridge dev exited: %v", what, s.waitErr)
		default:
		}
		return check()
	})
}

// secret reads a generated secret from DATA_DIR/dev-secrets.env.
func (s *devStack) secret(key string) string {
	s.t.Helper()
	f, err := os.Open(filepath.Join(s.dataDir, "dev-secrets.env"))
	if err != nil {
		s.t.Fatalf("read the dev secrets: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok && k == key {
			return v
		}
	}
	if err := sc.Err(); err != nil {
		s.t.Fatalf("read the dev secrets: %v", err)
	}
	s.t.Fatalf("dev-secrets.env has no %s", key)
	return ""
}

// postAutoX3 sends an AutoX3 callback and requires the documented success
// answer: HTTP 200 with status 0.
func (s *devStack) postAutoX3(body []byte) {
	s.t.Helper()
	s.postCallback("/webhooks/autox3", "", body, "status")
}

// postFenbeitong sends a Fenbeitong push with the stack's token and
// requires the documented success answer: HTTP 200 with code 0.
func (s *devStack) postFenbeitong(body []byte) {
	s.t.Helper()
	s.postCallback("/webhooks/fenbeitong", "?token="+url.QueryEscape(s.secret("FENBEITONG_TOKEN")), body, "code")
}

// postCallback posts a vendor's JSON callback to path (query appended, not
// named in failures, as it may hold a token) and requires HTTP 200 with the
// JSON answer's member code equal to 0.
func (s *devStack) postCallback(path, query string, body []byte, code string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callbackTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+s.httpAddr+path+query, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var answer map[string]json.RawMessage
	if err := json.Unmarshal(raw, &answer); err != nil {
		s.t.Fatalf("POST %s = %d with a body that is not JSON: %q", path, resp.StatusCode, raw)
	}
	if resp.StatusCode != http.StatusOK || string(answer[code]) != "0" {
		s.t.Fatalf("POST %s = %d %s, want 200 with %s 0", path, resp.StatusCode, raw, code)
	}
}

// erpRecord is the part of an ERP simulator record the test looks at.
type erpRecord struct {
	Source     string          `json:"source"`
	Kind       string          `json:"kind"`
	ExternalID string          `json:"external_id"`
	Data       json.RawMessage `json:"data"`
}

// erpRecords lists the ERP simulator's records of an external id, oldest first.
func (s *devStack) erpRecords(externalID string) []erpRecord {
	s.t.Helper()
	recs, err := s.fetchERPRecords(externalID)
	if err != nil {
		s.t.Fatal(err)
	}
	return recs
}

// fetchERPRecords is erpRecords that returns an error when the simulator
// cannot be reached, and fails the test when it answers wrongly.
func (s *devStack) fetchERPRecords(externalID string) ([]erpRecord, error) {
	s.t.Helper()
	resp, err := http.Get("http://" + s.erpsimAddr + "/records?external_id=" + url.QueryEscape(externalID))
	if err != nil {
		return nil, fmt.Errorf("GET /records: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("GET /records answered %d", resp.StatusCode)
	}
	var list struct {
		Records []erpRecord `json:"records"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		s.t.Fatalf("decode GET /records: %v", err)
	}
	return list.Records, nil
}

// waitERPRecord waits until the ERP simulator has accepted a record of the
// given source, kind and external id.
func (s *devStack) waitERPRecord(source, kind, externalID string) {
	s.t.Helper()
	s.eventually(fmt.Sprintf("the ERP simulator receives %s %s %s", source, kind, externalID), syncTimeout, func() error {
		recs, err := s.fetchERPRecords(externalID)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if r.Source == source && r.Kind == kind && r.ExternalID == externalID {
				return nil
			}
		}
		return fmt.Errorf("%d other records", len(recs))
	})
}

// temporal runs the Temporal CLI against the stack's server.
func (s *devStack) temporal(args ...string) []byte {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args = append(args, "--address", s.temporalAddr, "--namespace", "default")
	cmd := exec.CommandContext(ctx, s.cli, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		s.t.Fatalf("temporal %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// stop interrupts the dev process as Ctrl-C would, waits for it, and checks
// that it exited cleanly and left nothing running: no listener on its ports
// and no process (the Temporal dev server) still using its data directory.
func (s *devStack) stop() {
	t := s.t
	start := time.Now()
	select {
	case <-s.exited:
		t.Errorf("erpbridge dev exited before the test ended: %v", s.waitErr)
	default:
		if err := s.cmd.Process.Signal(os.Interrupt); err != nil {
			t.Logf("interrupt erpbridge dev: %v; killing it", err)
			_ = s.cmd.Process.Kill()
		}
		select {
		case <-s.exited:
			if s.waitErr != nil {
				t.Errorf("erpbridge dev did not exit cleanly on SIGINT: %v", s.waitErr)
			}
		case <-time.After(stopTimeout):
			t.Errorf("erpbridge dev did not exit within %s of SIGINT; killing it", stopTimeout)
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	t.Logf("erpbridge dev stopped in %s", time.Since(start).Round(time.Millisecond))
	if t.Failed() {
		t.Logf("erpbridge dev output (tail):\n%s", reason.Tail([]byte(s.out.String()), 6000))
		if b, err := os.ReadFile(filepath.Join(s.dataDir, "temporal.log")); err == nil {
			t.Logf("temporal.log (tail):\n%s", reason.Tail(b, 4000))
		}
	}

	addrs := []string{s.httpAddr, s.codecAddr, s.erpsimAddr, s.fbtSimAddr, s.temporalAddr, net.JoinHostPort("127.0.0.1", strconv.Itoa(s.uiPort))}
	testenv.Eventually(t, "nothing of erpbridge dev left running", portFreeTimeout, func() error {
		var open []string
		for _, a := range addrs {
			if c, err := net.DialTimeout("tcp", a, time.Second); err == nil {
				c.Close()
				open = append(open, a)
			}
		}
		left := processesUsing(s.dataDir)
		if len(open) == 0 && len(left) == 0 {
			return nil
		}
		return fmt.Errorf("still listening on %v; processes still using the data directory: %v", open, left)
	})
}

// processesUsing lists the processes whose command line mentions dir (the
// Temporal dev server is started with its database file in DATA_DIR). It
// returns nothing where /proc does not exist.
func processesUsing(dir string) []string {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var found []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cmdline, []byte(dir)) {
			continue
		}
		// A zombie keeps its command line until reaped; it holds no port or file.
		if st, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil {
			if i := bytes.LastIndexByte(st, ')'); i >= 0 && bytes.HasPrefix(st[i+1:], []byte(" Z")) {
				continue
			}
		}
		found = append(found, fmt.Sprintf("%d: %s", pid, bytes.ReplaceAll(bytes.TrimRight(cmdline, "\x00"), []byte{0}, []byte{' '})))
	}
	return found
}

// withoutKeys returns env without the variables named in keys.
func withoutKeys(env, keys []string) []string {
	drop := make(map[string]bool, len(keys))
	for _, k := range keys {
		drop[k] = true
	}
	var out []string
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); !drop[k] {
			out = append(out, kv)
		}
	}
	return out
}

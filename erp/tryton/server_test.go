package tryton

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/internal/testenv"
)

// shared is the test binary's Tryton server, started by deploy/tryton/up.sh
// on first use and stopped by TestMain: creating its database takes seconds
// and every test can share it (each writes its own record numbers).
var shared struct {
	once sync.Once
	dir  string
	cfg  Config
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.dir != "" {
		stopServer(shared.dir)
	}
	os.Exit(code)
}

// server returns the settings of the shared Tryton server, starting it on
// first use. Under -short the test is skipped; a server that cannot be
// started is testenv.Unavailable (a failure under CI=true).
func server(t *testing.T) Config {
	t.Helper()
	testenv.RequireServers(t)
	shared.once.Do(func() {
		shared.dir, shared.cfg, shared.err = startServer()
	})
	if shared.err != nil {
		testenv.Unavailable(t, "tryton: %v", shared.err)
	}
	return shared.cfg
}

func scriptPath(name string) string {
	return filepath.Join("..", "..", "deploy", "tryton", name)
}

func startServer() (string, Config, error) {
	if _, err := exec.LookPath("trytond"); err != nil {
		return "", Config{}, fmt.Errorf("trytond not installed (apt-get install tryton-server tryton-modules-sale): %w", err)
	}
	dir, err := os.MkdirTemp("", "erpbridge-tryton-*")
	if err != nil {
		return "", Config{}, err
	}
	began := time.Now()
	cfg, _, err := runUp(dir)
	if err != nil {
		stopServer(dir)
		return "", Config{}, err
	}
	fmt.Fprintf(os.Stderr, "tryton: up.sh took %s\n", time.Since(began).Round(100*time.Millisecond))
	return dir, cfg, nil
}

// runUp runs up.sh dir and reads the settings it prints; it returns its
// standard output too.
func runUp(dir string) (Config, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, scriptPath("up.sh"), dir)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return Config{}, "", fmt.Errorf("up.sh: %v: %s", err, tail(stderr.String(), 2000))
	}
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(stdout.Bytes()))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			env[k] = v
		}
	}
	cfg := Config{
		URL:      env["TRYTON_URL"],
		Database: env["TRYTON_DATABASE"],
		User:     env["TRYTON_USER"],
		Password: env["TRYTON_PASSWORD"],
	}
	if len(env) != 4 {
		return Config{}, "", fmt.Errorf("up.sh printed %d KEY=VALUE lines, want 4", len(env))
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, "", fmt.Errorf("up.sh printed unusable settings: %w", err)
	}
	return cfg, stdout.String(), nil
}

// runDown runs down.sh dir.
func runDown(dir string) error {
	var stderr bytes.Buffer
	cmd := exec.Command(scriptPath("down.sh"), dir)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("down.sh: %v: %s", err, tail(stderr.String(), 2000))
	}
	return nil
}

func stopServer(dir string) {
	if err := runDown(dir); err != nil {
		fmt.Fprintf(os.Stderr, "tryton: %v\n", err)
	}
	_ = os.RemoveAll(dir)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// TestOutageAndRestart: while Tryton is down a send is retryable; up.sh on
// the same directory starts it again on the same URL with the same
// database and user, the same Sink goes on, and a resend finds the
// document made before the outage. A second up.sh while it runs changes
// nothing and prints the same settings.
func TestOutageAndRestart(t *testing.T) {
	cfg := server(t)
	s := newSink(t, cfg, passthrough)
	party := "AX3-CUST-O" + uniqueID()
	before := testRecord("reception_order", uniqueID(), 1, saleDoc(party, testLine{"wash", "10"}))
	during := testRecord("reception_order", uniqueID(), 1, saleDoc(party, testLine{"wash", "20"}))
	resBefore := mustSend(t, s, before)

	if err := runDown(shared.dir); err != nil {
		t.Fatal(err)
	}
	_, err := s.Send(t.Context(), during)
	var e *erp.Error
	if !errors.As(err, &e) || !e.Retryable {
		t.Fatalf("send while Tryton is down: %v, want a retryable *erp.Error", err)
	}

	began := time.Now()
	again, out, err := runUp(shared.dir)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	t.Logf("up.sh on the existing database took %s", time.Since(began).Round(10*time.Millisecond))
	shared.cfg = again
	if again != cfg {
		t.Fatalf("settings after a restart differ: URL %s -> %s (database, user or password changed: %v)",
			cfg.URL, again.URL, again.Database != cfg.Database || again.User != cfg.User || again.Password != cfg.Password)
	}
	res := mustSend(t, s, during)
	if !res.Created {
		t.Errorf("send after the outage: %+v, want created", res)
	}
	resent := mustSend(t, s, before)
	if resent.Created || resent.DocumentID != resBefore.DocumentID {
		t.Errorf("resend after the restart: %+v, want the document %s from before", resent, resBefore.DocumentID)
	}

	_, out2, err := runUp(shared.dir)
	if err != nil {
		t.Fatalf("up.sh while running: %v", err)
	}
	if out2 != out {
		t.Errorf("up.sh while running printed something else")
	}
}

// TestConcurrentSendsShareOneNewParty: records sent at once that name the
// same new party create it once; every record gets its own document (a
// retryable answer is sent again, as the record workflow would).
func TestConcurrentSendsShareOneNewParty(t *testing.T) {
	cfg := server(t)
	s := newSink(t, cfg, passthrough)
	party := "AX3-CUST-C" + uniqueID()
	const n = 6
	numbers := make([]string, n)
	var retries atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		r := testRecord("reception_order", uniqueID(), 1, saleDoc(party, testLine{"wash", "10"}))
		numbers[i] = erp.DocumentNumber(r)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for attempt := 1; ; attempt++ {
				_, err := s.Send(context.Background(), r)
				var e *erp.Error
				if err == nil {
					return
				}
				if !errors.As(err, &e) || !e.Retryable || attempt == 5 {
					t.Errorf("send %s: %v", r.Label(), err)
					return
				}
				retries.Add(1)
			}
		}()
	}
	wg.Wait()
	t.Logf("%d sends retried after a retryable answer", retries.Load())
	if got := len(read(t, s, "party.party", "code", party)); got != 1 {
		t.Errorf("%d parties with code %s, want 1", got, party)
	}
	for _, num := range numbers {
		if got := len(read(t, s, "sale.sale", "reference", num)); got != 1 {
			t.Errorf("%d sales with reference %s, want 1", got, num)
		}
	}
}

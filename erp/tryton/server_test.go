package tryton

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

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
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, scriptPath("up.sh"), dir)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	began := time.Now()
	if err := cmd.Run(); err != nil {
		stopServer(dir)
		return "", Config{}, fmt.Errorf("up.sh: %v: %s", err, tail(stderr.String(), 2000))
	}
	fmt.Fprintf(os.Stderr, "tryton: up.sh took %s\n", time.Since(began).Round(100*time.Millisecond))
	env := map[string]string{}
	sc := bufio.NewScanner(&stdout)
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
	if err := cfg.Validate(); err != nil {
		stopServer(dir)
		return "", Config{}, fmt.Errorf("up.sh printed unusable settings: %w", err)
	}
	return dir, cfg, nil
}

func stopServer(dir string) {
	cmd := exec.Command(scriptPath("down.sh"), dir)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "tryton: down.sh: %v\n", err)
	}
	_ = os.RemoveAll(dir)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

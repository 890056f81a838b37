package testenv

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
)

// TrytonSettings are the connection settings deploy/tryton/up.sh prints for
// the server it runs (TRYTON_URL, TRYTON_DATABASE, TRYTON_USER,
// TRYTON_PASSWORD).
type TrytonSettings struct {
	URL, Database, User, Password string
}

// TrytonServer is a Tryton server that deploy/tryton/up.sh runs from Dir.
type TrytonServer struct {
	Dir      string
	Settings TrytonSettings
}

// sharedTryton is the test binary's Tryton server: creating its database
// takes seconds and every test of a package can share it (each writes its
// own record numbers).
var sharedTryton struct {
	once sync.Once
	srv  *TrytonServer
	err  error
}

// Tryton returns the test binary's Tryton server, started by up.sh in a
// temporary directory on first use and stopped by Main. Under -short the
// test is skipped; a server that cannot be started (trytond not installed,
// up.sh failing) is Unavailable.
func Tryton(t testing.TB) *TrytonServer {
	t.Helper()
	RequireServers(t)
	sharedTryton.once.Do(func() { sharedTryton.srv, sharedTryton.err = startTryton() })
	if sharedTryton.err != nil {
		Unavailable(t, "tryton: %v", sharedTryton.err)
	}
	return sharedTryton.srv
}

func startTryton() (*TrytonServer, error) {
	if _, err := exec.LookPath("trytond"); err != nil {
		return nil, fmt.Errorf("trytond not installed (apt-get install tryton-server tryton-modules-sale): %w", err)
	}
	dir, err := os.MkdirTemp("", "erpbridge-tryton-*")
	if err != nil {
		return nil, err
	}
	began := time.Now()
	settings, _, err := UpTryton(dir)
	if err != nil {
		stopTryton(dir)
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "tryton: up.sh took %s\n", time.Since(began).Round(100*time.Millisecond))
	return &TrytonServer{Dir: dir, Settings: settings}, nil
}

// UpTryton runs deploy/tryton/up.sh dir, which starts Tryton there (creating
// its database the first time) or leaves the one running alone, and returns
// the settings it printed and its whole standard output.
func UpTryton(dir string) (TrytonSettings, string, error) {
	script, err := trytonScript("up.sh")
	if err != nil {
		return TrytonSettings{}, "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, script, dir)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return TrytonSettings{}, "", fmt.Errorf("up.sh: %v: %s", err, lastBytes(stderr.String(), 2000))
	}
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(stdout.Bytes()))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			env[k] = v
		}
	}
	s := TrytonSettings{URL: env["TRYTON_URL"], Database: env["TRYTON_DATABASE"], User: env["TRYTON_USER"], Password: env["TRYTON_PASSWORD"]}
	if len(env) != 4 || s.URL == "" || s.Database == "" || s.User == "" || s.Password == "" {
		return TrytonSettings{}, "", fmt.Errorf("up.sh printed %d KEY=VALUE lines, want TRYTON_URL, TRYTON_DATABASE, TRYTON_USER and TRYTON_PASSWORD", len(env))
	}
	return s, stdout.String(), nil
}

// DownTryton runs deploy/tryton/down.sh dir, which stops the Tryton that
// up.sh started there.
func DownTryton(dir string) error {
	script, err := trytonScript("down.sh")
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	cmd := exec.Command(script, dir)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("down.sh: %v: %s", err, lastBytes(stderr.String(), 2000))
	}
	return nil
}

// stopSharedTryton stops the test binary's Tryton server, if one was started.
func stopSharedTryton() {
	if sharedTryton.srv != nil {
		stopTryton(sharedTryton.srv.Dir)
	}
}

func stopTryton(dir string) {
	if err := DownTryton(dir); err != nil {
		fmt.Fprintf(os.Stderr, "tryton: %v\n", err)
	}
	_ = os.RemoveAll(dir)
}

// trytonScript is the path of a script of deploy/tryton.
func trytonScript(name string) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", fmt.Errorf("deploy/tryton/%s: %w", name, err)
	}
	return filepath.Join(root, "deploy", "tryton", name), nil
}

// lastBytes is the end of s, at most n bytes of it.
func lastBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

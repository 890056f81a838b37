package testenv

import (
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

// buildTimeout bounds a build of erpbridge by Erpbridge: generous, so that a
// slow two-core machine passes.
const buildTimeout = 5 * time.Minute

// builds are the erpbridge binaries the test binary built, by their go build
// flags: a build takes a while and every test of the package can run the
// same binary.
var builds struct {
	mu      sync.Mutex
	byFlags map[string]build
	dirs    []string // removed by Main
}

type build struct {
	path string
	err  error
}

// Erpbridge returns the erpbridge binary built from ./cmd/erpbridge with
// flags (such as -ldflags) passed to go build. It is built on first use,
// within five minutes, and shared by every test of the package that asks for
// the same flags; the package's TestMain calls Main, which removes it. A
// failed build fails the test.
func Erpbridge(t testing.TB, flags ...string) string {
	t.Helper()
	builds.mu.Lock()
	defer builds.mu.Unlock()
	key := strings.Join(flags, "\x00")
	b, ok := builds.byFlags[key]
	if !ok {
		start := time.Now()
		b = buildForTests(flags)
		if b.err == nil {
			t.Logf("built erpbridge in %s", time.Since(start).Round(time.Millisecond))
		}
		if builds.byFlags == nil {
			builds.byFlags = map[string]build{}
		}
		builds.byFlags[key] = b
	}
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

func buildForTests(flags []string) build {
	dir, err := os.MkdirTemp("", "erpbridge-bin-")
	if err != nil {
		return build{err: err}
	}
	builds.dirs = append(builds.dirs, dir)
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	path, err := BuildErpbridge(ctx, dir, flags...)
	return build{path: path, err: err}
}

// removeBuilds removes the binaries Erpbridge built.
func removeBuilds() {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	for _, dir := range builds.dirs {
		_ = os.RemoveAll(dir)
	}
	builds.byFlags, builds.dirs = nil, nil
}

// BuildErpbridge builds ./cmd/erpbridge of the module root into dir with
// flags passed to go build, and returns the binary's path; ctx bounds the
// build, and the error carries what go build printed. Tests call Erpbridge;
// this is for programs that run the binary outside a test (the end-to-end
// benchmark).
func BuildErpbridge(ctx context.Context, dir string, flags ...string) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command is needed to build erpbridge: %w", err)
	}
	bin := filepath.Join(dir, "erpbridge")
	args := append(append([]string{"build"}, flags...), "-o", bin, "./cmd/erpbridge")
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/erpbridge: %v\n%s", err, out)
	}
	return bin, nil
}

package devstack

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/internal/reason"
)

// temporalCLIMainModule is the module whose build information marks a CLI
// built with go install.
const temporalCLIMainModule = "github.com/temporalio/cli"

// temporalCLIVersionVar is the linker symbol holding the version the CLI
// reports; go install leaves it at "0.0.0-DEV" unless -ldflags sets it.
const temporalCLIVersionVar = "github.com/temporalio/cli/temporalcli.Version"

// FindOrInstallTemporalCLI returns the path of a Temporal CLI of version
// TemporalCLIVersion. It looks, in order, at $TEMPORAL_CLI, <binDir>/temporal,
// temporal on PATH and the go install directory ($GOBIN, $(go env GOPATH)/bin);
// when none is the pinned version it builds one into binDir with go install,
// writing progress lines to log (which may be nil). Concurrent callers sharing
// binDir build it once. (The SDK's testsuite.CachedDownload fetches releases
// from temporal.download instead; building through the Go module proxy also
// works on machines that can reach nothing else.)
func FindOrInstallTemporalCLI(ctx context.Context, binDir string, log io.Writer) (string, error) {
	if log == nil {
		log = io.Discard
	}
	if binDir == "" {
		return "", errors.New("find the Temporal CLI: binDir is empty")
	}
	abs, err := filepath.Abs(binDir)
	if err != nil {
		return "", fmt.Errorf("find the Temporal CLI: resolve bin directory %s: %w", binDir, err)
	}
	binDir = abs
	target := filepath.Join(binDir, exeName("temporal"))

	var rejected []string
	try := func(path, source string) bool {
		if path == "" {
			return false
		}
		if err := checkTemporalCLI(ctx, path); err != nil {
			rejected = append(rejected, fmt.Sprintf("%s (%s): %v", path, source, err))
			return false
		}
		return true
	}

	if p := os.Getenv("TEMPORAL_CLI"); p != "" {
		if try(p, "$TEMPORAL_CLI") {
			return p, nil
		}
		fmt.Fprintf(log, "ignoring TEMPORAL_CLI=%s: %s\n", p, rejected[len(rejected)-1])
	}
	if try(target, "bin directory") {
		return target, nil
	}
	if p, err := exec.LookPath("temporal"); err == nil && try(p, "PATH") {
		return p, nil
	}
	goCmd, goErr := exec.LookPath("go")
	if goErr == nil {
		for _, dir := range goInstallDirs(ctx, goCmd) {
			if p := filepath.Join(dir, exeName("temporal")); try(p, "go install directory") {
				return p, nil
			}
		}
	}
	if goErr != nil {
		return "", fmt.Errorf("the Temporal CLI v%s was not found (%s) and cannot be built: the go command is not on PATH; install Go or set TEMPORAL_CLI to a temporal v%s binary",
			TemporalCLIVersion, describeRejected(rejected), TemporalCLIVersion)
	}
	if err := installTemporalCLI(ctx, goCmd, binDir, target, log); err != nil {
		return "", err
	}
	if err := checkTemporalCLI(ctx, target); err != nil {
		return "", fmt.Errorf("the freshly built Temporal CLI at %s is unusable: %w", target, err)
	}
	return target, nil
}

// checkTemporalCLI runs `path --version` and accepts the binary when it reports
// the pinned version or, for a go install build (which reports 0.0.0-DEV), when
// its build information names the pinned module version.
func checkTemporalCLI(ctx context.Context, path string) error {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return errors.New("not found")
		}
		return err
	}
	if st.IsDir() {
		return errors.New("is a directory")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").CombinedOutput()
	if err != nil {
		return fmt.Errorf("temporal --version: %w", err)
	}
	if reportsVersion(string(out), TemporalCLIVersion) {
		return nil
	}
	if info, err := buildinfo.ReadFile(path); err == nil &&
		info.Main.Path == temporalCLIMainModule && info.Main.Version == "v"+TemporalCLIVersion {
		return nil
	}
	return fmt.Errorf("version is %q, want %s", strings.TrimSpace(string(out)), TemporalCLIVersion)
}

// goInstallDirs lists where go install puts binaries: $GOBIN, else each
// GOPATH entry's bin directory.
func goInstallDirs(ctx context.Context, goCmd string) []string {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, goCmd, "env", "GOBIN", "GOPATH").Output()
	if err != nil {
		return nil
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	var dirs []string
	if len(lines) > 0 && strings.TrimSpace(lines[0]) != "" {
		dirs = append(dirs, strings.TrimSpace(lines[0]))
	}
	if len(lines) > 1 {
		for _, p := range filepath.SplitList(strings.TrimSpace(lines[1])) {
			if p != "" {
				dirs = append(dirs, filepath.Join(p, "bin"))
			}
		}
	}
	return dirs
}

// installTemporalCLI builds the pinned CLI into a private directory under
// binDir and renames it to target, under a lock so parallel test binaries
// build it once and never see a half-written file.
func installTemporalCLI(ctx context.Context, goCmd, binDir, target string, log io.Writer) error {
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return fmt.Errorf("install the Temporal CLI: create %s: %w", binDir, err)
	}
	unlock, err := lockFile(ctx, filepath.Join(binDir, ".temporal-install.lock"))
	if err != nil {
		return fmt.Errorf("install the Temporal CLI: %w", err)
	}
	defer unlock()
	// Another process may have finished the build while this one waited.
	if checkTemporalCLI(ctx, target) == nil {
		return nil
	}

	tmp, err := os.MkdirTemp(binDir, ".temporal-install-")
	if err != nil {
		return fmt.Errorf("install the Temporal CLI: %w", err)
	}
	defer os.RemoveAll(tmp)

	fmt.Fprintf(log, "building the Temporal CLI v%s (first time only, about 3-4 minutes)...\n", TemporalCLIVersion)
	start := time.Now()
	pkg := TemporalCLIModule + "@v" + TemporalCLIVersion
	cmd := exec.CommandContext(ctx, goCmd, "install",
		"-ldflags=-X="+temporalCLIVersionVar+"="+TemporalCLIVersion, pkg)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOWORK=off")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out

	stop := make(chan struct{})
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		tick := time.NewTicker(30 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				fmt.Fprintf(log, "  still building the Temporal CLI (%s so far)...\n", time.Since(start).Round(time.Second))
			}
		}
	}()
	err = cmd.Run()
	close(stop)
	<-progressDone
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("go install %s: %w", pkg, ctx.Err())
		}
		return fmt.Errorf("go install %s: %w\n%s", pkg, err, reason.Tail(out.Bytes(), 4000))
	}
	built := filepath.Join(tmp, exeName("temporal"))
	if err := os.Rename(built, target); err != nil {
		return fmt.Errorf("install the Temporal CLI: move it to %s: %w", target, err)
	}
	fmt.Fprintf(log, "built the Temporal CLI v%s at %s in %s\n", TemporalCLIVersion, target, time.Since(start).Round(time.Second))
	return nil
}

// reportsVersion reports whether out names version v as a whole word, so that
// 1.5.1 does not match 1.5.10 or 11.5.1.
func reportsVersion(out, v string) bool {
	isVersionChar := func(c byte) bool { return c == '.' || (c >= '0' && c <= '9') }
	for from := 0; ; {
		i := strings.Index(out[from:], v)
		if i < 0 {
			return false
		}
		start, end := from+i, from+i+len(v)
		if (start == 0 || !isVersionChar(out[start-1])) && (end == len(out) || !isVersionChar(out[end])) {
			return true
		}
		from = start + 1
	}
}

func describeRejected(rejected []string) string {
	if len(rejected) == 0 {
		return "nothing to look at"
	}
	return "looked at " + strings.Join(rejected, "; ")
}

func exeName(name string) string {
	if runtime.GOOS == "windows" {
		return name + ".exe"
	}
	return name
}

package app

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestVersionIsStamped(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	out, err := exec.Command(buildBinary(t), "version").CombinedOutput()
	if err != nil {
		t.Fatalf("version: %v\n%s", err, out)
	}
	for _, want := range []string{"erpbridge " + stampedVersion + "\n", "go          " + runtime.Version(), "temporal    sdk v"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("version output lacks %q:\n%s", want, out)
		}
	}
}

func TestHealthcheck(t *testing.T) {
	var status int
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"status":"x"}`)
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().(*net.TCPAddr)

	status = http.StatusOK
	if code, out := runMain(t, nil, "healthcheck", srv.URL+"/healthz"); code != 0 || !strings.Contains(out, "200 OK") {
		t.Fatalf("healthy: exit %d %q", code, out)
	}
	status = http.StatusServiceUnavailable
	if code, out := runMain(t, nil, "healthcheck", srv.URL+"/readyz"); code != 1 || !strings.Contains(out, "503") {
		t.Fatalf("unready: exit %d %q", code, out)
	}
	// A path goes to HTTP_ADDR on this machine; no argument means /readyz.
	status = http.StatusOK
	vars := map[string]string{"HTTP_ADDR": fmt.Sprintf(":%d", addr.Port)}
	if code, out := runMain(t, vars, "healthcheck"); code != 0 {
		t.Fatalf("default target: exit %d %q", code, out)
	}
	if code, out := runMain(t, vars, "healthcheck", "/healthz"); code != 0 {
		t.Fatalf("path target: exit %d %q", code, out)
	}
	// With ADMIN_ADDR, /readyz lives there.
	if code, out := runMain(t, map[string]string{"HTTP_ADDR": "127.0.0.1:1", "ADMIN_ADDR": fmt.Sprintf("127.0.0.1:%d", addr.Port)}, "healthcheck"); code != 0 {
		t.Fatalf("admin address: exit %d %q", code, out)
	}
	mu.Lock()
	got := strings.Join(paths, ",")
	mu.Unlock()
	if got != "/healthz,/readyz,/readyz,/healthz,/readyz" {
		t.Errorf("paths asked: %s", got)
	}
	srv.Close()
	if code, _ := runMain(t, vars, "healthcheck"); code != 1 {
		t.Fatalf("nothing listening: exit %d", code)
	}
}

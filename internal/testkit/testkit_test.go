package testkit_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/internal/testkit"
)

func TestBufferTakesConcurrentWriters(t *testing.T) {
	t.Parallel()
	var b testkit.Buffer
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() { fmt.Fprintf(&b, "%02d\n", i) })
	}
	wg.Wait()
	if got := len(b.String()); got != 50*3 {
		t.Fatalf("buffer holds %d bytes, want %d", got, 50*3)
	}
}

func TestClockAdvances(t *testing.T) {
	t.Parallel()
	start := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	c := testkit.NewClock(start)
	c.Advance(90 * time.Second)
	if got := c.Now(); !got.Equal(start.Add(90 * time.Second)) {
		t.Fatalf("Now = %s after Advance(90s) from %s", got, start)
	}
}

func TestFreeAddrAndPortCanBeListenedOn(t *testing.T) {
	t.Parallel()
	port := testkit.FreePort(t)
	if port <= 0 {
		t.Fatalf("FreePort = %d", port)
	}
	for _, addr := range []string{testkit.FreeAddr(t), net.JoinHostPort("127.0.0.1", strconv.Itoa(port))} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("listen on %s: %v", addr, err)
		}
		ln.Close()
	}
}

func TestFreePortsAreDistinctAndCanBeListenedOn(t *testing.T) {
	t.Parallel()
	ports := testkit.FreePorts(t, 6)
	if len(ports) != 6 {
		t.Fatalf("FreePorts(6) = %v", ports)
	}
	seen := map[int]bool{}
	for _, port := range ports {
		if port <= 0 || seen[port] {
			t.Fatalf("FreePorts(6) = %v: each must be a port of its own", ports)
		}
		seen[port] = true
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			t.Fatalf("listen on port %d: %v", port, err)
		}
		ln.Close()
	}
}

func TestRandomHex(t *testing.T) {
	t.Parallel()
	a, b := testkit.RandomHex(6), testkit.RandomHex(6)
	if !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(a) {
		t.Fatalf("RandomHex(6) = %q, want 12 hex digits", a)
	}
	if a == b {
		t.Fatalf("RandomHex(6) gave %q twice", a)
	}
}

func TestSilentAddrTakesConnectionsAndNeverAnswers(t *testing.T) {
	t.Parallel()
	conn, err := net.Dial("tcp", testkit.SilentAddr(t))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatalf("write: %v", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	var ne net.Error
	if n, err := conn.Read(make([]byte, 1)); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read %d bytes (%v), want a timeout", n, err)
	}
}

func TestReadFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "f.json")
	if err := os.WriteFile(path, []byte(`{"a":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := string(testkit.ReadFile(t, path)); got != `{"a":1}` {
		t.Fatalf("ReadFile = %q", got)
	}
}

func TestJSONObjectAndLookup(t *testing.T) {
	t.Parallel()
	v := struct {
		Items []struct {
			Price string `json:"price"`
		} `json:"items"`
	}{Items: []struct {
		Price string `json:"price"`
	}{{Price: "1.10"}}}
	m := testkit.JSONObject(t, v)
	if got := testkit.At(t, m, "items", 0, "price"); got != "1.10" {
		t.Fatalf("items[0].price = %#v", got)
	}
	if got, ok := testkit.Lookup(m, "missing"); !ok || got != nil {
		t.Fatalf("a missing member = %#v, %v; want nil, true", got, ok)
	}
	for _, path := range [][]any{{"items", 1}, {"items", 0, "price", "x"}, {"items", "price"}, {int64(0)}} {
		if got, ok := testkit.Lookup(m, path...); ok {
			t.Errorf("Lookup %v = %#v, want no value", path, got)
		}
	}
	if got := testkit.JSON(t, map[string]int{"b": 2}); got != `{"b":2}` {
		t.Fatalf("JSON = %s", got)
	}
}

func TestBenchBodyRunsOnTheBody(t *testing.T) {
	t.Parallel()
	var calls int
	r := testing.Benchmark(func(b *testing.B) {
		testkit.BenchBody(b, []byte("abcd"), func(body []byte) error {
			if string(body) != "abcd" {
				return fmt.Errorf("body %q", body)
			}
			calls++
			return nil
		})
	})
	if r.N == 0 || calls < r.N || r.Bytes != 4 {
		t.Fatalf("benchmark ran %d times with %d calls, %d bytes per op", r.N, calls, r.Bytes)
	}
}

func TestMakeVariable(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "Makefile")
	if err := os.WriteFile(path, []byte("# TOOL := no\nTOOL_PKG := example.com/x\nTOOL     := 1.2.3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := testkit.MakeVariable(t, path, "TOOL"); got != "1.2.3" {
		t.Fatalf("TOOL = %q, want 1.2.3", got)
	}
}

// Package testkit holds the small helpers tests across the module share that
// need nothing but the standard library: a buffer safe for concurrent
// writers, a settable clock, a free loopback address, port or ports, or
// listener, or one that takes connections and never answers, random hex for
// names of a test's own, reading a fixture, looking into JSON as a reader of
// it (an ERP) sees it, and a client that stops part way through a request,
// for the tests of a server's time limits. Any package's
// tests may import it, its own internal tests included; helpers that start
// servers live in internal/testenv.
package testkit

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Buffer is a bytes.Buffer safe for concurrent writers: the logger of a live
// server, the output of a process.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Clock is a settable clock, safe for concurrent use, that code under test
// reads instead of time.Now.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// BenchBody runs f on body once per iteration of b, reporting bytes per
// operation and allocations; an error from f fails the benchmark.
func BenchBody(b *testing.B, body []byte, f func(body []byte) error) {
	b.Helper()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := f(body); err != nil {
			b.Fatal(err)
		}
	}
}

// HTTPServer serves h on a loopback httptest server that is closed when
// the test ends.
func HTTPServer(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// FreeAddr is a loopback address (host:port) whose port was free a moment
// ago: for a server the test starts by other means than a listener it
// hands over, or for a connection that must be refused.
func FreeAddr(t testing.TB) string {
	t.Helper()
	addr, err := FindFreeAddr()
	if err != nil {
		t.Fatalf("listen on a free loopback port: %v", err)
	}
	return addr
}

// FindFreeAddr is FreeAddr for a program, which has no test to fail: it
// returns the error that kept it from listening.
func FindFreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// FreePort is the port of a FreeAddr, for a server that takes its port
// apart from its host.
func FreePort(t testing.TB) int {
	t.Helper()
	return FreePorts(t, 1)[0]
}

// FreePorts is n distinct loopback ports that were free a moment ago, for a
// process that is given several: each is held until all are found, so none
// comes twice.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	lns := make([]net.Listener, n)
	ports := make([]int, n)
	for i := range lns {
		lns[i] = Listen(t)
		ports[i] = lns[i].Addr().(*net.TCPAddr).Port
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

// Listen is a listener on a free loopback port, closed when the test ends
// unless it was closed before.
func Listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on a free loopback port: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// SilentAddr is the address of a loopback listener that takes connections
// and never answers: a frozen server, or a proxy in front of a dead one. The
// listener and the connections it took close when the test ends, which ends
// the calls still waiting on them.
func SilentAddr(t testing.TB) string {
	t.Helper()
	ln := Listen(t)
	var mu sync.Mutex
	var held []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	return ln.Addr().String()
}

// RandomHex is n random bytes in hex (2n digits): a suffix that keeps the
// names a test gives its databases, task queues and workflows its own.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ReadFile returns the contents of a fixture, failing the test when it
// cannot be read.
func ReadFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return b
}

// Replace returns body with the first old replaced by new, failing the test
// when old is not there: a variant of a fixture.
func Replace(t testing.TB, body []byte, old, new string) []byte {
	t.Helper()
	if !strings.Contains(string(body), old) {
		t.Fatalf("replace: %q not in body", old)
	}
	return []byte(strings.Replace(string(body), old, new, 1))
}

// MakeVariable returns the value a Makefile assigns to name with := (the
// first such line), failing the test when the file cannot be read or does
// not assign it.
func MakeVariable(t testing.TB, makefile, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s*:=\s*(\S+)`).FindSubmatch(ReadFile(t, makefile))
	if m == nil {
		t.Fatalf("%s does not set %s", makefile, name)
	}
	return string(m[1])
}

// JSON is v marshalled, failing the test when it does not marshal.
func JSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %T: %v", v, err)
	}
	return string(b)
}

// JSONObject marshals v and decodes it back generically, as a reader of the
// JSON sees it; it fails the test unless v is a JSON object.
func JSONObject(t testing.TB, v any) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(JSON(t, v)), &m); err != nil {
		t.Fatalf("%T is not a JSON object: %v", v, err)
	}
	return m
}

// Lookup returns the value at path in decoded JSON: a string steps into an
// object's member, an int into an array's element. It reports false when a
// step finds no object or no such element; a missing member is nil.
func Lookup(v any, path ...any) (any, bool) {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k < 0 || k >= len(a) {
				return nil, false
			}
			v = a[k]
		default:
			return nil, false
		}
	}
	return v, true
}

// At is Lookup that fails the test when path leads nowhere.
func At(t testing.TB, v any, path ...any) any {
	t.Helper()
	got, ok := Lookup(v, path...)
	if !ok {
		t.Fatalf("at %v: no object or array element there", path)
	}
	return got
}

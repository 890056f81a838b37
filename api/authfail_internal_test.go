package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/metrics"
)

// authLog is a tracker logging JSON lines into a buffer.
type authLog struct {
	buf bytes.Buffer
	m   *metrics.Metrics
	a   *authFailures
}

func newAuthLog(max int) *authLog {
	l := &authLog{m: metrics.New()}
	l.a = newAuthFailures(slog.New(slog.NewJSONHandler(&l.buf, nil)), l.m.AuthFailures, max)
	return l
}

// lines returns the log lines written since the last call.
func (l *authLog) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	dec := json.NewDecoder(&l.buf)
	for dec.More() {
		var rec map[string]any
		if err := dec.Decode(&rec); err != nil {
			t.Fatal(err)
		}
		out = append(out, rec)
	}
	l.buf.Reset()
	return out
}

func (l *authLog) count(vendor, reason string, repeated bool) float64 {
	var m dto.Metric
	if err := l.m.AuthFailures.WithLabelValues(vendor, reason, fmt.Sprint(repeated)).Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

func TestAuthFailuresLoggedOncePerMinutePerSource(t *testing.T) {
	t.Parallel()
	l := newAuthLog(authMaxSources)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("198.51.100.7")

	l.a.record(t0, a, "fenbeitong", "unauthorized")
	l.a.record(t0.Add(10*time.Second), a, "fenbeitong", "unauthorized")
	l.a.record(t0.Add(20*time.Second), a, "autox3", "unauthorized")
	l.a.record(t0.Add(30*time.Second), b, "fenbeitong", "forbidden")
	lines := l.lines(t)
	if len(lines) != 2 {
		t.Fatalf("%d log lines in the first minute, want one per source: %v", len(lines), lines)
	}
	if lines[0]["source"] != "192.0.2.10" || lines[0]["failures"] != 1.0 || lines[0]["vendor"] != "fenbeitong" ||
		lines[0]["reason"] != "unauthorized" || lines[0]["msg"] != "authentication failed" {
		t.Errorf("first line = %v", lines[0])
	}
	if lines[1]["source"] != "198.51.100.7" || lines[1]["reason"] != "forbidden" {
		t.Errorf("second line = %v", lines[1])
	}

	// A minute after the source's last line, the next failure is logged with
	// the number since that line.
	l.a.record(t0.Add(61*time.Second), a, "fenbeitong", "unauthorized")
	lines = l.lines(t)
	if len(lines) != 1 || lines[0]["source"] != "192.0.2.10" || lines[0]["failures"] != 3.0 {
		t.Fatalf("after a minute: %v, want one line for 192.0.2.10 with 3 failures", lines)
	}

	if got := l.count("fenbeitong", "unauthorized", false); got != 1 {
		t.Errorf("first failures = %v, want 1", got)
	}
	if got := l.count("fenbeitong", "unauthorized", true); got != 2 {
		t.Errorf("repeated fenbeitong failures = %v, want 2", got)
	}
	if got := l.count("autox3", "unauthorized", true); got != 1 {
		t.Errorf("repeated autox3 failures = %v, want 1", got)
	}
	if got := l.count("fenbeitong", "forbidden", false); got != 1 {
		t.Errorf("forbidden failures = %v, want 1", got)
	}

	// b's failures fall silent; its entry goes at the next sweep, and a
	// failure after that is a first one again.
	l.a.record(t0.Add(3*time.Minute), b, "fenbeitong", "forbidden")
	if got := l.count("fenbeitong", "forbidden", false); got != 2 {
		t.Errorf("a failure three minutes after the last counts as repeated (%v first failures, want 2)", got)
	}
}

// Failures not yet logged when a source falls silent are logged when it is
// forgotten, still at most once a minute for it.
func TestAuthFailuresFlushedWhenSourceForgotten(t *testing.T) {
	t.Parallel()
	l := newAuthLog(authMaxSources)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("198.51.100.7")
	for i := range 5 {
		l.a.record(t0.Add(time.Duration(i)*time.Second), a, "autox3", "unauthorized")
	}
	l.lines(t)
	l.a.record(t0.Add(2*time.Minute), b, "autox3", "unauthorized") // sweeps a
	lines := l.lines(t)
	if len(lines) != 2 || lines[0]["source"] != "192.0.2.10" || lines[0]["failures"] != 4.0 || lines[1]["source"] != "198.51.100.7" {
		t.Fatalf("lines = %v, want 192.0.2.10's 4 unlogged failures, then 198.51.100.7", lines)
	}
	if n := l.a.tracked(); n != 1 {
		t.Errorf("%d sources tracked, want 1", n)
	}
}

// A sender rotating addresses grows neither the tracking map past its cap
// nor the log past one line a minute for the sources beyond it.
func TestAuthFailuresMemoryBounded(t *testing.T) {
	t.Parallel()
	const max = 8
	l := newAuthLog(max)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}) }
	for i := range 1000 {
		l.a.record(t0.Add(time.Duration(i)*time.Millisecond), addr(i), "autox3", "unauthorized")
	}
	if n := l.a.tracked(); n != max {
		t.Fatalf("%d sources tracked after 1000 addresses, want the cap %d", n, max)
	}
	lines := l.lines(t)
	if len(lines) != max+1 {
		t.Fatalf("%d log lines, want %d (one per tracked source, one for the rest)", len(lines), max+1)
	}
	if last := lines[max]; last["msg"] != "authentication failed from more sources than are tracked" || last["failures"] != 1.0 {
		t.Errorf("overflow line = %v", last)
	}
	for i := 1000; i < 2000; i++ {
		l.a.record(t0.Add(30*time.Second), addr(i), "autox3", "unauthorized")
	}
	if lines := l.lines(t); len(lines) != 0 {
		t.Fatalf("%d more log lines within the minute, want none", len(lines))
	}
	// A minute on the tracked sources are stale and make room; the count of
	// the untracked ones is logged with the next of them.
	l.a.record(t0.Add(61*time.Second), addr(5000), "autox3", "unauthorized")
	if n := l.a.tracked(); n != 1 {
		t.Errorf("%d sources tracked after the sweep, want 1", n)
	}
	if got := l.count("autox3", "unauthorized", false) + l.count("autox3", "unauthorized", true); got != 2001 {
		t.Errorf("%v failures counted, want 2001", got)
	}
}

// An IPv6 host holds a /64: its addresses are one source.
func TestAuthFailuresGroupIPv6By64(t *testing.T) {
	t.Parallel()
	l := newAuthLog(authMaxSources)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 50 {
		a := netip.MustParseAddr(fmt.Sprintf("2001:db8:1:2::%x", i+1))
		l.a.record(t0, a, "fenbeitong", "unauthorized")
	}
	l.a.record(t0, netip.MustParseAddr("::ffff:192.0.2.10"), "fenbeitong", "unauthorized")
	l.a.record(t0, netip.Addr{}, "fenbeitong", "unauthorized")
	lines := l.lines(t)
	if len(lines) != 3 || lines[0]["source"] != "2001:db8:1:2::/64" || lines[1]["source"] != "192.0.2.10" || lines[2]["source"] != "unknown" {
		t.Fatalf("lines = %v, want the /64 once, the unmapped IPv4 address, and an unknown source", lines)
	}
	if got := l.count("fenbeitong", "unauthorized", true); got != 49 {
		t.Errorf("repeated = %v, want 49", got)
	}
}

// The webhook port's write timeout is longer than the longest normal
// answer: the body's arrival within the read timeout, then the store's
// write, then a workflow start when the store could not take it.
func TestServerWriteTimeoutCoversANormalAnswer(t *testing.T) {
	t.Parallel()
	for _, read := range []time.Duration{config.Default().HTTP.ReadTimeout, 300 * time.Millisecond, 2 * time.Minute} {
		cfg := config.Default()
		cfg.HTTP.ReadTimeout = read
		srv := NewServer(cfg, http.NotFoundHandler())
		if srv.ReadTimeout != read || srv.ReadHeaderTimeout > read {
			t.Errorf("HTTP_READ_TIMEOUT %s: read timeout %s, header timeout %s", read, srv.ReadTimeout, srv.ReadHeaderTimeout)
		}
		if keep := cfg.HTTP.StoreTimeout + cfg.HTTP.TemporalTimeout; srv.WriteTimeout < srv.ReadTimeout+keep+time.Second {
			t.Errorf("HTTP_READ_TIMEOUT %s: write timeout %s does not cover reading (%s) and keeping (%s)", read,
				srv.WriteTimeout, srv.ReadTimeout, keep)
		}
		if srv.IdleTimeout <= 60*time.Second || srv.MaxHeaderBytes <= 0 || srv.MaxHeaderBytes > 1<<20 {
			t.Errorf("idle timeout %s, max header bytes %d", srv.IdleTimeout, srv.MaxHeaderBytes)
		}
	}
}

package api

import (
	"log/slog"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

const (
	// authLogInterval is how often at most one source's refused
	// authentications are logged; a failure within it of the source's last
	// one counts as repeated.
	authLogInterval = time.Minute
	// authMaxSources bounds the sources tracked at once (about 100 bytes
	// each). Failures from further sources are counted and logged together,
	// so a sender rotating addresses grows neither memory nor the log.
	authMaxSources = 4096
)

// authFailures counts refused authentications and logs them at most once
// per authLogInterval per source. A source is an IPv4 address, or the /64
// of an IPv6 address, since one host commonly holds a whole /64.
type authFailures struct {
	log    *slog.Logger
	metric *prometheus.CounterVec
	max    int

	mu        sync.Mutex
	sources   map[netip.Prefix]*sourceFailures
	lastSweep time.Time
	// Failures from sources that found the map full, logged together.
	untracked       int
	untrackedLogged time.Time
}

// sourceFailures is what is known of one source's failures.
type sourceFailures struct {
	logged   time.Time // when the source was last logged
	last     time.Time // its latest failure
	unlogged int       // failures since it was last logged
	// vendor and reason are those of the latest failure (route names and a fixed set).
	vendor, reason string
}

func newAuthFailures(log *slog.Logger, metric *prometheus.CounterVec, max int) *authFailures {
	return &authFailures{log: log, metric: metric, max: max, sources: make(map[netip.Prefix]*sourceFailures)}
}

// sourceOf is the tracking key of an address: IPv4 as is, IPv6 by its /64.
func sourceOf(addr netip.Addr) netip.Prefix {
	addr = addr.Unmap()
	switch {
	case !addr.IsValid():
		return netip.Prefix{}
	case addr.Is4():
		return netip.PrefixFrom(addr, 32)
	}
	p, _ := addr.WithZone("").Prefix(64)
	return p
}

// record notes a refused authentication from addr (the client address as
// resolved through the trusted proxies) at now.
func (a *authFailures) record(now time.Time, addr netip.Addr, vendor, reason string) {
	src := sourceOf(addr)
	a.mu.Lock()
	defer a.mu.Unlock()
	if now.Sub(a.lastSweep) >= authLogInterval {
		a.sweep(now)
	}
	s, tracked := a.sources[src]
	if !tracked && len(a.sources) >= a.max {
		a.sweep(now)
	}
	repeated := tracked && now.Sub(s.last) < authLogInterval
	a.metric.WithLabelValues(vendor, reason, strconv.FormatBool(repeated)).Inc()
	switch {
	case tracked:
		s.last, s.vendor, s.reason = now, vendor, reason
		s.unlogged++
		if now.Sub(s.logged) >= authLogInterval {
			a.logSource(now, src, s)
		}
	case len(a.sources) < a.max:
		s = &sourceFailures{last: now, unlogged: 1, vendor: vendor, reason: reason}
		a.sources[src] = s
		a.logSource(now, src, s)
	default:
		a.untracked++
		if now.Sub(a.untrackedLogged) < authLogInterval {
			return
		}
		a.log.Warn("authentication failed from more sources than are tracked", "vendor", vendor, "reason", reason,
			"failures", a.untracked, "tracked_sources", len(a.sources))
		a.untracked, a.untrackedLogged = 0, now
	}
}

// logSource logs the source's failures since its previous line (the number,
// and the vendor and reason of the latest), never anything of a body.
func (a *authFailures) logSource(now time.Time, src netip.Prefix, s *sourceFailures) {
	source := "unknown"
	if src.IsValid() {
		source = src.String()
		if src.Addr().Is4() {
			source = src.Addr().String()
		}
	}
	a.log.Warn("authentication failed", "source", source, "vendor", s.vendor, "reason", s.reason, "failures", s.unlogged)
	s.logged, s.unlogged = now, 0
}

// sweep forgets sources whose latest failure is older than authLogInterval,
// first logging the failures of theirs not yet logged.
func (a *authFailures) sweep(now time.Time) {
	for src, s := range a.sources {
		if now.Sub(s.last) < authLogInterval {
			continue
		}
		if s.unlogged > 0 {
			a.logSource(now, src, s)
		}
		delete(a.sources, src)
	}
	a.lastSweep = now
}

// tracked is the number of sources tracked now.
func (a *authFailures) tracked() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.sources)
}

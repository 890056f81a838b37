// Package erpsim is a stand-in for the company's ERP. It speaks the records
// contract of package erp, keeps what it accepts in an append-only JSON-lines
// file, and injects faults (random failures, outages, latency, rejections) so
// a developer can watch erpbridge retry and give up. Users run it as
// `erpbridge erpsim`.
//
// Only POST /records checks the bearer token; the read, fault and page
// endpoints are open. It is a development tool: do not expose it.
package erpsim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/erpbridge/erpbridge/erp"
)

// Default answer for records whose external id is on the reject list.
const (
	DefaultRejectStatus = 422
	DefaultRejectReason = "rejected by simulator for testing"
)

// Bounds on the fault settings.
const (
	MaxLatencyMS     = 600_000
	MaxOutageSeconds = 7 * 24 * 3600
)

// Entry is one accepted record as the simulator holds it: a line of the data
// file and an item of GET /records.
type Entry struct {
	// Seq numbers accepted records in acceptance order, from 1.
	Seq int64 `json:"seq"`
	// ReceivedAt is when the simulator accepted the record.
	ReceivedAt time.Time `json:"received_at"`
	// IdempotencyKey is the key the record was sent under.
	IdempotencyKey string `json:"idempotency_key"`
	// Record is what was sent, its fields at the entry's top level in JSON.
	erp.Record
}

// ID is the simulator's own id of the accepted record.
func (e Entry) ID() string { return fmt.Sprintf("sim-%d", e.Seq) }

// Stats counts what POST /records answered since the simulator started.
type Stats struct {
	// Attempts is every POST /records.
	Attempts int64 `json:"attempts"`
	// Accepted is answers 201.
	Accepted int64 `json:"accepted"`
	// Duplicates is answers 409 to a resend of a held record.
	Duplicates int64 `json:"duplicates"`
	// FailedInjected is retryable answers caused by faults: 503 from
	// failure_rate or an outage, and reject_status 408, 429 or 5xx.
	FailedInjected int64 `json:"failed_injected"`
	// Rejected is permanent 4xx answers: auth, validation, key reuse and
	// rejected external ids.
	Rejected int64 `json:"rejected"`
	// Stored is how many records the simulator holds, including those
	// reloaded from the data file.
	Stored int64 `json:"stored"`
}

// Faults are the failures the simulator injects into POST /records.
type Faults struct {
	// FailureRate is the share of requests answered 503, 0 to 1.
	FailureRate float64 `json:"failure_rate"`
	// LatencyMS delays every answer, 0 to MaxLatencyMS.
	LatencyMS int `json:"latency_ms"`
	// OutageSeconds, when set, answers 503 for that long from now. It is
	// turned into OutageUntil and not shown back.
	OutageSeconds int `json:"outage_seconds,omitempty"`
	// OutageUntil is the end of the current outage; shown only while it lasts.
	OutageUntil *time.Time `json:"outage_until,omitempty"`
	// RejectExternalIDs are external ids answered RejectStatus.
	RejectExternalIDs []string `json:"reject_external_ids"`
	// RejectStatus is a 4xx or 5xx status other than 409 (default 422).
	RejectStatus int `json:"reject_status"`
	// RejectReason is the error message of a rejection.
	RejectReason string `json:"reject_reason"`
}

// normalise validates f and fills its defaults, turning OutageSeconds into
// OutageUntil relative to now.
func (f Faults) normalise(now time.Time) (Faults, error) {
	switch {
	case math.IsNaN(f.FailureRate) || f.FailureRate < 0 || f.FailureRate > 1:
		return f, errors.New("failure_rate: must be between 0 and 1")
	case f.LatencyMS < 0 || f.LatencyMS > MaxLatencyMS:
		return f, fmt.Errorf("latency_ms: must be between 0 and %d", MaxLatencyMS)
	case f.OutageSeconds < 0 || f.OutageSeconds > MaxOutageSeconds:
		return f, fmt.Errorf("outage_seconds: must be between 0 and %d", MaxOutageSeconds)
	case f.RejectStatus != 0 && (f.RejectStatus < 400 || f.RejectStatus > 599 || f.RejectStatus == 409):
		return f, errors.New("reject_status: must be a 4xx or 5xx status other than 409 (409 means done)")
	}
	ids := make([]string, 0, len(f.RejectExternalIDs))
	for _, id := range f.RejectExternalIDs {
		if id == "" {
			return f, errors.New("reject_external_ids: entries must be non-empty strings")
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	f.RejectExternalIDs = ids
	if f.RejectStatus == 0 {
		f.RejectStatus = DefaultRejectStatus
	}
	if f.RejectReason == "" {
		f.RejectReason = DefaultRejectReason
	}
	if f.OutageSeconds > 0 {
		until := now.Add(time.Duration(f.OutageSeconds) * time.Second).UTC()
		f.OutageUntil = &until
	}
	f.OutageSeconds = 0
	if f.OutageUntil != nil && !f.OutageUntil.After(now) {
		f.OutageUntil = nil
	}
	return f, nil
}

// held is what an idempotency key was first accepted with.
type held struct {
	seq  int64
	body []byte // canonical body, as erp.Record.Encode writes it
}

// recordKey identifies one record across its versions.
type recordKey struct{ source, kind, externalID string }

// Sim is the simulated ERP. It is safe for concurrent use.
type Sim struct {
	token string

	mu      sync.Mutex
	path    string
	file    *os.File // nil without a data file
	closed  bool
	size    int64 // bytes of complete lines in file
	entries []Entry
	keys    map[string]held   // idempotency key -> first record accepted under it
	latest  map[recordKey]int // record -> index in entries
	stats   Stats
	faults  Faults
}

// New returns a simulator that requires token as a bearer token on POST
// /records (none when empty) and keeps accepted records in dataFile, reloading
// those already there. Missing directories are created. An empty dataFile
// keeps records in memory only.
func New(dataFile, token string) (*Sim, error) {
	s := &Sim{
		token:  token,
		path:   dataFile,
		keys:   map[string]held{},
		latest: map[recordKey]int{},
	}
	s.faults, _ = Faults{}.normalise(time.Now())
	if dataFile == "" {
		return s, nil
	}
	if err := os.MkdirAll(filepath.Dir(dataFile), 0o755); err != nil {
		return nil, fmt.Errorf("erpsim: create directory of %s: %w", dataFile, err)
	}
	f, err := os.OpenFile(dataFile, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("erpsim: open %s: %w", dataFile, err)
	}
	if err := s.load(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("erpsim: load %s: %w", dataFile, err)
	}
	s.file = f
	return s, nil
}

// load reads the data file. A last line without its newline is a write that
// was never acknowledged (the simulator answers 201 only after the whole line
// is synced), so it is cut off.
func (s *Sim) load(f *os.File) error {
	r := bufio.NewReader(f)
	var offset int64
	for lineNo := 1; ; lineNo++ {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			if len(line) > 0 {
				if err := f.Truncate(offset); err != nil {
					return fmt.Errorf("cut unfinished last line %d: %w", lineNo, err)
				}
				if err := f.Sync(); err != nil {
					return fmt.Errorf("sync after cutting line %d: %w", lineNo, err)
				}
			}
			break
		}
		if err != nil {
			return fmt.Errorf("read line %d: %w", lineNo, err)
		}
		offset += int64(len(line))
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var e Entry
		if err := json.Unmarshal(line, &e); err != nil {
			return fmt.Errorf("line %d: %w", lineNo, err)
		}
		if err := e.Record.Validate(); err != nil {
			return fmt.Errorf("line %d: %w", lineNo, err)
		}
		if e.IdempotencyKey == "" {
			return fmt.Errorf("line %d: idempotency_key: must not be empty", lineNo)
		}
		if n := len(s.entries); n > 0 && e.Seq <= s.entries[n-1].Seq {
			return fmt.Errorf("line %d: seq %d does not follow seq %d", lineNo, e.Seq, s.entries[n-1].Seq)
		}
		body, err := e.Record.Encode()
		if err != nil {
			return fmt.Errorf("line %d: %w", lineNo, err)
		}
		s.hold(e, body)
	}
	s.size = offset
	return nil
}

// hold adds an accepted entry to memory. Callers hold mu (or own s alone).
func (s *Sim) hold(e Entry, body []byte) {
	s.entries = append(s.entries, e)
	if _, ok := s.keys[e.IdempotencyKey]; !ok {
		s.keys[e.IdempotencyKey] = held{seq: e.Seq, body: body}
	}
	s.latest[recordKey{e.Source, e.Kind, e.ExternalID}] = len(s.entries) - 1
	s.stats.Stored = int64(len(s.entries))
}

// persist appends e to the data file and syncs it. On failure the file is
// cut back so no partial line is left for the next write to follow.
// Callers hold mu.
func (s *Sim) persist(e Entry) error {
	if s.closed {
		return errors.New("simulator is closed")
	}
	if s.file == nil {
		return nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return fmt.Errorf("encode record seq %d: %w", e.Seq, err)
	}
	if _, err := s.file.Write(buf.Bytes()); err != nil {
		_ = s.file.Truncate(s.size)
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	if err := s.file.Sync(); err != nil {
		_ = s.file.Truncate(s.size)
		return fmt.Errorf("sync %s: %w", s.path, err)
	}
	s.size += int64(buf.Len())
	return nil
}

// SetFaults replaces the injected faults after validating them.
func (s *Sim) SetFaults(f Faults) error {
	n, err := f.normalise(time.Now())
	if err != nil {
		return fmt.Errorf("erpsim: faults: %w", err)
	}
	s.mu.Lock()
	s.faults = n
	s.mu.Unlock()
	return nil
}

// Faults returns the faults in force; an outage that has ended is not shown.
func (s *Sim) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faultsLocked(time.Now())
}

func (s *Sim) faultsLocked(now time.Time) Faults {
	f := s.faults
	f.RejectExternalIDs = slices.Clone(f.RejectExternalIDs)
	if f.OutageUntil != nil && !f.OutageUntil.After(now) {
		f.OutageUntil = nil
	}
	return f
}

// Stats returns the counters.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Records returns the accepted records in acceptance order whose source, kind
// and external id match the non-empty arguments.
func (s *Sim) Records(source, kind, externalID string) []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Entry{}
	for _, e := range s.entries {
		if (source == "" || e.Source == source) && (kind == "" || e.Kind == kind) &&
			(externalID == "" || e.ExternalID == externalID) {
			out = append(out, e)
		}
	}
	return out
}

// Latest returns the last accepted record of one vendor record.
func (s *Sim) Latest(source, kind, externalID string) (Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.latest[recordKey{source, kind, externalID}]
	if !ok {
		return Entry{}, false
	}
	return s.entries[i], true
}

// Close closes the data file; later records are answered 500.
func (s *Sim) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	s.file = nil
	if err != nil {
		return fmt.Errorf("erpsim: close %s: %w", s.path, err)
	}
	return nil
}

package erpsim

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/erp"
)

// MaxRecordBytes is the body limit of POST /records.
const MaxRecordBytes = 4 << 20

// maxFaultsBytes is the body limit of PUT /faults.
const maxFaultsBytes = 64 << 10

// Handler returns the simulator's HTTP API:
//
//	POST   /records          accept a record (the ERP contract)
//	GET    /records          accepted records; filters: source, kind, external_id
//	GET    /records/latest   last accepted record of source, kind, external_id
//	GET    /stats            counters
//	GET    /faults           faults in force
//	PUT    /faults           replace the faults (JSON Faults)
//	DELETE /faults           clear the faults
//	GET    /healthz          liveness
//	GET    /                 a page with the latest records and the faults
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /records", s.postRecord)
	mux.HandleFunc("GET /records", s.listRecords)
	mux.HandleFunc("GET /records/latest", s.latestRecord)
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Stats())
	})
	mux.HandleFunc("GET /faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Faults())
	})
	mux.HandleFunc("PUT /faults", s.putFaults)
	mux.HandleFunc("DELETE /faults", func(w http.ResponseWriter, r *http.Request) {
		if err := s.SetFaults(Faults{}); err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, s.Faults())
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /{$}", s.page)
	return mux
}

// postRecord answers one record. Order: auth, key, body, latency, contract,
// faults, idempotency, then accept (written and synced before the 201).
func (s *Sim) postRecord(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.Attempts++
	latency := s.faults.LatencyMS
	s.mu.Unlock()

	if !s.authorized(r) {
		s.countAnswer(http.StatusUnauthorized)
		w.Header().Set("WWW-Authenticate", `Bearer realm="erpsim"`)
		writeError(w, http.StatusUnauthorized, "missing or wrong bearer token")
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if strings.TrimSpace(key) == "" {
		s.countAnswer(http.StatusBadRequest)
		writeError(w, http.StatusBadRequest, "Idempotency-Key header is required")
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRecordBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.countAnswer(http.StatusRequestEntityTooLarge)
			writeError(w, http.StatusRequestEntityTooLarge, "body: larger than 4 MiB")
			return
		}
		s.countAnswer(http.StatusBadRequest)
		writeError(w, http.StatusBadRequest, "body: read failed: "+err.Error())
		return
	}
	// The body is read before the wait: only then does net/http watch the
	// connection, so a caller that gives up cancels the request context.
	if latency > 0 {
		t := time.NewTimer(time.Duration(latency) * time.Millisecond)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			writeError(w, http.StatusServiceUnavailable, "request abandoned during simulated latency")
			return
		}
	}
	rec, berr := parseRecord(raw)
	if berr != nil {
		s.countAnswer(berr.status)
		writeError(w, berr.status, berr.msg)
		return
	}
	body, err := rec.Encode()
	if err != nil {
		s.countAnswer(http.StatusUnprocessableEntity)
		writeError(w, http.StatusUnprocessableEntity, err.Error())
		return
	}

	now := time.Now()
	s.mu.Lock()
	faults := s.faultsLocked(now)
	s.mu.Unlock()
	if until := faults.OutageUntil; until != nil {
		s.countAnswer(http.StatusServiceUnavailable)
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(until.Sub(now).Seconds()))))
		writeError(w, http.StatusServiceUnavailable, "simulated outage until "+until.Format(time.RFC3339))
		return
	}
	if faults.FailureRate > 0 && rand.Float64() < faults.FailureRate {
		s.countAnswer(http.StatusServiceUnavailable)
		writeError(w, http.StatusServiceUnavailable, "injected failure")
		return
	}
	if slices.Contains(faults.RejectExternalIDs, rec.ExternalID) {
		s.countAnswer(faults.RejectStatus)
		writeError(w, faults.RejectStatus, faults.RejectReason)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.keys[key]; ok {
		if bytes.Equal(prev.body, body) {
			s.stats.Duplicates++
			writeJSON(w, http.StatusConflict, map[string]any{"error": "duplicate", "seq": prev.seq})
			return
		}
		s.stats.Rejected++
		writeError(w, http.StatusUnprocessableEntity, "idempotency key reused with a different body")
		return
	}
	var seq int64 = 1
	if n := len(s.entries); n > 0 {
		seq = s.entries[n-1].Seq + 1
	}
	e := Entry{Seq: seq, ReceivedAt: now.UTC(), IdempotencyKey: key, Record: rec}
	e.Data = canonicalData(rec.Data)
	if err := s.persist(e); err != nil {
		writeError(w, http.StatusInternalServerError, "store record: "+err.Error())
		return
	}
	s.hold(e, body)
	s.stats.Accepted++
	writeJSON(w, http.StatusCreated, map[string]any{"seq": e.Seq, "id": e.ID()})
}

// countAnswer counts a fault or refusal by the class the contract gives it.
func (s *Sim) countAnswer(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests, status >= 500:
		s.stats.FailedInjected++
	default:
		s.stats.Rejected++
	}
}

func (s *Sim) authorized(r *http.Request) bool {
	if s.token == "" {
		return true
	}
	h := r.Header.Get("Authorization")
	const prefix = "Bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(h[len(prefix):]), []byte(s.token)) == 1
}

// bodyError is a record body the simulator refuses: 400 when it is not a
// JSON object at all, 422 when a field breaks the contract.
type bodyError struct {
	status int
	msg    string
}

func invalid(msg string) *bodyError {
	return &bodyError{status: http.StatusUnprocessableEntity, msg: msg}
}

// parseRecord checks a body against the contract, naming the first bad field.
func parseRecord(raw []byte) (erp.Record, *bodyError) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return erp.Record{}, &bodyError{status: http.StatusBadRequest, msg: "body: must be a JSON object"}
	}
	var rec erp.Record
	for _, f := range []struct {
		name string
		dst  *string
	}{{"source", &rec.Source}, {"kind", &rec.Kind}, {"external_id", &rec.ExternalID}} {
		s, ok := jsonString(fields[f.name])
		if !ok || strings.TrimSpace(s) == "" {
			return rec, invalid(f.name + ": must be a non-empty string")
		}
		*f.dst = s
	}
	v, err := strconv.ParseInt(string(bytes.TrimSpace(fields["version"])), 10, 64)
	if err != nil || v <= 0 {
		return rec, invalid("version: must be an integer greater than 0")
	}
	rec.Version = v
	at, ok := jsonString(fields["occurred_at"])
	if !ok {
		return rec, invalid("occurred_at: must be an RFC 3339 time")
	}
	if rec.OccurredAt, err = time.Parse(time.RFC3339, at); err != nil {
		return rec, invalid("occurred_at: must be an RFC 3339 time")
	}
	data := bytes.TrimSpace(fields["data"])
	if len(data) == 0 || data[0] != '{' {
		return rec, invalid("data: must be a JSON object")
	}
	rec.Data = data
	return rec, nil
}

// jsonString decodes v when it is a JSON string.
func jsonString(v json.RawMessage) (string, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || v[0] != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}

// canonicalData is data without insignificant whitespace; numbers and
// strings stay byte-exact.
func canonicalData(data json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		return data
	}
	return buf.Bytes()
}

func (s *Sim) listRecords(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	writeJSON(w, http.StatusOK, map[string]any{
		"records": s.Records(q.Get("source"), q.Get("kind"), q.Get("external_id")),
	})
}

func (s *Sim) latestRecord(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	source, kind, id := q.Get("source"), q.Get("kind"), q.Get("external_id")
	if source == "" || kind == "" || id == "" {
		writeError(w, http.StatusBadRequest, "query parameters source, kind and external_id are required")
		return
	}
	e, ok := s.Latest(source, kind, id)
	if !ok {
		writeError(w, http.StatusNotFound, "no record accepted for that source, kind and external_id")
		return
	}
	writeJSON(w, http.StatusOK, e)
}

func (s *Sim) putFaults(w http.ResponseWriter, r *http.Request) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFaultsBytes))
	dec.DisallowUnknownFields()
	var f Faults
	if err := dec.Decode(&f); err != nil {
		writeError(w, http.StatusBadRequest, "faults: "+err.Error())
		return
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "faults: body must hold one JSON object")
		return
	}
	if err := s.SetFaults(f); err != nil {
		writeError(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), "erpsim: "))
		return
	}
	writeJSON(w, http.StatusOK, s.Faults())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // record data is returned byte-exact
	if err := enc.Encode(v); err != nil {
		http.Error(w, fmt.Sprintf(`{"error":%q}`, "encode answer: "+err.Error()), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

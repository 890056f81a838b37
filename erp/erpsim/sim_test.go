package erpsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/internal/testenv"
)

const token = "sim-token"

// start runs a simulator on dataFile behind an httptest server.
func start(t *testing.T, dataFile, tok string) (*Sim, *httptest.Server) {
	t.Helper()
	s, err := New(dataFile, tok)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		srv.Close()
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, srv
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (a answer) errorText() string { s, _ := a.body["error"].(string); return s }

func do(t *testing.T, method, url string, header map[string]string, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

// post sends a record body under key with the test token.
func post(t *testing.T, srv *httptest.Server, key, body string) answer {
	t.Helper()
	return do(t, http.MethodPost, srv.URL+"/records",
		map[string]string{"Authorization": "Bearer " + token, "Idempotency-Key": key, "Content-Type": "application/json"}, body)
}

func recordBody(externalID string, version int64, data string) string {
	return fmt.Sprintf(`{"source":"autox3","kind":"reception_order","external_id":%q,"version":%d,"occurred_at":"2021-03-23T20:30:10+08:00","data":%s}`,
		externalID, version, data)
}

func keyOf(externalID string, version int64) string {
	return fmt.Sprintf("autox3:reception_order:%s:v%d:abc", externalID, version)
}

func TestPostValidation(t *testing.T) {
	t.Parallel()
	_, srv := start(t, "", token)
	valid := map[string]any{
		"source": "autox3", "kind": "reception_order", "external_id": "6482",
		"version": 1616502610117, "occurred_at": "2021-03-23T20:30:10+08:00", "data": map[string]any{"a": 1},
	}
	with := func(field string, v any) string {
		m := map[string]any{}
		for k, x := range valid {
			m[k] = x
		}
		if v == nil {
			delete(m, field)
		} else {
			m[field] = v
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	for _, tc := range []struct {
		name, body string
		status     int
		msg        string
	}{
		{"not json", `{"source":`, 400, "body: must be a JSON object"},
		{"array", `[1,2]`, 400, "body: must be a JSON object"},
		{"null", `null`, 400, "body: must be a JSON object"},
		{"source missing", with("source", nil), 422, "source: must be a non-empty string"},
		{"source empty", with("source", ""), 422, "source: must be a non-empty string"},
		{"source number", with("source", 5), 422, "source: must be a non-empty string"},
		{"kind blank", with("kind", "  "), 422, "kind: must be a non-empty string"},
		{"external_id number", with("external_id", 6482), 422, "external_id: must be a non-empty string"},
		{"version missing", with("version", nil), 422, "version: must be an integer greater than 0"},
		{"version zero", with("version", 0), 422, "version: must be an integer greater than 0"},
		{"version negative", with("version", -4), 422, "version: must be an integer greater than 0"},
		{"version fraction", with("version", 1.5), 422, "version: must be an integer greater than 0"},
		{"version string", with("version", "7"), 422, "version: must be an integer greater than 0"},
		{"occurred_at missing", with("occurred_at", nil), 422, "occurred_at: must be an RFC 3339 time"},
		{"occurred_at no offset", with("occurred_at", "2021-03-23 20:30:10"), 422, "occurred_at: must be an RFC 3339 time"},
		{"occurred_at epoch", with("occurred_at", 1616502610117), 422, "occurred_at: must be an RFC 3339 time"},
		{"data missing", with("data", nil), 422, "data: must be a JSON object"},
		{"data array", with("data", []int{1}), 422, "data: must be a JSON object"},
		{"data string", with("data", "{}"), 422, "data: must be a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := post(t, srv, "k-"+tc.name, tc.body)
			if a.status != tc.status || a.errorText() != tc.msg {
				t.Fatalf("answer %d %s, want %d %q", a.status, a.raw, tc.status, tc.msg)
			}
		})
	}
	if a := post(t, srv, "k-valid", with("version", 1)); a.status != http.StatusCreated {
		t.Fatalf("valid body: %d %s", a.status, a.raw)
	}
}

func TestPostRequiresKeyAndLimitsBody(t *testing.T) {
	t.Parallel()
	s, srv := start(t, "", token)
	a := do(t, http.MethodPost, srv.URL+"/records", map[string]string{"Authorization": "Bearer " + token},
		recordBody("1", 1, `{}`))
	if a.status != http.StatusBadRequest || a.errorText() != "Idempotency-Key header is required" {
		t.Fatalf("without key: %d %s", a.status, a.raw)
	}
	big := recordBody("1", 1, `{"pad":"`+strings.Repeat("x", MaxRecordBytes)+`"}`)
	if a := post(t, srv, "k1", big); a.status != http.StatusRequestEntityTooLarge || a.errorText() != "body: larger than 4 MiB" {
		t.Fatalf("oversized: %d %.200s", a.status, a.raw)
	}
	if st := s.Stats(); st.Attempts != 2 || st.Rejected != 2 || st.Stored != 0 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestPostAuth(t *testing.T) {
	t.Parallel()
	_, srv := start(t, "", token)
	body := recordBody("1", 1, `{}`)
	for name, auth := range map[string]string{"missing": "", "wrong": "Bearer nope", "basic": "Basic " + token, "prefix only": "Bearer "} {
		a := do(t, http.MethodPost, srv.URL+"/records", map[string]string{"Authorization": auth, "Idempotency-Key": "k"}, body)
		if a.status != http.StatusUnauthorized || a.errorText() != "missing or wrong bearer token" || a.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %d %s", name, a.status, a.raw)
		}
	}
	if a := post(t, srv, "k", body); a.status != http.StatusCreated {
		t.Fatalf("right token: %d %s", a.status, a.raw)
	}

	_, open := start(t, "", "")
	a := do(t, http.MethodPost, open.URL+"/records", map[string]string{"Idempotency-Key": "k"}, body)
	if a.status != http.StatusCreated {
		t.Fatalf("no token configured: %d %s", a.status, a.raw)
	}
}

func TestIdempotency(t *testing.T) {
	t.Parallel()
	s, srv := start(t, "", token)
	body := recordBody("6482", 7, `{"amount":"12.30"}`)
	first := post(t, srv, "key-a", body)
	if first.status != http.StatusCreated || first.body["seq"] != 1.0 || first.body["id"] != "sim-1" {
		t.Fatalf("first: %d %s", first.status, first.raw)
	}
	again := post(t, srv, "key-a", body)
	if again.status != http.StatusConflict || again.errorText() != "duplicate" || again.body["seq"] != 1.0 {
		t.Fatalf("resend: %d %s", again.status, again.raw)
	}
	// Whitespace is not a different body.
	spaced := strings.Replace(body, `{"amount":"12.30"}`, "{ \"amount\" :\n \"12.30\" }", 1)
	if a := post(t, srv, "key-a", spaced); a.status != http.StatusConflict {
		t.Fatalf("resend with whitespace: %d %s", a.status, a.raw)
	}
	for name, other := range map[string]string{
		"data":    recordBody("6482", 7, `{"amount":"12.3"}`),
		"version": recordBody("6482", 8, `{"amount":"12.30"}`),
		"offset":  strings.Replace(body, "2021-03-23T20:30:10+08:00", "2021-03-23T12:30:10Z", 1),
	} {
		a := post(t, srv, "key-a", other)
		if a.status != http.StatusUnprocessableEntity || a.errorText() != "idempotency key reused with a different body" {
			t.Fatalf("%s changed: %d %s", name, a.status, a.raw)
		}
	}
	if a := post(t, srv, "key-b", recordBody("6482", 8, `{"amount":"12.30"}`)); a.status != http.StatusCreated || a.body["seq"] != 2.0 {
		t.Fatalf("new key: %d %s", a.status, a.raw)
	}
	want := Stats{Attempts: 7, Accepted: 2, Duplicates: 2, Rejected: 3, Stored: 2}
	if st := s.Stats(); st != want {
		t.Fatalf("stats = %+v, want %+v", st, want)
	}
	var got Stats
	if a := do(t, http.MethodGet, srv.URL+"/stats", nil, ""); a.status != 200 || json.Unmarshal([]byte(a.raw), &got) != nil || got != want {
		t.Fatalf("GET /stats: %d %s", a.status, a.raw)
	}
}

func TestRecordsFiltersAndLatest(t *testing.T) {
	t.Parallel()
	_, srv := start(t, "", token)
	posts := []struct{ kind, id string }{
		{"reception_order", "1"}, {"reception_order", "2"}, {"inspection_report", "1"}, {"reception_order", "1"},
	}
	for i, p := range posts {
		body := strings.Replace(recordBody(p.id, int64(i+1), fmt.Sprintf(`{"n":%d}`, i)), "reception_order", p.kind, 1)
		if a := post(t, srv, fmt.Sprintf("k%d", i), body); a.status != http.StatusCreated {
			t.Fatalf("post %d: %d %s", i, a.status, a.raw)
		}
	}
	list := func(query string) []Entry {
		t.Helper()
		a := do(t, http.MethodGet, srv.URL+"/records"+query, nil, "")
		var out struct{ Records []Entry }
		if a.status != 200 || json.Unmarshal([]byte(a.raw), &out) != nil {
			t.Fatalf("GET /records%s: %d %s", query, a.status, a.raw)
		}
		return out.Records
	}
	seqs := func(es []Entry) string {
		var s []string
		for _, e := range es {
			s = append(s, strconv.FormatInt(e.Seq, 10))
		}
		return strings.Join(s, ",")
	}
	for query, want := range map[string]string{
		"":                                    "1,2,3,4",
		"?source=autox3":                      "1,2,3,4",
		"?source=fenbeitong":                  "",
		"?kind=reception_order":               "1,2,4",
		"?external_id=1":                      "1,3,4",
		"?kind=reception_order&external_id=1": "1,4",
	} {
		if got := seqs(list(query)); got != want {
			t.Errorf("GET /records%s seqs = %q, want %q", query, got, want)
		}
	}
	all := list("")
	e := all[3]
	if e.IdempotencyKey != "k3" || e.Source != "autox3" || e.Kind != "reception_order" || e.ExternalID != "1" ||
		e.Version != 4 || string(e.Data) != `{"n":3}` || e.ReceivedAt.IsZero() ||
		e.OccurredAt.Format(time.RFC3339) != "2021-03-23T20:30:10+08:00" {
		t.Fatalf("item = %+v", e)
	}
	if a := do(t, http.MethodGet, srv.URL+"/records?kind=nothing", nil, ""); a.raw != "{\"records\":[]}\n" {
		t.Fatalf("empty list = %q", a.raw)
	}

	a := do(t, http.MethodGet, srv.URL+"/records/latest?source=autox3&kind=reception_order&external_id=1", nil, "")
	if a.status != 200 || a.body["seq"] != 4.0 || a.body["idempotency_key"] != "k3" {
		t.Fatalf("latest: %d %s", a.status, a.raw)
	}
	if a := do(t, http.MethodGet, srv.URL+"/records/latest?source=autox3&kind=reception_order&external_id=9", nil, ""); a.status != 404 {
		t.Fatalf("latest of unknown: %d %s", a.status, a.raw)
	}
	if a := do(t, http.MethodGet, srv.URL+"/records/latest?source=autox3", nil, ""); a.status != 400 {
		t.Fatalf("latest without kind: %d %s", a.status, a.raw)
	}
}

func TestDataPreservedByteExact(t *testing.T) {
	t.Parallel()
	s, srv := start(t, "", token)
	data := `{"amount":"1234.50","big":12345678901234567890.10,"tiny":1e-30,"note":"<a & b>","zh":"维修"}`
	if a := post(t, srv, "k", recordBody("1", 1, data)); a.status != http.StatusCreated {
		t.Fatalf("post: %d %s", a.status, a.raw)
	}
	if e, _ := s.Latest("autox3", "reception_order", "1"); string(e.Data) != data {
		t.Fatalf("held data = %s", e.Data)
	}
	a := do(t, http.MethodGet, srv.URL+"/records", nil, "")
	if !strings.Contains(a.raw, `"data":`+data) {
		t.Fatalf("listed = %s", a.raw)
	}
}

func TestPersistence(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "nested", "dir", "erpsim.jsonl")
	s1, err := New(file, token)
	if err != nil {
		t.Fatal(err)
	}
	srv1 := httptest.NewServer(s1.Handler())
	for i := range 2 {
		if a := post(t, srv1, keyOf("6482", int64(i+1)), recordBody("6482", int64(i+1), `{"amount":"1.10"}`)); a.status != http.StatusCreated {
			t.Fatalf("post %d: %d %s", i, a.status, a.raw)
		}
	}
	srv1.Close()
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], `{"seq":1,"received_at":"`) ||
		!strings.Contains(lines[1], `"idempotency_key":"autox3:reception_order:6482:v2:abc","source":"autox3"`) ||
		!strings.HasSuffix(lines[1], `"data":{"amount":"1.10"}}`) {
		t.Fatalf("data file =\n%s", raw)
	}

	s2, srv2 := start(t, file, token)
	if got := s2.Records("", "", ""); len(got) != 2 || got[0].Seq != 1 || got[1].Seq != 2 || got[1].Version != 2 {
		t.Fatalf("reloaded = %+v", got)
	}
	if a := post(t, srv2, keyOf("6482", 2), recordBody("6482", 2, `{"amount":"1.10"}`)); a.status != http.StatusConflict {
		t.Fatalf("resend after restart: %d %s", a.status, a.raw)
	}
	if a := post(t, srv2, keyOf("6482", 2), recordBody("6482", 2, `{"amount":"9.99"}`)); a.status != http.StatusUnprocessableEntity {
		t.Fatalf("changed body after restart: %d %s", a.status, a.raw)
	}
	if a := post(t, srv2, keyOf("6482", 3), recordBody("6482", 3, `{}`)); a.status != http.StatusCreated || a.body["seq"] != 3.0 {
		t.Fatalf("post after restart: %d %s", a.status, a.raw)
	}
	if e, ok := s2.Latest("autox3", "reception_order", "6482"); !ok || e.Seq != 3 {
		t.Fatalf("latest after restart = %+v %v", e, ok)
	}
	if st := s2.Stats(); st.Stored != 3 || st.Accepted != 1 {
		t.Fatalf("stats after restart = %+v", st)
	}
}

func TestUnfinishedLastLineIsCut(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "erpsim.jsonl")
	s1, srv1 := start(t, file, token)
	if a := post(t, srv1, "k1", recordBody("1", 1, `{}`)); a.status != http.StatusCreated {
		t.Fatal(a.raw)
	}
	_ = s1.Close()
	good, _ := os.ReadFile(file)
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(`{"seq":2,"received_at":"2026-01-01T00:00:00Z","idem`)
	f.Close()

	s2, srv2 := start(t, file, token)
	if n := len(s2.Records("", "", "")); n != 1 {
		t.Fatalf("reloaded %d records, want 1", n)
	}
	if now, _ := os.ReadFile(file); !bytes.Equal(now, good) {
		t.Fatalf("file not cut back:\n%s", now)
	}
	if a := post(t, srv2, "k2", recordBody("2", 1, `{}`)); a.status != http.StatusCreated || a.body["seq"] != 2.0 {
		t.Fatalf("post after cut: %d %s", a.status, a.raw)
	}
	s2.Close()
	if _, err := New(file, token); err != nil {
		t.Fatalf("reload after cut and append: %v", err)
	}
}

func TestCorruptDataFileFails(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "erpsim.jsonl")
	if err := os.WriteFile(file, []byte("not json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(file, token); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("New on corrupt file: %v", err)
	}
}

func TestClosedSimRefusesToAccept(t *testing.T) {
	t.Parallel()
	s, srv := start(t, filepath.Join(t.TempDir(), "erpsim.jsonl"), token)
	_ = s.Close()
	if a := post(t, srv, "k", recordBody("1", 1, `{}`)); a.status != http.StatusInternalServerError {
		t.Fatalf("post after Close: %d %s", a.status, a.raw)
	}
}

func TestConcurrentPostsGetDistinctSeqs(t *testing.T) {
	t.Parallel()
	s, srv := start(t, filepath.Join(t.TempDir(), "erpsim.jsonl"), token)
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id := strconv.Itoa(i)
			if a := post(t, srv, keyOf(id, 1), recordBody(id, 1, `{}`)); a.status != http.StatusCreated {
				t.Errorf("post %d: %d %s", i, a.status, a.raw)
			}
		})
	}
	wg.Wait()
	got := s.Records("", "", "")
	if len(got) != n {
		t.Fatalf("held %d records, want %d", len(got), n)
	}
	for i, e := range got {
		if e.Seq != int64(i+1) {
			t.Fatalf("record %d has seq %d", i, e.Seq)
		}
	}
}

func TestHealthzAndPage(t *testing.T) {
	t.Parallel()
	s, srv := start(t, "", token)
	if a := do(t, http.MethodGet, srv.URL+"/healthz", nil, ""); a.status != 200 {
		t.Fatalf("healthz: %d", a.status)
	}
	if a := post(t, srv, "k1", recordBody("ext-<b>", 1, `{"amount":"5.00"}`)); a.status != http.StatusCreated {
		t.Fatalf("post: %d %s", a.status, a.raw)
	}
	if err := s.SetFaults(Faults{RejectExternalIDs: []string{"9911"}, FailureRate: 0.25}); err != nil {
		t.Fatal(err)
	}
	a := do(t, http.MethodGet, srv.URL+"/", nil, "")
	if a.status != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d %s", a.status, a.header.Get("Content-Type"))
	}
	for _, want := range []string{"ext-&lt;b&gt;", "9911", "0.25", "5.00", "<table>"} {
		if !strings.Contains(a.raw, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(a.raw, "ext-<b>") {
		t.Error("page does not escape record fields")
	}
	if a := do(t, http.MethodGet, srv.URL+"/nothing", nil, ""); a.status != 404 {
		t.Fatalf("unknown path: %d", a.status)
	}
}

func TestFaultFailureRateOne(t *testing.T) {
	t.Parallel()
	s, srv := start(t, "", token)
	if err := s.SetFaults(Faults{FailureRate: 1}); err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		a := post(t, srv, fmt.Sprintf("k%d", i), recordBody(strconv.Itoa(i), 1, `{}`))
		if a.status != http.StatusServiceUnavailable || a.errorText() != "injected failure" {
			t.Fatalf("call %d: %d %s", i, a.status, a.raw)
		}
	}
	if st := s.Stats(); st.Attempts != 200 || st.FailedInjected != 200 || st.Accepted != 0 || st.Stored != 0 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestFaultFailureRateHalf(t *testing.T) {
	t.Parallel()
	s, srv := start(t, "", token)
	if err := s.SetFaults(Faults{FailureRate: 0.5}); err != nil {
		t.Fatal(err)
	}
	failed, accepted := 0, 0
	for i := range 200 {
		switch a := post(t, srv, fmt.Sprintf("k%d", i), recordBody(strconv.Itoa(i), 1, `{}`)); a.status {
		case http.StatusServiceUnavailable:
			failed++
		case http.StatusCreated:
			accepted++
		default:
			t.Fatalf("call %d: %d %s", i, a.status, a.raw)
		}
	}
	// 200 fair coin flips land in [50, 150] except with probability ~1e-12.
	if failed < 50 || failed > 150 || failed+accepted != 200 {
		t.Fatalf("failed %d, accepted %d of 200", failed, accepted)
	}
	if st := s.Stats(); st.FailedInjected != int64(failed) || st.Accepted != int64(accepted) {
		t.Fatalf("stats = %+v", st)
	}
}

func TestFaultOutageThenRecovery(t *testing.T) {
	t.Parallel()
	_, srv := start(t, "", token)
	a := do(t, http.MethodPut, srv.URL+"/faults", nil, `{"outage_seconds":1}`)
	until, err := time.Parse(time.RFC3339, fmt.Sprint(a.body["outage_until"]))
	if a.status != 200 || err != nil || time.Until(until) <= 0 || time.Until(until) > 2*time.Second {
		t.Fatalf("PUT outage: %d %s", a.status, a.raw)
	}
	if _, shown := a.body["outage_seconds"]; shown {
		t.Fatalf("outage_seconds shown back: %s", a.raw)
	}
	body := recordBody("1", 1, `{}`)
	a = post(t, srv, "k", body)
	if a.status != http.StatusServiceUnavailable || !strings.HasPrefix(a.errorText(), "simulated outage until ") ||
		a.header.Get("Retry-After") == "" {
		t.Fatalf("during outage: %d %s %v", a.status, a.raw, a.header)
	}
	// Resent until the outage ends, as a client would; it may not end early.
	testenv.Eventually(t, "accepted after the outage", 5*time.Second, func() error {
		a := post(t, srv, "k", body)
		if a.status == http.StatusServiceUnavailable {
			return fmt.Errorf("%d %s", a.status, a.raw)
		}
		if a.status != http.StatusCreated || time.Now().Before(until) {
			t.Fatalf("after outage: %d %s at %s, outage until %s", a.status, a.raw, time.Now().Format(time.RFC3339Nano), until.Format(time.RFC3339Nano))
		}
		return nil
	})
	if a := do(t, http.MethodGet, srv.URL+"/faults", nil, ""); strings.Contains(a.raw, "outage_until") {
		t.Fatalf("ended outage still shown: %s", a.raw)
	}
}

func TestFaultRejectIDs(t *testing.T) {
	t.Parallel()
	s, srv := start(t, "", token)
	a := do(t, http.MethodPut, srv.URL+"/faults", nil, `{"reject_external_ids":["6482"]}`)
	if a.status != 200 || a.body["reject_status"] != 422.0 || a.body["reject_reason"] != DefaultRejectReason {
		t.Fatalf("PUT: %d %s", a.status, a.raw)
	}
	if a := post(t, srv, "k1", recordBody("6482", 1, `{}`)); a.status != 422 || a.errorText() != DefaultRejectReason {
		t.Fatalf("rejected id: %d %s", a.status, a.raw)
	}
	if a := post(t, srv, "k2", recordBody("6483", 1, `{}`)); a.status != http.StatusCreated {
		t.Fatalf("other id: %d %s", a.status, a.raw)
	}
	if err := s.SetFaults(Faults{RejectExternalIDs: []string{"6482"}, RejectStatus: 400, RejectReason: "unknown customer"}); err != nil {
		t.Fatal(err)
	}
	if a := post(t, srv, "k1", recordBody("6482", 1, `{}`)); a.status != 400 || a.errorText() != "unknown customer" {
		t.Fatalf("custom rejection: %d %s", a.status, a.raw)
	}
	if err := s.SetFaults(Faults{RejectExternalIDs: []string{"6482"}, RejectStatus: 429}); err != nil {
		t.Fatal(err)
	}
	if a := post(t, srv, "k1", recordBody("6482", 1, `{}`)); a.status != 429 {
		t.Fatalf("429 rejection: %d %s", a.status, a.raw)
	}
	if st := s.Stats(); st.Rejected != 2 || st.FailedInjected != 1 || st.Accepted != 1 {
		t.Fatalf("stats = %+v", st)
	}
	if a := do(t, http.MethodDelete, srv.URL+"/faults", nil, ""); a.status != 200 || a.raw != `{"failure_rate":0,"latency_ms":0,"reject_external_ids":[],"reject_status":422,"reject_reason":"rejected by simulator for testing"}`+"\n" {
		t.Fatalf("DELETE: %d %s", a.status, a.raw)
	}
	if a := post(t, srv, "k1", recordBody("6482", 1, `{}`)); a.status != http.StatusCreated {
		t.Fatalf("after clearing: %d %s", a.status, a.raw)
	}
}

func TestFaultLatency(t *testing.T) {
	t.Parallel()
	s, srv := start(t, "", token)
	if err := s.SetFaults(Faults{LatencyMS: 200}); err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	if a := post(t, srv, "k1", recordBody("1", 1, `{}`)); a.status != http.StatusCreated {
		t.Fatalf("post: %d %s", a.status, a.raw)
	}
	if d := time.Since(begin); d < 200*time.Millisecond {
		t.Fatalf("answered after %s, want at least 200ms", d)
	}

	// A caller that gives up during the latency leaves nothing behind.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/records", strings.NewReader(recordBody("2", 1, `{}`)))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", "k2")
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("want the call to time out")
	}
	srv.Close() // returns once the abandoned request's handler has returned
	if _, ok := s.Latest("autox3", "reception_order", "2"); ok {
		t.Fatal("a request abandoned during latency was accepted")
	}
}

func TestFaultsValidation(t *testing.T) {
	t.Parallel()
	_, srv := start(t, "", token)
	for body, want := range map[string]string{
		`{"failure_rate":1.5}`:             "faults: failure_rate: must be between 0 and 1",
		`{"failure_rate":-0.1}`:            "faults: failure_rate: must be between 0 and 1",
		`{"latency_ms":-1}`:                "faults: latency_ms: must be between 0 and 600000",
		`{"latency_ms":600001}`:            "faults: latency_ms: must be between 0 and 600000",
		`{"outage_seconds":-5}`:            "faults: outage_seconds: must be between 0 and 604800",
		`{"reject_status":200}`:            "faults: reject_status: must be a 4xx or 5xx status other than 409 (409 means done)",
		`{"reject_status":409}`:            "faults: reject_status: must be a 4xx or 5xx status other than 409 (409 means done)",
		`{"reject_external_ids":["1",""]}`: "faults: reject_external_ids: entries must be non-empty strings",
		`{"failure_rate":"half"}`:          "faults: json: cannot unmarshal string into Go struct field Faults.failure_rate of type float64",
		`{"latency_ms":1.5}`:               "faults: json: cannot unmarshal number 1.5 into Go struct field Faults.latency_ms of type int",
		`{"failure":0.5}`:                  `faults: json: unknown field "failure"`,
		`{} {}`:                            "faults: body must hold one JSON object",
		``:                                 "faults: EOF",
	} {
		a := do(t, http.MethodPut, srv.URL+"/faults", nil, body)
		if a.status != http.StatusBadRequest || a.errorText() != want {
			t.Errorf("PUT %s: %d %s, want 400 %q", body, a.status, a.raw, want)
		}
	}
	a := do(t, http.MethodPut, srv.URL+"/faults", nil, `{"failure_rate":0.3,"latency_ms":10,"reject_external_ids":["a","a","b"],"reject_status":503,"reject_reason":"down"}`)
	want := `{"failure_rate":0.3,"latency_ms":10,"reject_external_ids":["a","b"],"reject_status":503,"reject_reason":"down"}` + "\n"
	if a.status != 200 || a.raw != want {
		t.Fatalf("valid PUT: %d %s", a.status, a.raw)
	}
	if a := do(t, http.MethodGet, srv.URL+"/faults", nil, ""); a.raw != want {
		t.Fatalf("GET /faults = %s", a.raw)
	}
}

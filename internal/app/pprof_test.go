package app

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPprofServerServesProfiles(t *testing.T) {
	h := newPprofServer("127.0.0.1:0").Handler
	for _, tt := range []struct {
		path, contains string
	}{
		{"/debug/pprof/", "goroutine"},
		{"/debug/pprof/heap?debug=1", "heap profile:"},
		{"/debug/pprof/goroutine?debug=1", "goroutine profile:"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), tt.contains) {
			t.Errorf("GET %s: %d, body without %q", tt.path, rec.Code, tt.contains)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("GET /metrics on the pprof address: %d, want 404 (it serves profiles only)", rec.Code)
	}
}

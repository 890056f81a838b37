package api_test

import (
	"net/http"
	"testing"
)

// A body sent with Content-Encoding gzip (any case, or x-gzip) is taken
// like the same body uncompressed: the answer, one workflow, and the JSON
// itself kept as the callback.
func TestGzipBodiesAreTaken(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		vendor, path, ok, encoding string
		body                       []byte
	}{
		{"autox3", autoX3Path, autoX3OK, "gzip", sampleAutoX3("msg-gz-0001")},
		{"autox3", autoX3Path, autoX3OK, "GZIP", sampleAutoX3("msg-gz-0002")},
		{"fenbeitong", fenbeitongPath, fenbeitongOK, "gzip", sampleFenbeitong("FBT-GZ-0001", 700)},
		{"fenbeitong", fenbeitongPath, fenbeitongOK, "x-gzip", sampleFenbeitong("FBT-GZ-0002", 700)},
	} {
		t.Run(c.vendor+" "+c.encoding, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, testConfig(t, nil))
			rec := f.postEncoded(t, c.path, "application/json", c.encoding, gzipped(t, c.body))
			if rec.Code != http.StatusOK || rec.Body.String() != c.ok {
				t.Fatalf("answer = %d %s, want 200 %s", rec.Code, rec.Body, c.ok)
			}
			calls := f.temporal.Calls()
			if len(calls) != 1 {
				t.Fatalf("%d workflows started, want 1", len(calls))
			}
			if got := f.bodyOf(t, eventInput(t, calls[0])); got != string(c.body) {
				t.Errorf("kept %q, want the JSON as sent before compression", got)
			}
		})
	}
}

// A UTF-8 byte order mark before the JSON, as some Windows tools write one,
// is dropped: the callback is taken and kept without it.
func TestByteOrderMarkIsDropped(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		path, ok string
		body     []byte
	}{
		{autoX3Path, autoX3OK, sampleAutoX3("msg-bom-0001")},
		{fenbeitongPath, fenbeitongOK, sampleFenbeitong("FBT-BOM-0001", 700)},
	} {
		f := newFixture(t, testConfig(t, nil))
		rec := f.post(t, c.path, "application/json; charset=utf-8", append([]byte("\ufeff"), c.body...))
		if rec.Code != http.StatusOK || rec.Body.String() != c.ok {
			t.Fatalf("%s: answer = %d %s, want 200 %s", c.path, rec.Code, rec.Body, c.ok)
		}
		calls := f.temporal.Calls()
		if len(calls) != 1 {
			t.Fatalf("%s: %d workflows started, want 1", c.path, len(calls))
		}
		if got := f.bodyOf(t, eventInput(t, calls[0])); got != string(c.body) {
			t.Errorf("%s: kept %q, want the JSON without the mark", c.path, got)
		}
	}
}

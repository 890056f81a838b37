package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/vendors/autox3"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong"
)

// authCount is erpbridge_callback_auth_total for a vendor, variant and secret position.
func authCount(t *testing.T, f *fixture, vendor, variant, secret string) float64 {
	t.Helper()
	return counter(t, f.metrics, "erpbridge_callback_auth_total", map[string]string{"vendor": vendor, "variant": variant, "secret": secret})
}

// Java's HttpURLConnection labels a POST body application/x-www-form-urlencoded
// unless told otherwise. Over a real HTTP connection, a JSON body so labelled
// is taken by both vendors when it is authentic.
func TestJavaDefaultContentTypeOverHTTP(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testConfig(t, nil))
	srv := httptest.NewServer(f.router)
	defer srv.Close()
	post := func(target string, body []byte) (int, string) {
		t.Helper()
		resp, err := http.Post(srv.URL+target, "application/x-www-form-urlencoded", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if err := f.relay.Drain(t.Context()); err != nil {
			t.Fatalf("relay: %v", err)
		}
		return resp.StatusCode, string(b)
	}

	if code, ans := post(autoX3Path, sampleAutoX3("msg-java-0001")); code != http.StatusOK || ans != autoX3OK {
		t.Fatalf("AutoX3 answered %d %s, want 200 %s", code, ans, autoX3OK)
	}
	if code, ans := post(fenbeitongPath, sampleFenbeitong("FBT-JAVA-1", 700)); code != http.StatusOK || ans != fenbeitongOK {
		t.Fatalf("Fenbeitong answered %d %s, want 200 %s", code, ans, fenbeitongOK)
	}
	if n := len(f.temporal.Calls()); n != 2 {
		t.Fatalf("ExecuteWorkflow called %d times, want 2", n)
	}
	if got := authCount(t, f, "autox3", autox3.VariantReceived, "0"); got != 1 {
		t.Errorf("callback_auth_total{autox3,received,0} = %v, want 1", got)
	}
	if got := authCount(t, f, "fenbeitong", fenbeitong.TokenVariant, "0"); got != 1 {
		t.Errorf("callback_auth_total{fenbeitong,token,0} = %v, want 1", got)
	}

	// The same label with a form body is refused as not JSON.
	code, ans := post(autoX3Path, []byte("msgId=m-1&msgSignature=x"))
	if code != http.StatusUnsupportedMediaType || !strings.Contains(ans, "neither is the body") {
		t.Fatalf("form body answered %d %s, want 415", code, ans)
	}
}

// A body pretty-printed after it was signed over its compact text is taken,
// counted as the compact variant, and stored byte for byte as received.
func TestPrettyPrintedAutoX3Callback(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testConfig(t, nil))
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, sampleAutoX3("msg-pretty-0001"), "", "  "); err != nil {
		t.Fatal(err)
	}
	rec := f.post(t, autoX3Path, "application/json", pretty.Bytes())
	if rec.Code != http.StatusOK || rec.Body.String() != autoX3OK {
		t.Fatalf("answer = %d %s, want 200", rec.Code, rec.Body)
	}
	calls := f.temporal.Calls()
	if len(calls) != 1 || f.bodyOf(t, eventInput(t, calls[0])) != pretty.String() {
		t.Fatal("the pretty body did not reach the workflow byte for byte")
	}
	if got := authCount(t, f, "autox3", autox3.VariantCompact, "0"); got != 1 {
		t.Errorf("callback_auth_total{autox3,compact,0} = %v, want 1", got)
	}
	if got := authCount(t, f, "autox3", autox3.VariantReceived, "0"); got != 0 {
		t.Errorf("callback_auth_total{autox3,received,0} = %v, want 0", got)
	}
}

// During a rotation the old and the new secret are both taken, the metric
// tells them apart by position, and a third is refused.
func TestSecretRotationAtTheEdge(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testConfig(t, map[string]string{
		"AUTOX3_APP_SECRET": "new-app-secret, old-app-secret",
		"FENBEITONG_TOKEN":  "new-url-token,old-url-token",
	}))
	// A delivery is a callback and the status it must be answered with.
	type delivery struct {
		what, target string
		body         []byte
		status       int
	}
	autoX3With := func(secret, msgID string, status int) delivery {
		return delivery{fmt.Sprintf("AutoX3 signed with %q", secret), autoX3Path, autox3.SampleReceptionBody(msgID, 90001, sampleTimeMs, secret), status}
	}
	fenbeitongWith := func(token, order string, status int) delivery {
		return delivery{fmt.Sprintf("Fenbeitong with %q", token), "/webhooks/fenbeitong?token=" + token, sampleFenbeitong(order, 700), status}
	}
	for _, d := range []delivery{
		autoX3With("new-app-secret", "msg-rot-0001", http.StatusOK),
		autoX3With("old-app-secret", "msg-rot-0002", http.StatusOK),
		autoX3With("old-app-secret", "msg-rot-0003", http.StatusOK),
		autoX3With("third-app-secret", "msg-rot-0004", http.StatusUnauthorized),
		autoX3With("new-app-secret, old-app-secret", "msg-rot-0005", http.StatusUnauthorized), // the list itself is no secret
		fenbeitongWith("new-url-token", "FBT-ROT-1", http.StatusOK),
		fenbeitongWith("old-url-token", "FBT-ROT-2", http.StatusOK),
		fenbeitongWith("third-url-token", "FBT-ROT-3", http.StatusUnauthorized),
		fenbeitongWith("new-url-token,old-url-token", "FBT-ROT-4", http.StatusUnauthorized),
	} {
		if rec := f.post(t, d.target, "application/json", d.body); rec.Code != d.status {
			t.Fatalf("%s: %d %s, want %d", d.what, rec.Code, rec.Body, d.status)
		}
	}
	want := map[[3]string]float64{
		{"autox3", "received", "0"}:  1,
		{"autox3", "received", "1"}:  2,
		{"fenbeitong", "token", "0"}: 1,
		{"fenbeitong", "token", "1"}: 1,
		{"autox3", "received", "2"}:  0,
		{"fenbeitong", "token", "2"}: 0,
	}
	for k, v := range want {
		if got := authCount(t, f, k[0], k[1], k[2]); got != v {
			t.Errorf("callback_auth_total%v = %v, want %v", k, got, v)
		}
	}
	if n := len(f.temporal.Calls()); n != 5 {
		t.Fatalf("ExecuteWorkflow called %d times, want 5", n)
	}
	// No label or log line holds a secret.
	text := f.get(t, "/metrics").Body.String() + f.logs.String()
	for _, s := range []string{"new-app-secret", "old-app-secret", "url-token"} {
		if strings.Contains(text, s) {
			t.Fatalf("metrics or logs hold %q", s)
		}
	}
}

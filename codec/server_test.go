package codec

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/erpbridge/erpbridge/internal/testkit"
)

const testToken = "codec-test-token"

// startServer runs NewServer over a real listener and returns it with the
// keyring behind it.
func startServer(t *testing.T, token string, origins []string) (*httptest.Server, *Keyring) {
	t.Helper()
	_, key := newRawKey(t)
	k := mustKeyring(t, key, "")
	srv := testkit.HTTPServer(t, NewServer(NewCodec(k), token, origins, nil))
	return srv, k
}

// remoteCodec is the SDK's codec client for endpoint, sending authorization
// when it is non-empty.
func remoteCodec(endpoint, authorization string) converter.PayloadCodec {
	return converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
		Endpoint: endpoint,
		ModifyRequest: func(r *http.Request) error {
			r.Header.Set("X-Namespace", "default")
			if authorization != "" {
				r.Header.Set("Authorization", authorization)
			}
			return nil
		},
	})
}

func TestServerRoundTripWithToken(t *testing.T) {
	srv, k := startServer(t, testToken, nil)
	in := samplePayloads(t)

	for _, endpoint := range []string{srv.URL, srv.URL + "/codec/default"} {
		t.Run(endpoint, func(t *testing.T) {
			rc := remoteCodec(endpoint, "Bearer "+testToken)
			enc, err := rc.Encode(in)
			if err != nil {
				t.Fatalf("remote Encode: %v", err)
			}
			for i, p := range enc {
				if string(p.Metadata[MetadataEncoding]) != EncodingEncrypted || string(p.Metadata[MetadataKeyID]) != k.ActiveKeyID() {
					t.Fatalf("remote payload %d not encrypted with the server key: %v", i, p.Metadata)
				}
			}
			dec, err := rc.Decode(enc)
			if err != nil {
				t.Fatalf("remote Decode: %v", err)
			}
			for i := range in {
				if !proto.Equal(in[i], dec[i]) {
					t.Errorf("payload %d: got %v, want %v", i, dec[i], in[i])
				}
			}

			// What a worker encrypted locally, the server decodes for the UI.
			local, err := NewCodec(k).Encode(in)
			if err != nil {
				t.Fatal(err)
			}
			dec, err = rc.Decode(local)
			if err != nil {
				t.Fatalf("remote Decode of local payloads: %v", err)
			}
			for i := range in {
				if !proto.Equal(in[i], dec[i]) {
					t.Errorf("local payload %d: got %v, want %v", i, dec[i], in[i])
				}
			}
		})
	}
}

func TestServerRejectsMissingOrWrongToken(t *testing.T) {
	srv, k := startServer(t, testToken, nil)
	enc, err := NewCodec(k).Encode(samplePayloads(t))
	if err != nil {
		t.Fatal(err)
	}

	for name, auth := range map[string]string{
		"missing":      "",
		"wrong token":  "Bearer not-the-token",
		"token prefix": "Bearer " + testToken[:5],
		"wrong scheme": "Basic " + testToken,
		"bare token":   testToken,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := remoteCodec(srv.URL, auth).Decode(enc)
			if err == nil || !strings.Contains(err.Error(), "Unauthorized") {
				t.Fatalf("remote Decode error = %v, want Unauthorized", err)
			}

			resp, b := post(t, srv.URL+"/encode", `{"payloads":[]}`, map[string]string{"Content-Type": "application/json", "Authorization": auth})
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status = %d, want 401", resp.StatusCode)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type = %q, want application/json", ct)
			}
			var body struct{ Error string }
			if err := json.Unmarshal(b, &body); err != nil || body.Error == "" {
				t.Fatalf("401 body is not a JSON error: %v %+v", err, body)
			}
		})
	}

	// Case-insensitive scheme, as RFC 7235 allows.
	if _, err := remoteCodec(srv.URL, "bearer "+testToken).Decode(enc); err != nil {
		t.Fatalf("lower-case scheme rejected: %v", err)
	}
}

func TestServerWithoutTokenIsOpen(t *testing.T) {
	srv, _ := startServer(t, "", nil)
	in := samplePayloads(t)
	rc := remoteCodec(srv.URL, "")
	enc, err := rc.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := rc.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(in[0], dec[0]) {
		t.Fatal("round trip without token changed the payload")
	}
}

func TestServerDecodeErrorsAreBadRequest(t *testing.T) {
	srv, _ := startServer(t, "", nil)
	bad := &commonpb.Payload{
		Metadata: map[string][]byte{MetadataEncoding: []byte(EncodingEncrypted), MetadataKeyID: []byte("ffffffffffffffff")},
		Data:     make([]byte, 40),
	}
	_, err := remoteCodec(srv.URL, "").Decode([]*commonpb.Payload{bad})
	if err == nil || !strings.Contains(err.Error(), "Bad Request") || !strings.Contains(err.Error(), "ffffffffffffffff") {
		t.Fatalf("error = %v, want Bad Request naming the key id", err)
	}
}

// preflight sends a browser-style CORS preflight for /decode from origin.
func preflight(t *testing.T, url, origin string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodOptions, url+"/decode", nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-namespace")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestServerCORS(t *testing.T) {
	srv, k := startServer(t, testToken, nil)

	for _, origin := range []string{"http://localhost:8233", "http://127.0.0.1:8233"} {
		resp := preflight(t, srv.URL, origin)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("preflight from %s: status %d, want 200", origin, resp.StatusCode)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != origin {
			t.Fatalf("Allow-Origin = %q, want %q", got, origin)
		}
		if got := resp.Header.Get("Access-Control-Allow-Credentials"); got != "true" {
			t.Fatalf("Allow-Credentials = %q, want true", got)
		}
		methods := resp.Header.Get("Access-Control-Allow-Methods")
		for _, m := range []string{"POST", "GET", "OPTIONS"} {
			if !strings.Contains(methods, m) {
				t.Fatalf("Allow-Methods %q lacks %s", methods, m)
			}
		}
		headers := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers"))
		for _, h := range []string{"authorization", "content-type", "x-namespace"} {
			if !strings.Contains(headers, h) {
				t.Fatalf("Allow-Headers %q lacks %s", headers, h)
			}
		}
	}

	resp := preflight(t, srv.URL, "https://evil.example")
	for _, h := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Headers", "Access-Control-Allow-Methods"} {
		if v := resp.Header.Get(h); v != "" {
			t.Fatalf("foreign origin got %s: %q", h, v)
		}
	}

	// The real request from the UI carries the CORS header too, also on a 401
	// so the UI can read the error.
	enc, err := NewCodec(k).Encode(samplePayloads(t)[:1])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(&commonpb.Payloads{Payloads: enc})
	for _, auth := range []string{"Bearer " + testToken, ""} {
		resp, b := post(t, srv.URL+"/decode", string(body), map[string]string{"Origin": "http://localhost:8233",
			"Content-Type": "application/json", "X-Namespace": "default", "Authorization": auth})
		wantStatus := http.StatusOK
		if auth == "" {
			wantStatus = http.StatusUnauthorized
		}
		if resp.StatusCode != wantStatus {
			t.Fatalf("POST /decode (auth %t): status %d, want %d: %s", auth != "", resp.StatusCode, wantStatus, b)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "http://localhost:8233" {
			t.Fatalf("POST /decode (auth %t): Allow-Origin = %q", auth != "", got)
		}
		// Protobuf JSON carries bytes as base64.
		if auth != "" && !strings.Contains(string(b), base64.StdEncoding.EncodeToString([]byte("json/plain"))) {
			t.Fatalf("decoded response lacks the original encoding: %s", b)
		}
	}
}

// post posts body to url with these headers (one with an empty value is
// not sent) and returns the answer and its whole body.
func post(t *testing.T, url, body string, headers map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read the answer of POST %s: %v", url, err)
	}
	return resp, b
}

func TestServerCustomOriginsReplaceDefaults(t *testing.T) {
	srv, _ := startServer(t, "", []string{" https://temporal.example.com/ ", ""})
	if got := preflight(t, srv.URL, "https://temporal.example.com").Header.Get("Access-Control-Allow-Origin"); got != "https://temporal.example.com" {
		t.Fatalf("configured origin: Allow-Origin = %q", got)
	}
	if got := preflight(t, srv.URL, "http://localhost:8233").Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Fatalf("default origin still allowed when origins are configured: %q", got)
	}
}

func TestServerHealthz(t *testing.T) {
	srv, _ := startServer(t, testToken, nil)
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz status = %d, want 200", resp.StatusCode)
	}

	resp, err = http.Get(srv.URL + "/decode")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Fatal("GET /decode succeeded; only POST is served")
	}
}

package codec

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/internal/testkit"
)

// startHTTPServer serves NewHTTPServer(o) on a loopback listener and returns its address.
func startHTTPServer(t *testing.T, o ServerOptions) string {
	t.Helper()
	_, key := newRawKey(t)
	return testkit.Serve(t, NewHTTPServer("127.0.0.1:0", NewCodec(mustKeyring(t, key, "")), o))
}

// rawPost opens a connection and sends a POST's head with the given extra
// header lines and the first part of its body; the caller sends the rest (or not).
func rawPost(t *testing.T, addr, path string, contentLength int, headers []string, first string) net.Conn {
	t.Helper()
	return testkit.RawPost(t, addr, path, contentLength, headers, []byte(first))
}

// trickle writes a byte every 50 ms until the connection fails or stop closes.
func trickle(conn net.Conn, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-time.After(50 * time.Millisecond):
		}
		if _, err := conn.Write([]byte(" ")); err != nil {
			return
		}
	}
}

// answer reads the server's answer and then waits for the server to close
// the connection, within limit. It returns the answer (nil when the close
// came first) and how long the close took.
func answer(t *testing.T, conn net.Conn, limit time.Duration) (*http.Response, string, time.Duration) {
	t.Helper()
	start := time.Now()
	_ = conn.SetReadDeadline(start.Add(limit))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	var body []byte
	if err == nil {
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			_, err = br.ReadByte() // the server closes after the answer
		}
	}
	elapsed := time.Since(start)
	testkit.ExpectClosed(t, err, limit)
	return resp, string(body), elapsed
}

func errorOf(t *testing.T, body string) string {
	t.Helper()
	var e struct{ Error string }
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
		t.Fatalf("answer %q is not a JSON error: %v", body, err)
	}
	return e.Error
}

// A client whose body stalls is answered 408 once the read timeout passes,
// in words that name no socket, and the connection is closed; one that
// keeps trickling bytes is cut off at the same deadline.
func TestServerCutsOffSlowBody(t *testing.T) {
	const readTimeout = 300 * time.Millisecond
	addr := startHTTPServer(t, ServerOptions{Token: testToken, ReadTimeout: readTimeout, WriteTimeout: 2 * time.Second})
	auth := []string{"Authorization: Bearer " + testToken}

	t.Run("stalled", func(t *testing.T) {
		conn := rawPost(t, addr, "/decode", 1000, auth, `{"payloads":[`)
		resp, body, elapsed := answer(t, conn, readTimeout+5*time.Second)
		if resp == nil || resp.StatusCode != http.StatusRequestTimeout {
			t.Fatalf("answer = %v %q, want 408", resp, body)
		}
		if got, want := errorOf(t, body), "request body was not received within 300ms"; got != want {
			t.Errorf("error = %q, want %q", got, want)
		}
		testkit.NoSocketIn(t, conn, "answer", body)
		if elapsed < readTimeout/2 {
			t.Errorf("answered after %s, before the read timeout of %s", elapsed, readTimeout)
		}
	})

	for name, headers := range map[string][]string{"trickling with the token": auth, "trickling without a token": nil} {
		t.Run(name, func(t *testing.T) {
			conn := rawPost(t, addr, "/decode", 100000, headers, `{"payloads":[`)
			stop := make(chan struct{})
			defer close(stop)
			go trickle(conn, stop)
			// The server may reset rather than close a connection it stops
			// reading, so the answer itself may be lost; the cut-off is what counts.
			resp, body, _ := answer(t, conn, readTimeout+5*time.Second)
			if resp != nil {
				testkit.NoSocketIn(t, conn, "answer", body)
			}
		})
	}
}

// A missing or wrong token is refused before any of the body is read: the
// 401 comes back although the body is never sent, and the connection closes.
func TestServerRefusesTokenBeforeBody(t *testing.T) {
	addr := startHTTPServer(t, ServerOptions{Token: testToken, ReadTimeout: 10 * time.Second})
	for name, headers := range map[string][]string{
		"missing":       nil,
		"wrong":         {"Authorization: Bearer not-the-token"},
		"longer":        {"Authorization: Bearer " + testToken + "x"},
		"wrong scheme":  {"Authorization: Basic " + testToken},
		"token shorter": {"Authorization: Bearer " + testToken[:len(testToken)-1]},
	} {
		t.Run(name, func(t *testing.T) {
			conn := rawPost(t, addr, "/decode", 100000, headers, "")
			resp, body, elapsed := answer(t, conn, 5*time.Second)
			if resp == nil || resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("answer = %v %q, want 401", resp, body)
			}
			if got := errorOf(t, body); got != "missing or invalid bearer token" {
				t.Errorf("error = %q", got)
			}
			if elapsed > 4*time.Second {
				t.Errorf("the 401 and the close took %s; they must not wait for the body (read timeout 10s)", elapsed)
			}
		})
	}

	// At the handler: the body is not touched.
	h := NewHandler(NewCodec(mustKeyring(t, mustKey(t), "")), ServerOptions{Token: testToken})
	body := &watchedBody{}
	req := httptest.NewRequest(http.MethodPost, "/decode", nil)
	req.Body = body
	req.ContentLength = 1000
	req.Header.Set("Authorization", "Bearer wrong")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized || body.reads != 0 {
		t.Fatalf("answer %d after %d reads of the body; want 401 and none", rec.Code, body.reads)
	}
	if rec.Header().Get("Connection") != "close" {
		t.Errorf("a 401 with an unread body must close the connection")
	}
}

type watchedBody struct{ reads int }

func (b *watchedBody) Read([]byte) (int, error) { b.reads++; return 0, io.EOF }
func (b *watchedBody) Close() error             { return nil }

func mustKey(t *testing.T) string {
	_, key := newRawKey(t)
	return key
}

// A body over the limit gets 413 and a specific message: at once when its
// Content-Length says so (the body is never sent here), and when a chunked
// body grows past the limit.
func TestServerBodyLimit(t *testing.T) {
	const limit = 1024
	addr := startHTTPServer(t, ServerOptions{Token: testToken, MaxBodyBytes: limit, ReadTimeout: 10 * time.Second})
	auth := []string{"Authorization: Bearer " + testToken}

	conn := rawPost(t, addr, "/decode", limit+1, auth, "")
	resp, body, elapsed := answer(t, conn, 5*time.Second)
	if resp == nil || resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("declared length over the limit: answer = %v %q, want 413", resp, body)
	}
	if got, want := errorOf(t, body), "request body larger than 1024 bytes"; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	if elapsed > 4*time.Second {
		t.Errorf("the 413 took %s; it must not wait for the body", elapsed)
	}

	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/decode",
		struct{ io.Reader }{strings.NewReader(`{"payloads":[` + strings.Repeat(" ", 2*limit) + `]}`)})
	req.Header.Set("Authorization", "Bearer "+testToken)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != http.StatusRequestEntityTooLarge || errorOf(t, string(b)) != "request body larger than 1024 bytes" {
		t.Fatalf("chunked body over the limit: answer = %d %s, want 413", r.StatusCode, b)
	}

	// At the limit the request is served.
	ok := `{"payloads":[]}`
	r, _ = post(t, "http://"+addr+"/encode", ok+strings.Repeat(" ", limit-len(ok)), map[string]string{"Authorization": "Bearer " + testToken})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("body at the limit: status %d, want 200", r.StatusCode)
	}
}

func TestHTTPServerTimeouts(t *testing.T) {
	srv := NewHTTPServer(":0", nil, ServerOptions{})
	if srv.ReadTimeout != DefaultReadTimeout || srv.WriteTimeout != DefaultWriteTimeout || srv.IdleTimeout <= 0 ||
		srv.ReadHeaderTimeout <= 0 || srv.MaxHeaderBytes <= 0 {
		t.Fatalf("defaults: read %s, write %s, idle %s, header %s, max header %d", srv.ReadTimeout, srv.WriteTimeout,
			srv.IdleTimeout, srv.ReadHeaderTimeout, srv.MaxHeaderBytes)
	}
	srv = NewHTTPServer(":0", nil, ServerOptions{ReadTimeout: 2 * time.Second, WriteTimeout: 3 * time.Second})
	if srv.ReadTimeout != 2*time.Second || srv.WriteTimeout != 3*time.Second || srv.ReadHeaderTimeout != 2*time.Second {
		t.Fatalf("configured: read %s, write %s, header %s", srv.ReadTimeout, srv.WriteTimeout, srv.ReadHeaderTimeout)
	}
}

// Tokens are compared by their SHA-256 digests (tokenMatches takes the
// wanted digest, a fixed-size array, so nothing of unequal length reaches
// subtle.ConstantTimeCompare): whatever the length of what is sent, a
// prefix, an extension or a token of equal length, only the token matches.
func TestTokenComparedByDigest(t *testing.T) {
	want := tokenDigest(testToken)
	candidates := []string{"", testToken[:1], testToken[:len(testToken)-1], testToken + "x", testToken + testToken,
		strings.ToUpper(testToken), " " + testToken, strings.Repeat("a", len(testToken)), strings.Repeat("a", 1000)}
	for _, got := range candidates {
		if tokenMatches(got, want) {
			t.Errorf("token %q (%d bytes) matched a token of %d bytes", got, len(got), len(testToken))
		}
	}
	if !tokenMatches(testToken, want) {
		t.Error("the token itself did not match")
	}
}

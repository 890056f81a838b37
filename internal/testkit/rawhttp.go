package testkit

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The helpers below play a client that net/http would not be: one that
// sends a request's head and stops part way through its body, for the tests
// of a server's time limits.

// Serve serves srv on a loopback listener until the test ends and returns
// the listener's address.
func Serve(t testing.TB, srv *http.Server) string {
	t.Helper()
	ln := Listen(t)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// RawPost opens a connection to addr and sends the head of a JSON POST to
// target, with the extra header lines given, and the first part of its
// body; the caller sends the rest, or not. The connection is closed when
// the test ends.
func RawPost(t testing.TB, addr, target string, contentLength int, headers []string, first []byte) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var head strings.Builder
	fmt.Fprintf(&head, "POST %s HTTP/1.1\r\nHost: erpbridge.test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", target, contentLength)
	for _, h := range headers {
		head.WriteString(h + "\r\n")
	}
	head.WriteString("\r\n")
	if _, err := conn.Write(append([]byte(head.String()), first...)); err != nil {
		t.Fatal(err)
	}
	return conn
}

// ExpectClosed fails unless err, what a read from a connection returned,
// says that the server closed it; a read that timed out means the server
// kept it open for limit.
func ExpectClosed(t testing.TB, err error, limit time.Duration) {
	t.Helper()
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		t.Fatalf("the server kept the connection open for %s", limit)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
	default:
		t.Fatalf("reading from the connection: %v", err)
	}
}

// NoSocketIn fails when text, an answer or a log, names either end of conn
// or the network error behind a cut-off read.
func NoSocketIn(t testing.TB, conn net.Conn, what, text string) {
	t.Helper()
	for _, a := range []net.Addr{conn.LocalAddr(), conn.RemoteAddr()} {
		_, port, _ := net.SplitHostPort(a.String())
		for _, leak := range []string{"127.0.0.1", ":" + port, "tcp", "i/o timeout"} {
			if strings.Contains(text, leak) {
				t.Errorf("%s names %q:\n%s", what, leak, text)
			}
		}
	}
}

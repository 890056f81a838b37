package reason_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/internal/reason"
	"github.com/erpbridge/erpbridge/internal/testkit"
)

// A call without an answer is told apart by why: the caller gave up, the
// call's own bound ran out, or the network failed; the URL, which may hold
// a password, is never quoted.
func TestTransport(t *testing.T) {
	addr := testkit.FreeAddr(t) // nothing listens there: connection refused
	call := func(ctx context.Context, timeout time.Duration, url string) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
		_, err := (&http.Client{Timeout: timeout}).Do(req)
		if err == nil {
			t.Fatal("call answered")
		}
		return err
	}
	refused := call(t.Context(), time.Second, "http://user:s3cret@"+addr+"/x")
	if got := reason.Transport(t.Context(), refused, time.Second); !strings.HasPrefix(got, "network error: ") || strings.Contains(got, "s3cret") || strings.Contains(got, addr+"/x") {
		t.Errorf("refused: %q", got)
	}

	silent := "http://" + testkit.SilentAddr(t) + "/"
	timedOut := call(t.Context(), 50*time.Millisecond, silent)
	if got := reason.Transport(t.Context(), timedOut, 50*time.Millisecond); got != "no answer within 50ms" {
		t.Errorf("timed out: %q", got)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if got := reason.Transport(ctx, call(ctx, time.Second, silent), time.Second); got != "call abandoned: context canceled" {
		t.Errorf("abandoned: %q", got)
	}
	if !reason.IsTimeout(context.DeadlineExceeded) || reason.IsTimeout(errors.New("x")) {
		t.Error("IsTimeout")
	}
}

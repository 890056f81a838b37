package reason

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Transport says why a call got no answer, for a reason: abandoned (ctx, the
// caller's context, ended), no answer within timeout (the call's own
// bound), or a network error. The URL that url.Error repeats is left out: a
// configured URL may carry a password, and the reason names the call anyway.
func Transport(ctx context.Context, err error, timeout time.Duration) string {
	switch {
	case ctx.Err() != nil:
		return "call abandoned: " + ctx.Err().Error()
	case IsTimeout(err):
		return fmt.Sprintf("no answer within %s", timeout)
	default:
		return "network error: " + OneLine(withoutURL(err).Error())
	}
}

// IsTimeout says whether err is a timeout (a deadline, a dial or read timeout).
func IsTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// withoutURL is a transport error without the method and URL url.Error
// adds to it.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

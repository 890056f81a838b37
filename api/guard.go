package api

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"os"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/erpbridge/erpbridge/vendors"
)

// overloadRetryAfter is the Retry-After, in seconds, of an answer past the
// concurrency cap. Vendors keep their own schedule (AutoX3's first
// redelivery comes after 2 s); the header is for those that read it.
const overloadRetryAfter = "2"

// limit caps the webhook requests this process handles at once, over all
// vendors (h.slots holds WEBHOOK_MAX_CONCURRENT places). Past the cap a
// request is answered 503 at once in the vendor's own format, without its
// body being read, so the vendor delivers again later; the connection is
// closed to shed the load. /healthz, /readyz and /metrics do not pass here.
func (h *handlers) limit(v vendors.Vendor) gin.HandlerFunc {
	return func(c *gin.Context) {
		select {
		case h.slots <- struct{}{}:
		default:
			start := time.Now()
			c.Set("vendor", v.Name())
			c.Header("Retry-After", overloadRetryAfter)
			c.Header("Connection", "close")
			status, msg := h.answer(c, v.Name(), "", start, false,
				refuse(http.StatusServiceUnavailable, "overloaded", "too many callbacks in progress; deliver again later"))
			c.AbortWithStatusJSON(status, v.Reply(status, msg))
			return
		}
		h.Metrics.WebhookInFlight.Inc()
		defer func() {
			h.Metrics.WebhookInFlight.Dec()
			<-h.slots
		}()
		c.Next()
	}
}

// watchAuth counts and logs the webhook's refused authentications once the
// handler has answered (see authFailures).
func (h *handlers) watchAuth(v vendors.Vendor) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		outcome, _ := c.Get("outcome")
		switch outcome {
		case "unauthorized", "forbidden":
			addr, _ := netip.ParseAddr(c.ClientIP())
			h.authFailures.record(time.Now(), addr, v.Name(), outcome.(string))
		}
	}
}

// unreadBody is the refusal of a body that could not be read. The error
// names socket addresses, so it goes to the log; the sender is told what
// happened in words it can act on.
func (h *handlers) unreadBody(c *gin.Context, err error) *refusal {
	vendor, _ := c.Get("vendor")
	h.Logger.Warn("callback body could not be read", "vendor", vendor, "error", err)
	var ne net.Error
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return refuse(http.StatusRequestTimeout, "timeout", "request body was not received within %s; deliver again", h.Config.HTTP.ReadTimeout)
	}
	return refuse(http.StatusBadRequest, "malformed", "request body could not be read: the connection broke off or the body's encoding is invalid")
}

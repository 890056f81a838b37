package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/store"
	"github.com/erpbridge/erpbridge/tracing"
	"github.com/erpbridge/erpbridge/vendors"
)

// storeRetryAfter is how long the edge goes straight to Temporal after the
// store failed to take a callback, before it tries the store again.
const storeRetryAfter = time.Second

// refusal is a callback the API will not take, with the HTTP status and the metric outcome.
type refusal struct {
	status  int
	outcome string
	msg     string
}

func (r *refusal) Error() string { return r.msg }

func refuse(status int, outcome, format string, args ...any) *refusal {
	return &refusal{status: status, outcome: outcome, msg: fmt.Sprintf(format, args...)}
}

// webhook is the endpoint of one vendor: limit, read, authenticate, store
// (waking the relay, which starts the event's workflow), answer in the
// vendor's own reply format. Timing, metrics and the status
// code of the answer are the same for every vendor.
func (h *handlers) webhook(v vendors.Vendor) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Set("vendor", v.Name())
		meta, dup, err := h.accept(c, v)
		status, msg := h.answer(c, v.Name(), meta.EventType, start, dup, err)
		c.JSON(status, v.Reply(status, msg))
	}
}

// accept reads the body, lets the vendor authenticate and key it, and keeps it.
func (h *handlers) accept(c *gin.Context, v vendors.Vendor) (vendors.Meta, bool, error) {
	body, err := h.readBody(c)
	if err != nil {
		return vendors.Meta{}, false, err
	}
	req := &vendors.Request{Header: c.Request.Header, Query: c.Request.URL.Query(), Body: body}
	if addr, err := netip.ParseAddr(c.ClientIP()); err == nil {
		req.Source = addr
	}
	meta, err := v.Accept(req)
	if err != nil {
		return vendors.Meta{}, false, classify(err)
	}
	h.countAuth(v.Name(), meta.Auth)
	c.Set("event_key", meta.EventKey)
	dup, err := h.keep(c, store.Inbound{Vendor: v.Name(), EventKey: meta.EventKey, EventType: meta.EventType, Body: body,
		WorkflowID: flow.EventWorkflowID(v.Name(), meta.EventKey), ReceivedAt: time.Now().UTC(), TraceParent: tracing.Parent(c.Request.Context())})
	return meta, dup, err
}

// countAuth counts how an authentic callback verified; the labels are the
// vendor's fixed names and a position in the configured secret list.
func (h *handlers) countAuth(vendor string, a vendors.Auth) {
	variant := a.Variant
	if variant == "" {
		variant = "default"
	}
	h.Metrics.CallbackAuth.WithLabelValues(vendor, variant, strconv.Itoa(a.Secret)).Inc()
}

// readBody enforces the size limit and reads the raw bytes; a body of a
// media type other than JSON is taken only if it parses as JSON.
func (h *handlers) readBody(c *gin.Context) ([]byte, error) {
	if h.Draining() {
		return nil, refuse(http.StatusServiceUnavailable, "unavailable", "shutting down; deliver again")
	}
	limit := h.Config.HTTP.MaxBodyBytes
	if c.Request.ContentLength > limit {
		return nil, refuse(http.StatusRequestEntityTooLarge, "too_large", "body of %d bytes is over the limit of %d bytes", c.Request.ContentLength, limit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, refuse(http.StatusRequestEntityTooLarge, "too_large", "body is over the limit of %d bytes", limit)
		}
		return nil, h.unreadBody(c, err)
	}
	if body, err = decodeContent(c, body, limit); err != nil {
		return nil, err
	}
	// JSON has no byte order mark, but a reader may ignore one (RFC 8259,
	// section 8.1): one written before the JSON is dropped, not refused.
	body = bytes.TrimPrefix(body, []byte("\ufeff"))
	if len(body) == 0 {
		return nil, refuse(http.StatusBadRequest, "malformed", "empty body")
	}
	if !utf8.Valid(body) {
		return nil, refuse(http.StatusBadRequest, "malformed", "body is not valid UTF-8 (JSON must be UTF-8)")
	}
	// The vendors document no headers, and Java's HttpURLConnection labels a
	// JSON body application/x-www-form-urlencoded unless told otherwise: the
	// body decides. One labelled otherwise that is not JSON is refused as
	// such; one labelled JSON that is not gets the vendor's own 400.
	if ct := c.GetHeader("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); (err != nil || !jsonLike(mt)) && !json.Valid(body) {
			return nil, refuse(http.StatusUnsupportedMediaType, "unsupported_media_type",
				"Content-Type %q is not JSON and neither is the body; send a JSON body (application/json)", ct)
		}
	}
	return body, nil
}

// decodeContent undoes the body's Content-Encoding: none or identity
// leaves it as it is, gzip is decompressed to at most limit bytes (the
// limit applies to the JSON, so a small compressed body cannot grow past
// it), and any other coding is refused with 415 and Accept-Encoding naming
// the one taken (RFC 7694).
func decodeContent(c *gin.Context, body []byte, limit int64) ([]byte, error) {
	coding := strings.ToLower(strings.TrimSpace(c.GetHeader("Content-Encoding")))
	switch coding {
	case "", "identity":
		return body, nil
	case "gzip", "x-gzip":
	default:
		c.Header("Accept-Encoding", "gzip")
		return nil, refuse(http.StatusUnsupportedMediaType, "unsupported_media_type",
			"Content-Encoding %q is not supported; send the body uncompressed or with gzip", c.GetHeader("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, refuse(http.StatusBadRequest, "malformed", "Content-Encoding is gzip but the body is not gzip data")
	}
	plain, err := io.ReadAll(io.LimitReader(zr, limit+1))
	switch {
	case err != nil:
		return nil, refuse(http.StatusBadRequest, "malformed", "Content-Encoding is gzip but the gzip data is damaged or cut short")
	case int64(len(plain)) > limit:
		return nil, refuse(http.StatusRequestEntityTooLarge, "too_large", "body is over the limit of %d bytes once decompressed", limit)
	}
	return plain, nil
}

// jsonLike accepts JSON media types, and text/plain which some senders use for JSON bodies.
func jsonLike(mt string) bool {
	switch {
	case mt == "application/json", mt == "text/json", mt == "text/plain", strings.HasSuffix(mt, "+json"):
		return true
	}
	return false
}

// classify maps a vendor's refusal to an answer: unauthenticated is 401, a
// source not allowed 403, anything else (vendors.ErrMalformed) 400.
func classify(err error) error {
	switch {
	case errors.Is(err, vendors.ErrUnauthorized):
		return refuse(http.StatusUnauthorized, "unauthorized", "%s", strings.TrimSuffix(err.Error(), ": "+vendors.ErrUnauthorized.Error()))
	case errors.Is(err, vendors.ErrForbidden):
		return refuse(http.StatusForbidden, "forbidden", "%s", strings.TrimSuffix(err.Error(), ": "+vendors.ErrForbidden.Error()))
	}
	return refuse(http.StatusBadRequest, "malformed", "%s", err.Error())
}

// keep keeps the callback durably, by whichever path is up: stored in the
// database (the claim check), waking the relay, which starts its workflow;
// or, when the store cannot take it within its budget, carried in its
// workflow's start, the workflow storing it once the store is back. Only
// when neither path takes it is it refused (503), so the vendor delivers it
// again. It reports a duplicate when the callback was kept before: a
// redelivery, whether or not its workflow has started yet.
func (h *handlers) keep(c *gin.Context, in store.Inbound) (bool, error) {
	c.Set("workflow_id", in.WorkflowID)
	var storeErr error
	if h.Store != nil && h.storeUsable() {
		ctx, cancel := context.WithTimeout(c.Request.Context(), h.Config.HTTP.StoreTimeout)
		dup, err := h.Store.Receive(ctx, in)
		cancel()
		if err == nil {
			h.storeRecovered()
			h.Metrics.CallbacksKept.WithLabelValues(in.Vendor, "store").Inc()
			if h.Relay != nil {
				h.Relay.Kick()
			}
			return dup, nil
		}
		storeErr = err
		h.storeFailed(in.Vendor, err)
	}
	if h.Relay != nil && c.Request.Context().Err() == nil {
		ctx, cancel := context.WithTimeout(c.Request.Context(), h.Config.HTTP.TemporalTimeout)
		dup, err := h.Relay.Carry(ctx, in, h.Config.Temporal.MaxPayloadBytes)
		cancel()
		if err == nil {
			h.Metrics.CallbacksKept.WithLabelValues(in.Vendor, "temporal").Inc()
			return dup, nil
		}
		h.Logger.Error("could not keep callback: the store and Temporal both failed", "vendor", in.Vendor, "workflow_id", in.WorkflowID,
			"store_error", errText(storeErr), "temporal_error", err)
	}
	return false, refuse(http.StatusServiceUnavailable, "unavailable", "could not keep the callback durably; deliver again later")
}

// storeUsable reports whether the edge tries the store: not in the second
// after it failed to take a callback, so that while it is down each callback
// goes straight to Temporal instead of waiting out the store's budget.
func (h *handlers) storeUsable() bool {
	return time.Now().UnixNano() >= h.storeDownUntil.Load()
}

// storeFailed notes a failed store write, logged once per outage.
func (h *handlers) storeFailed(vendor string, err error) {
	h.storeDownUntil.Store(time.Now().Add(storeRetryAfter).UnixNano())
	if h.storeDown.CompareAndSwap(false, true) {
		h.Logger.Warn("the store cannot take callbacks; carrying them to Temporal until it can", "vendor", vendor, "error", err)
	}
}

// storeRecovered notes a store write that succeeded after a failure.
func (h *handlers) storeRecovered() {
	if h.storeDown.CompareAndSwap(true, false) {
		h.Logger.Info("the store takes callbacks again")
	}
}

func errText(err error) string {
	if err == nil {
		return "not tried (failing a moment ago)"
	}
	return err.Error()
}

// answer counts the outcome and returns the HTTP status and message of the reply.
func (h *handlers) answer(c *gin.Context, vendor, eventType string, start time.Time, dup bool, err error) (int, string) {
	outcome, status, msg := "accepted", http.StatusOK, ""
	if dup {
		outcome = "duplicate"
		h.Metrics.Duplicates.WithLabelValues(vendor).Inc()
	}
	if err != nil {
		var r *refusal
		if !errors.As(err, &r) {
			r = refuse(http.StatusInternalServerError, "error", "internal error")
		}
		outcome, status, msg = r.outcome, r.status, r.msg
	}
	if eventType == "" {
		eventType = "unknown"
	}
	c.Set("outcome", outcome)
	h.Metrics.Callbacks.WithLabelValues(vendor, eventType, outcome).Inc()
	h.Metrics.AckSeconds.WithLabelValues(vendor, outcome).Observe(time.Since(start).Seconds())
	return status, msg
}

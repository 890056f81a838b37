// Package api is erpbridge's HTTP edge: vendor webhooks, health, readiness
// and metrics. A webhook handler limits, reads and authenticates a callback,
// stores it (the intake's relay then starts its event's workflow) and
// answers in the vendor's own format; everything else happens in the
// workflows.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"

	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/metrics"
	"github.com/erpbridge/erpbridge/store"
	"github.com/erpbridge/erpbridge/tracing"
	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/vendors/registry"
)

// Temporal is the part of the Temporal client the API uses.
type Temporal interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
	CheckHealth(ctx context.Context, request *client.CheckHealthRequest) (*client.CheckHealthResponse, error)
}

// Relay is the part of the intake's relay the API uses.
type Relay interface {
	// Kick wakes the relay for a newly stored callback; it never blocks.
	Kick()
	// Carry starts a callback's workflow with its body in the start, for
	// when the store cannot take it; a workflow that exists is a duplicate.
	Carry(ctx context.Context, in store.Inbound, maxPayload int64) (duplicate bool, err error)
	// Backlog is what the relay last saw: callbacks waiting for a workflow,
	// the age of the oldest, and whether Temporal answered the last start.
	Backlog() (waiting int64, oldestAge time.Duration, temporalReachable bool)
}

// Deps are the API's dependencies.
type Deps struct {
	// Config is FromEnv's, or config.Default() with changes; NewRouter and
	// NewAdminHandler refuse one that does not validate.
	Config   config.Config
	Temporal Temporal
	Store    *store.Store
	Vendors  *vendors.Registry // nil: every vendor of vendors/registry, configured from Config
	// Relay starts the workflows of stored callbacks (intake.Relay); the
	// edge wakes it, and readiness shows its backlog.
	Relay   Relay
	Metrics *metrics.Metrics
	Logger  *slog.Logger
	// Tracing traces each webhook request; nil: off.
	Tracing *tracing.Tracing
	// Draining, when it returns true, makes the webhooks answer 503 so vendors
	// redeliver elsewhere or later, and readiness fail (set during graceful shutdown).
	Draining func() bool
}

// NewRouter builds the Gin engine of the webhooks and /healthz; /readyz and
// /metrics are on it too unless ADMIN_ADDR gives them their own address
// (see NewAdminHandler).
func NewRouter(d Deps) (*gin.Engine, error) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery(), accessLog(d.Logger))
	// Only configured proxies may speak for a client's address.
	if err := r.SetTrustedProxies(d.Config.HTTP.TrustedProxies); err != nil {
		return nil, err
	}
	r.ForwardedByClientIP = len(d.Config.HTTP.TrustedProxies) > 0
	r.RemoteIPHeaders = []string{"X-Forwarded-For"}
	h, err := newHandlers(d)
	if err != nil {
		return nil, err
	}
	h.slots = make(chan struct{}, d.Config.HTTP.WebhookConcurrency)
	h.Metrics.WebhookMaxConcurrent.Set(float64(cap(h.slots)))
	h.authFailures = newAuthFailures(h.Logger, h.Metrics.AuthFailures, authMaxSources)
	for _, name := range h.Vendors.Names() {
		v, _ := h.Vendors.Get(name)
		r.POST("/webhooks/"+name, traceRequest(h.Tracing, name), h.watchAuth(v), h.limit(v), h.webhook(v))
	}
	r.GET("/healthz", healthz)
	if d.Config.HTTP.AdminAddr == "" {
		h.adminRoutes(r)
	}
	return r, nil
}

// NewAdminHandler serves /readyz, /metrics and /healthz on the admin address.
func NewAdminHandler(d Deps) (http.Handler, error) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery())
	h, err := newHandlers(d)
	if err != nil {
		return nil, err
	}
	r.GET("/healthz", healthz)
	h.adminRoutes(r)
	return r, nil
}

func newHandlers(d Deps) (*handlers, error) {
	if err := d.Config.Validate(); err != nil {
		return nil, err
	}
	if d.Metrics == nil {
		d.Metrics = metrics.New()
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Draining == nil {
		d.Draining = func() bool { return false }
	}
	if d.Tracing == nil {
		d.Tracing = tracing.Off()
	}
	if d.Vendors == nil {
		reg, err := registry.New(d.Config)
		if err != nil {
			return nil, err
		}
		d.Vendors = reg
	}
	return &handlers{Deps: d}, nil
}

func (h *handlers) adminRoutes(r *gin.Engine) {
	r.GET("/readyz", h.ready)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(h.Metrics.Registry, promhttp.HandlerOpts{})))
}

func healthz(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) }

type handlers struct {
	Deps
	// storeDownUntil is when, in Unix ns, the edge tries the store again
	// after it failed to take a callback; storeDown says it is failing.
	storeDownUntil atomic.Int64
	storeDown      atomic.Bool
	// slots has a place per webhook request handled at once (WEBHOOK_MAX_CONCURRENT).
	slots chan struct{}
	// authFailures counts and logs refused authentications per source.
	authFailures *authFailures
}

// ready answers 200 while the api can durably take a callback by one path
// at least (the store, or a workflow start carrying the body), and says which
// is degraded when one is down; 503 when neither is, or while shutting down.
// The backlog waiting for a workflow is shown with its oldest age. The
// answer names no host and quotes no driver error.
func (h *handlers) ready(c *gin.Context) {
	// Both checks at once, each with the whole budget: a store that hangs
	// must not use up Temporal's time and make it look down too.
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	storeDone := make(chan bool, 1)
	go func() { storeDone <- h.Store != nil && h.Store.Ready(ctx) == nil }()
	checks := gin.H{}
	temporalOK := false
	if h.Temporal == nil {
		checks["temporal"] = "not configured"
	} else if _, err := h.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		checks["temporal"] = "unreachable"
	} else {
		checks["temporal"], temporalOK = "ok", true
	}
	storeOK := <-storeDone
	checks["database"] = map[bool]string{true: "ok", false: "unreachable"}[storeOK]
	out := gin.H{"checks": checks}
	code := http.StatusOK
	switch {
	case h.Draining():
		out["status"], code = "shutting down", http.StatusServiceUnavailable
	case storeOK && temporalOK:
		out["status"] = "ready"
	case storeOK:
		out["status"], out["degraded"] = "degraded", "temporal"
		out["detail"] = "callbacks are stored and acknowledged; their workflows start when Temporal answers"
	case temporalOK:
		out["status"], out["degraded"] = "degraded", "database"
		out["detail"] = "callbacks are acknowledged by starting their workflows with the body; they are stored when the database answers"
	default:
		out["status"], code = "unavailable", http.StatusServiceUnavailable
		out["detail"] = "neither the database nor Temporal answers: callbacks are refused (503) so that vendors deliver them again"
	}
	if h.Relay != nil {
		waiting, age, _ := h.Relay.Backlog()
		out["backlog"] = gin.H{"waiting": waiting, "oldest_seconds": int64(age.Seconds())}
	}
	c.JSON(code, out)
}

// requestFacts are what a webhook handler notes on its request (c.Set) for
// the access log and the request's span: none is personal data.
var requestFacts = []string{"event_key", "workflow_id", "outcome"}

// accessLog logs each request without its query string (the Fenbeitong token travels there).
func accessLog(log *slog.Logger) gin.HandlerFunc {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		attrs := []any{"method", c.Request.Method, "path", c.Request.URL.Path, "status", c.Writer.Status(),
			"duration_ms", time.Since(start).Milliseconds()}
		for _, k := range append([]string{"vendor"}, requestFacts...) {
			if v, ok := c.Get(k); ok {
				attrs = append(attrs, k, v)
			}
		}
		log.Info("http request", attrs...)
	}
}

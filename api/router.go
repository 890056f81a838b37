// Package api is erpbridge's HTTP edge: vendor webhooks, health, readiness
// and metrics. Handlers limit, read, verify, start the event's workflow and
// answer; everything else happens in the workflow.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"
	"gorm.io/gorm"

	"github.com/erpbridge/erpbridge/internal/config"
	"github.com/erpbridge/erpbridge/internal/metrics"
	"github.com/erpbridge/erpbridge/store"
	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/vendors/registry"
)

// Temporal is the part of the Temporal client the API uses.
type Temporal interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
	CheckHealth(ctx context.Context, request *client.CheckHealthRequest) (*client.CheckHealthResponse, error)
}

// Deps are the API's dependencies.
type Deps struct {
	Config   config.Config
	Temporal Temporal
	DB       *gorm.DB
	Vendors  *vendors.Registry // nil: every vendor of vendors/registry, configured from Config
	Metrics  *metrics.Metrics
	Logger   *slog.Logger
	// Draining, when it returns true, makes the webhooks answer 503 so vendors
	// redeliver elsewhere or later (set during graceful shutdown).
	Draining func() bool
}

// NewRouter builds the Gin engine with every route.
func NewRouter(d Deps) (*gin.Engine, error) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery(), accessLog(d.Logger))
	// Only configured proxies may speak for a client's address.
	if err := r.SetTrustedProxies(d.Config.TrustedProxies); err != nil {
		return nil, err
	}
	r.ForwardedByClientIP = len(d.Config.TrustedProxies) > 0
	r.RemoteIPHeaders = []string{"X-Forwarded-For"}
	if d.Metrics == nil {
		d.Metrics = metrics.New()
	}
	if d.Draining == nil {
		d.Draining = func() bool { return false }
	}
	h := &handlers{Deps: d}
	if d.Vendors == nil {
		reg, err := registry.New(d.Config)
		if err != nil {
			return nil, err
		}
		d.Vendors = reg
	}
	for _, name := range d.Vendors.Names() {
		v, _ := d.Vendors.Get(name)
		r.POST("/webhooks/"+name, h.webhook(v))
	}
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", h.ready)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(d.Metrics.Registry, promhttp.HandlerOpts{})))
	return r, nil
}

type handlers struct {
	Deps
}

// ready answers 200 when the database and Temporal answer, 503 with the reason otherwise.
func (h *handlers) ready(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	checks := gin.H{}
	ok := true
	if h.Draining() {
		checks["api"], ok = "shutting down", false
	}
	if h.DB == nil {
		checks["database"], ok = "not configured", false
	} else if err := store.Ping(ctx, h.DB); err != nil {
		checks["database"], ok = "unreachable: "+err.Error(), false
	} else {
		checks["database"] = "ok"
	}
	if h.Temporal == nil {
		checks["temporal"], ok = "not configured", false
	} else if _, err := h.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		checks["temporal"], ok = "unreachable: "+err.Error(), false
	} else {
		checks["temporal"] = "ok"
	}
	if !ok {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "checks": checks})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "checks": checks})
}

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
		for _, k := range []string{"vendor", "msg_id", "workflow_id", "outcome"} {
			if v, ok := c.Get(k); ok {
				attrs = append(attrs, k, v)
			}
		}
		log.Info("http request", attrs...)
	}
}

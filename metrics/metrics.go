// Package metrics holds erpbridge's Prometheus metrics, all prefixed erpbridge_.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the service's own instruments, registered on one registry.
type Metrics struct {
	Registry *prometheus.Registry

	// Callbacks counts callbacks by vendor, event type and outcome
	// (accepted, duplicate, unauthorized, forbidden, malformed, too_large,
	// timeout, unsupported_media_type, unavailable, overloaded).
	Callbacks *prometheus.CounterVec
	// AckSeconds is the time from request to answer, by vendor and outcome.
	AckSeconds *prometheus.HistogramVec
	// CallbackAuth counts authentic callbacks by vendor, the form their
	// signature or token verified in (AutoX3's fixed signature variants,
	// Fenbeitong's "token") and the position of the configured secret that
	// verified (0 = newest), never the secret: during a rotation it shows
	// when the old secret stops being used.
	CallbackAuth *prometheus.CounterVec
	// CallbacksKept counts the callbacks the edge kept durably, by vendor
	// and path: "store" (the claim check in the database, the relay starts
	// the workflow) or "temporal" (carried in the workflow's start, while the
	// store could not take it).
	CallbacksKept *prometheus.CounterVec
	// ReconcileOrders counts the orders a reconciliation found, by vendor and
	// outcome: found (listed), new (stored as a new event), unchanged
	// (already stored as they are), invalid (not readable as a push).
	ReconcileOrders *prometheus.CounterVec
	// ReconcileEvents counts the pulled events persisted, by vendor and
	// outcome: changed (a newer state of its record, sent to the ERP) or
	// unchanged (the record already had that state or a newer one).
	ReconcileEvents *prometheus.CounterVec
	// Duplicates counts redeliveries that started nothing, by vendor.
	Duplicates *prometheus.CounterVec
	// ERPSyncs counts ERP send outcomes (accepted, duplicate, retry, rejected) by source and kind.
	ERPSyncs *prometheus.CounterVec
	// ERPSyncSeconds is the latency of ERP sends by outcome.
	ERPSyncSeconds *prometheus.HistogramVec
	// Persisted counts persisted events by vendor and whether they were applied as newest state.
	Persisted *prometheus.CounterVec
	// IntakeBacklog is the number of stored callbacks waiting for a workflow.
	IntakeBacklog prometheus.Gauge
	// IntakeOldestSeconds is the age of the oldest stored callback waiting for a workflow (0 when none).
	IntakeOldestSeconds prometheus.Gauge
	// RecordsParked is the number of records whose newest state the ERP
	// rejected and that wait for an operator's retry or skip.
	RecordsParked prometheus.Gauge
	// RecordsParkedOldestSeconds is how long the longest-parked record has
	// waited for an operator (0 when none is parked).
	RecordsParkedOldestSeconds prometheus.Gauge
	// RelayStarts counts the relay's workflow starts by vendor and outcome (started, duplicate, failed).
	RelayStarts *prometheus.CounterVec
	// WebhookInFlight is the number of webhook requests being handled now.
	WebhookInFlight prometheus.Gauge
	// WebhookMaxConcurrent is the cap on WebhookInFlight (WEBHOOK_MAX_CONCURRENT);
	// requests past it are answered 503 and counted as outcome "overloaded".
	WebhookMaxConcurrent prometheus.Gauge
	// AuthFailures counts refused authentications by vendor, reason
	// (unauthorized, forbidden) and whether the source address had already
	// failed within the last minute (repeated "true"). No label carries
	// anything the sender chooses.
	AuthFailures *prometheus.CounterVec
}

// New creates the metrics on a fresh registry that also carries the Go and process collectors.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		Registry: reg,
		Callbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "erpbridge_callbacks_total", Help: "Vendor callbacks received, by vendor, event type and outcome.",
		}, []string{"vendor", "event_type", "outcome"}),
		AckSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "erpbridge_callback_ack_seconds", Help: "Time from receiving a callback to answering it.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"vendor", "outcome"}),
		CallbackAuth: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "erpbridge_callback_auth_total",
			Help: "Authentic callbacks, by vendor, the signature variant that verified and the position of the secret that verified (0 = newest).",
		}, []string{"vendor", "variant", "secret"}),
		CallbacksKept: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "erpbridge_callbacks_kept_total", Help: "Callbacks the edge kept durably, by vendor and path: store (the database, then the relay) or temporal (carried in the workflow's start while the store could not take it).",
		}, []string{"vendor", "path"}),
		ReconcileOrders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "erpbridge_reconcile_orders_total", Help: "Orders a reconciliation found in a vendor's API, by vendor and outcome: found (listed), new (stored as a new event), unchanged (already stored as they are), invalid.",
		}, []string{"vendor", "outcome"}),
		ReconcileEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "erpbridge_reconcile_events_total", Help: "Events pulled by a reconciliation and persisted, by vendor and outcome: changed (a newer state of its record, sent to the ERP) or unchanged.",
		}, []string{"vendor", "outcome"}),
		Duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "erpbridge_callback_duplicates_total", Help: "Redelivered callbacks that started no new workflow.",
		}, []string{"vendor"}),
		ERPSyncs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "erpbridge_erp_sync_total", Help: "ERP sends by vendor (source), kind and outcome: accepted, duplicate, retry, rejected.",
		}, []string{"source", "kind", "outcome"}),
		ERPSyncSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "erpbridge_erp_sync_seconds", Help: "Latency of ERP sends.",
			Buckets: prometheus.DefBuckets,
		}, []string{"outcome"}),
		Persisted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "erpbridge_events_persisted_total", Help: "Events persisted, by vendor and whether they became the newest state.",
		}, []string{"vendor", "applied"}),
		IntakeBacklog: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "erpbridge_intake_backlog", Help: "Stored callbacks waiting for their workflow to be started.",
		}),
		RecordsParked: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "erpbridge_records_parked", Help: "Records whose newest state the ERP rejected, waiting for an operator's retry or skip (from the store).",
		}),
		RecordsParkedOldestSeconds: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "erpbridge_records_parked_oldest_seconds", Help: "How long the longest-parked record has waited for an operator's retry or skip (0 when none; from the store).",
		}),
		IntakeOldestSeconds: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "erpbridge_intake_oldest_seconds", Help: "Age of the oldest stored callback waiting for its workflow (0 when none).",
		}),
		RelayStarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "erpbridge_relay_starts_total", Help: "Workflow starts by the intake: started (a stored callback's), carried (a callback the store could not take, its body in the start), duplicate (already running or done), failed.",
		}, []string{"vendor", "outcome"}),
		WebhookInFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "erpbridge_webhook_in_flight", Help: "Webhook requests being handled now.",
		}),
		WebhookMaxConcurrent: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "erpbridge_webhook_max_concurrent", Help: "The cap on webhook requests handled at once (WEBHOOK_MAX_CONCURRENT); past it they are answered 503.",
		}),
		AuthFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "erpbridge_auth_failures_total", Help: "Refused authentications, by vendor, reason and whether the source had already failed within the last minute.",
		}, []string{"vendor", "reason", "repeated"}),
	}
	reg.MustRegister(m.Callbacks, m.AckSeconds, m.CallbackAuth, m.CallbacksKept, m.ReconcileOrders, m.ReconcileEvents, m.Duplicates, m.ERPSyncs, m.ERPSyncSeconds, m.Persisted,
		m.IntakeBacklog, m.IntakeOldestSeconds, m.RecordsParked, m.RecordsParkedOldestSeconds, m.RelayStarts, m.WebhookInFlight, m.WebhookMaxConcurrent, m.AuthFailures)
	return m
}

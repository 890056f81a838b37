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
	// RelayStarts counts the relay's workflow starts by vendor and outcome (started, carried, duplicate, failed).
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
		Registry:  reg,
		Callbacks: counterVec("erpbridge_callbacks_total", "Vendor callbacks received, by vendor, event type and outcome.", "vendor", "event_type", "outcome"),
		AckSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "erpbridge_callback_ack_seconds", Help: "Time from receiving a callback to answering it.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"vendor", "outcome"}),
		CallbackAuth:    counterVec("erpbridge_callback_auth_total", "Authentic callbacks, by vendor, the signature variant that verified and the position of the secret that verified (0 = newest).", "vendor", "variant", "secret"),
		CallbacksKept:   counterVec("erpbridge_callbacks_kept_total", "Callbacks the edge kept durably, by vendor and path: store (the database, then the relay) or temporal (carried in the workflow's start while the store could not take it).", "vendor", "path"),
		ReconcileOrders: counterVec("erpbridge_reconcile_orders_total", "Orders a reconciliation found in a vendor's API, by vendor and outcome: found (listed), new (stored as a new event), unchanged (already stored as they are), invalid.", "vendor", "outcome"),
		ReconcileEvents: counterVec("erpbridge_reconcile_events_total", "Events pulled by a reconciliation and persisted, by vendor and outcome: changed (a newer state of its record, sent to the ERP) or unchanged.", "vendor", "outcome"),
		Duplicates:      counterVec("erpbridge_callback_duplicates_total", "Redelivered callbacks that started no new workflow.", "vendor"),
		ERPSyncs:        counterVec("erpbridge_erp_sync_total", "ERP sends by vendor (source), kind and outcome: accepted, duplicate, retry, rejected.", "source", "kind", "outcome"),
		ERPSyncSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "erpbridge_erp_sync_seconds", Help: "Latency of ERP sends.",
			Buckets: prometheus.DefBuckets,
		}, []string{"outcome"}),
		Persisted:                  counterVec("erpbridge_events_persisted_total", "Events persisted, by vendor and whether they became the newest state.", "vendor", "applied"),
		IntakeBacklog:              gauge("erpbridge_intake_backlog", "Stored callbacks waiting for their workflow to be started."),
		RecordsParked:              gauge("erpbridge_records_parked", "Records whose newest state the ERP rejected, waiting for an operator's retry or skip (from the store)."),
		RecordsParkedOldestSeconds: gauge("erpbridge_records_parked_oldest_seconds", "How long the longest-parked record has waited for an operator's retry or skip (0 when none; from the store)."),
		IntakeOldestSeconds:        gauge("erpbridge_intake_oldest_seconds", "Age of the oldest stored callback waiting for its workflow (0 when none)."),
		RelayStarts:                counterVec("erpbridge_relay_starts_total", "Workflow starts by the intake: started (a stored callback's), carried (a callback the store could not take, its body in the start), duplicate (already running or done), failed.", "vendor", "outcome"),
		WebhookInFlight:            gauge("erpbridge_webhook_in_flight", "Webhook requests being handled now."),
		WebhookMaxConcurrent:       gauge("erpbridge_webhook_max_concurrent", "The cap on webhook requests handled at once (WEBHOOK_MAX_CONCURRENT); past it they are answered 503."),
		AuthFailures:               counterVec("erpbridge_auth_failures_total", "Refused authentications, by vendor, reason and whether the source had already failed within the last minute.", "vendor", "reason", "repeated"),
	}
	reg.MustRegister(m.Callbacks, m.AckSeconds, m.CallbackAuth, m.CallbacksKept, m.ReconcileOrders, m.ReconcileEvents, m.Duplicates, m.ERPSyncs, m.ERPSyncSeconds, m.Persisted,
		m.IntakeBacklog, m.IntakeOldestSeconds, m.RecordsParked, m.RecordsParkedOldestSeconds, m.RelayStarts, m.WebhookInFlight, m.WebhookMaxConcurrent, m.AuthFailures)
	return m
}

// counterVec is a counter with labels, named and described.
func counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
}

// gauge is a gauge without labels, named and described.
func gauge(name, help string) prometheus.Gauge {
	return prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
}

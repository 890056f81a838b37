// Package activities holds erpbridge's Temporal activities: everything that
// touches the database, the ERP or Temporal on a workflow's behalf, one file
// per hop: persist.go (verify and store an event), notify.go (hand a new
// state to its record's workflow), sync.go (send a record to the ERP, and an
// operator's skip), sweep.go (find records left waiting), reconcile.go
// (pull Fenbeitong's car orders).
package activities

import (
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/metrics"
	"github.com/erpbridge/erpbridge/store"
	"github.com/erpbridge/erpbridge/tracing"
	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong/openapi"
)

// Activities carries the dependencies of every activity. Workflows call its
// methods through a nil *Activities so the compiler checks each reference.
type Activities struct {
	Store     *store.Store
	Vendors   *vendors.Registry
	ERP       erp.Sink
	Temporal  client.Client
	TaskQueue string
	// BulkTaskQueue is where the records of split messages' parts run
	// (empty: TaskQueue), and BulkRecordIdle how long they linger caught up.
	BulkTaskQueue  string
	BulkRecordIdle time.Duration
	// SplitBatchSize is how many parts of a split message one step
	// persists, and SplitNotifyConcurrency how many of their record
	// workflows are told at once.
	SplitBatchSize, SplitNotifyConcurrency int
	Policy                                 flow.SyncPolicy
	// Fenbeitong is the client of Fenbeitong's open API, nil when it is
	// not configured (FENBEITONG_API_URL).
	Fenbeitong *openapi.Client
	Metrics    *metrics.Metrics
	Logger     *slog.Logger
	// Tracing traces each send to the ERP (see erpSpan); nil: none.
	Tracing *tracing.Tracing
}

package activities

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/store"
	"github.com/erpbridge/erpbridge/tracing"
	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong/openapi"
)

// ReconcileFenbeitongPage feeds one page of Fenbeitong's car orders, listed
// through its open API, through the path of a push: each order, fetched
// whole (its detail) where the list lacks what its record needs, is stored
// as a pushed callback would be, keyed and versioned the same way, and the
// relay starts its event's workflow. An order already stored as it is now
// changes nothing; a newer state of an order supersedes; an order never
// pushed arrives. Events stored here are marked as pulled
// (models.OriginPull, the "origin" memo of their workflows).
func (a *Activities) ReconcileFenbeitongPage(ctx context.Context, in flow.ReconcilePageInput) (flow.ReconcileResult, error) {
	if a.Fenbeitong == nil {
		return flow.ReconcileResult{}, temporal.NewNonRetryableApplicationError(
			"this worker has no Fenbeitong open API settings (FENBEITONG_API_URL and the keys)", flow.ErrVendorAPIRefused, nil)
	}
	page, err := a.Fenbeitong.ListCarOrders(ctx, openapi.ListQuery{CreateBegin: in.Begin, CreateEnd: in.End, PageIndex: in.Page, PageSize: in.PageSize})
	if err != nil {
		return flow.ReconcileResult{}, vendorAPIError(err)
	}
	res := flow.ReconcileResult{Pages: 1, TotalPages: page.TotalPages, Found: len(page.Results)}
	for _, item := range page.Results {
		body := []byte(item)
		if id, lacks := lacksForRecord(item); lacks && id != "" {
			detail, err := a.Fenbeitong.CarOrderDetail(ctx, id)
			if err != nil {
				return res, vendorAPIError(err)
			}
			body, res.Details = detail, res.Details+1
		}
		p, err := fenbeitong.ParsePush(body)
		if err != nil {
			res.Invalid++
			if a.Logger != nil {
				a.Logger.WarnContext(ctx, "a pulled Fenbeitong order cannot be read as a push; left out", "page", in.Page, "error", err)
			}
			continue
		}
		dup, err := a.Store.Receive(ctx, store.Inbound{Origin: models.OriginPull, Vendor: vendors.Fenbeitong, EventKey: p.EventKey(),
			EventType: p.CategoryName(), Body: body, WorkflowID: flow.EventWorkflowID(vendors.Fenbeitong, p.EventKey()), ReceivedAt: time.Now().UTC(), TraceParent: tracing.Parent(ctx)})
		if err != nil {
			return res, err
		}
		if dup {
			res.Unchanged++
		} else {
			res.New++
		}
		activity.RecordHeartbeat(ctx, res.Found)
	}
	if a.Metrics != nil {
		for outcome, n := range map[string]int{"found": res.Found, "new": res.New, "unchanged": res.Unchanged, "invalid": res.Invalid} {
			a.Metrics.ReconcileOrders.WithLabelValues(vendors.Fenbeitong, outcome).Add(float64(n))
		}
	}
	return res, nil
}

// lacksForRecord reports whether a listed order lacks what its record needs
// (its prices, its price lines, its people), and its order id for the detail.
// A part given as null is lacking as much as one left out.
func lacksForRecord(item json.RawMessage) (orderID string, lacks bool) {
	var o struct {
		OrderInfo map[string]json.RawMessage `json:"order_info"`
		PriceInfo json.RawMessage            `json:"price_info"`
		UserInfo  json.RawMessage            `json:"user_info"`
	}
	if json.Unmarshal(item, &o) != nil || o.OrderInfo == nil {
		return "", true
	}
	_ = json.Unmarshal(o.OrderInfo["order_id"], &orderID)
	absent := func(part json.RawMessage) bool { return len(part) == 0 || string(part) == "null" }
	return orderID, absent(o.PriceInfo) || absent(o.UserInfo) || absent(o.OrderInfo["price_detail_info"])
}

// vendorAPIError turns a failed open API call into the activity's failure:
// retried when the API may answer later, final (for this run) otherwise.
func vendorAPIError(err error) error {
	if openapi.IsRetryable(err) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return temporal.NewNonRetryableApplicationError(err.Error(), flow.ErrVendorAPIRefused, err)
}

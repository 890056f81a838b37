package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/vendors/autox3"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong"
)

// acme is a vendor that exists only in this test: a bearer token in a
// header, a message id and a version in the body, and its own answer shape.
// It is all a new vendor has to write.
type acme struct{ token string }

type acmeBody struct {
	ID      string `json:"id"`
	OrderID string `json:"order_id"`
	Version int64  `json:"version"`
	Amount  string `json:"amount"`
}

func (acme) Name() string { return "acme" }

func (v acme) Accept(req *vendors.Request) (vendors.Meta, error) {
	if req.Header.Get("Authorization") != "Bearer "+v.token {
		return vendors.Meta{}, fmt.Errorf("bad bearer token: %w", vendors.ErrUnauthorized)
	}
	var b acmeBody
	if err := json.Unmarshal(req.Body, &b); err != nil || b.ID == "" {
		return vendors.Meta{}, fmt.Errorf("body needs an id: %w", vendors.ErrMalformed)
	}
	return vendors.Meta{EventKey: b.ID, EventType: "order.updated"}, nil
}

func (acme) Decode(body []byte) (*vendors.Event, error) {
	var b acmeBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, vendors.Invalid("", "not JSON")
	}
	if b.OrderID == "" {
		return nil, vendors.Invalid("order_id", "is required")
	}
	return &vendors.Event{EventKey: b.ID, EventType: "order.updated", Kind: "acme_order", ExternalID: b.OrderID,
		Version: b.Version, OccurredAt: time.UnixMilli(b.Version).In(time.FixedZone("", -5*3600)),
		Data: map[string]string{"amount": b.Amount}}, nil
}

func (acme) Reply(status int, msg string) any {
	return map[string]any{"ok": status == http.StatusOK, "error": msg}
}

// A third vendor is one type and one registry line: it is served at
// /webhooks/acme, its callbacks are deduplicated, persisted and synced to
// the ERP like the built-in vendors', and the others keep working.
func TestThirdVendorEndToEnd(t *testing.T) {
	const token = "acme-secret"
	reg, err := vendors.NewRegistry(autox3.New(appSecret), fenbeitong.New([]string{fbtToken}, nil), acme{token: token})
	if err != nil {
		t.Fatal(err)
	}
	s := newStack(t, "mysql", stackOptions{vendors: reg})

	post := func(auth string, body string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, s.apiURL+"/webhooks/acme", bytes.NewReader([]byte(body)))
		req.Header.Set("Authorization", auth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var out map[string]any
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("answer %d is not JSON: %q", resp.StatusCode, raw)
		}
		return resp.StatusCode, out
	}
	orderID := fmt.Sprintf("A-%d", uniqueID())
	body := fmt.Sprintf(`{"id":"m-%s","order_id":%q,"version":1767225600000,"amount":"12.340"}`, orderID, orderID)

	if code, ans := post("Bearer wrong", body); code != http.StatusUnauthorized || ans["ok"] != false {
		t.Fatalf("wrong token answered %d %v", code, ans)
	}
	if code, ans := post("Bearer "+token, body); code != http.StatusOK || ans["ok"] != true {
		t.Fatalf("callback answered %d %v", code, ans)
	}
	if code, ans := post("Bearer "+token, body); code != http.StatusOK || ans["ok"] != true {
		t.Fatalf("redelivery answered %d %v", code, ans)
	}
	s.mustResult(flow.EventWorkflowID("acme", "m-"+orderID), string(models.EventSynced))

	rec := s.oneRecord("acme_order", orderID)
	if rec.Source != "acme" || rec.OccurredAt.Format(time.RFC3339) != "2025-12-31T19:00:00-05:00" || string(rec.Data) != `{"amount":"12.340"}` {
		t.Fatalf("ERP record %s %s %s", rec.Source, rec.OccurredAt.Format(time.RFC3339), rec.Data)
	}
	var events int64
	s.db.Model(&models.InboundEvent{}).Where("vendor = ? AND event_key = ?", "acme", "m-"+orderID).Count(&events)
	if events != 1 {
		t.Fatalf("%d stored events, want 1", events)
	}
	// The built-in vendors are served by the same handler.
	rb := uniqueID()
	msgID := fmt.Sprintf("acme-side-%d", rb)
	s.mustAccept("/webhooks/autox3", autox3.SampleReceptionBody(msgID, rb, time.Now().UnixMilli(), appSecret))
	s.mustResult(flow.EventWorkflowID(vendors.AutoX3, msgID), string(models.EventSynced))
}

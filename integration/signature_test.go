package integration

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/models"
)

// An authentic AutoX3 callback pretty-printed on its way, signed over its
// compact text, is accepted, stored as received and reaches the ERP exactly
// once, a redelivery labelled with Java's default media type included.
func TestAutoX3PrettyPrintedCallbackReachesERPOnce(t *testing.T) {
	t.Parallel()
	s := newStack(t, "mysql")
	r := newReception()
	created := time.Now().Add(-time.Minute).UnixMilli()
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, r.body(created), "", "    "); err != nil {
		t.Fatal(err)
	}
	s.mustAccept("/webhooks/autox3", pretty.Bytes())
	s.mustResult(r.wfID, string(models.EventSynced))

	// The redelivery, as Java's HttpURLConnection sends it without a Content-Type set.
	resp, err := http.Post(s.apiURL+"/webhooks/autox3", "application/x-www-form-urlencoded", bytes.NewReader(pretty.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("redelivery answered %d", resp.StatusCode)
	}

	ext := r.ext
	if rec := s.oneRecord("reception_order", ext); rec.Source != "autox3" || rec.Version != created {
		t.Fatalf("ERP record = %+v", rec)
	}
	var ev models.InboundEvent
	if err := s.db.Where("vendor = ? AND event_key = ?", "autox3", r.msgID).Take(&ev).Error; err != nil {
		t.Fatalf("inbound event row: %v", err)
	}
	if ev.SyncStatus != models.EventSynced || ev.ExternalID != ext {
		t.Fatalf("inbound event row: status %s, external id %s", ev.SyncStatus, ev.ExternalID)
	}
	if !bytes.Equal(ev.Body, pretty.Bytes()) {
		t.Fatal("the stored body is not the body as received")
	}
	var n int64
	s.db.Model(&models.InboundEvent{}).Where("event_key = ?", r.msgID).Count(&n)
	if n != 1 {
		t.Fatalf("%d inbound event rows, want 1", n)
	}
	_, metricsText := s.get("/metrics")
	if !strings.Contains(metricsText, `erpbridge_callback_auth_total{secret="0",variant="compact",vendor="autox3"} 2`) {
		t.Fatal("the metric does not count two callbacks verified as the compact variant")
	}
}

package integration

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/vendors/autox3"
)

// An authentic AutoX3 callback pretty-printed on its way, signed over its
// compact text, is accepted, stored as received and reaches the ERP exactly
// once, a redelivery labelled with Java's default media type included.
func TestAutoX3PrettyPrintedCallbackReachesERPOnce(t *testing.T) {
	s := newStack(t, "mysql")
	msgID := uuid.NewString()
	rbid := uniqueID()
	created := time.Now().Add(-time.Minute).UnixMilli()
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, autox3.SampleReceptionBody(msgID, rbid, created, appSecret), "", "    "); err != nil {
		t.Fatal(err)
	}
	s.mustAccept("/webhooks/autox3", pretty.Bytes())
	wfID := flow.EventWorkflowID("autox3", msgID)
	s.mustResult(wfID, string(models.EventSynced))

	// The redelivery, as Java's HttpURLConnection sends it without a Content-Type set.
	resp, err := http.Post(s.apiURL+"/webhooks/autox3", "application/x-www-form-urlencoded", bytes.NewReader(pretty.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("redelivery answered %d", resp.StatusCode)
	}

	ext := strconv.FormatInt(rbid, 10)
	recs := s.records("reception_order", ext)
	if len(recs) != 1 {
		t.Fatalf("ERP has %d records for the order, want exactly 1", len(recs))
	}
	if r := recs[0]; r.Source != "autox3" || r.Version != created {
		t.Fatalf("ERP record = %+v", r)
	}
	var ev models.InboundEvent
	if err := s.db.Where("vendor = ? AND event_key = ?", "autox3", msgID).Take(&ev).Error; err != nil {
		t.Fatalf("inbound event row: %v", err)
	}
	if ev.SyncStatus != models.EventSynced || ev.ExternalID != ext {
		t.Fatalf("inbound event row: status %s, external id %s", ev.SyncStatus, ev.ExternalID)
	}
	if !bytes.Equal(ev.Body, pretty.Bytes()) {
		t.Fatal("the stored body is not the body as received")
	}
	var n int64
	s.db.Model(&models.InboundEvent{}).Where("event_key = ?", msgID).Count(&n)
	if n != 1 {
		t.Fatalf("%d inbound event rows, want 1", n)
	}
	_, metricsText := s.get("/metrics")
	if !strings.Contains(metricsText, `erpbridge_callback_auth_total{secret="0",variant="compact",vendor="autox3"} 2`) {
		t.Fatal("the metric does not count two callbacks verified as the compact variant")
	}
}

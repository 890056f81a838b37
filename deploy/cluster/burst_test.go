//go:build cluster

package cluster_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/erp/erpsim"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/vendors/autox3"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong"
	"github.com/erpbridge/erpbridge/vendors/lenient"
)

// callback is one distinct vendor message and what it must become.
type callback struct {
	vendor   string
	path     string
	body     []byte
	eventKey string
	record   recordKey
	version  int64
}

type recordKey struct{ vendor, kind, externalID string }

func (r recordKey) String() string { return r.vendor + "/" + r.kind + "/" + r.externalID }

// burst is a drill's traffic: distinct callbacks, and the deliveries that
// carry them (a redelivery is a second delivery of the same callback).
type burst struct {
	tag        string
	callbacks  []*callback
	deliveries []*callback
	newest     map[recordKey]int64 // the version the ERP must end on
}

// mixedBurst makes about n deliveries of both vendors: Fenbeitong car orders
// pushed through 400, 500, 600 and 700, AutoX3 reception orders with two
// states and an inspection report each, all shuffled, and a tenth of them
// delivered a second time (some concurrently with the first, across
// replicas), as vendors redeliver.
func (c *cluster) mixedBurst(tag string, n int) *burst {
	c.t.Helper()
	b := &burst{tag: tag, newest: map[recordKey]int64{}}
	distinct := n * 9 / 10
	fbtOrders := distinct / 2 / 4
	ax3Orders := (distinct - fbtOrders*4) / 3
	now := time.Now()
	// Unique per drill: the time in ms, times 10^4 leaves room for the orders.
	rbBase := now.UnixMilli() % 100_000_000 * 10_000
	add := func(vendor, path string, body []byte) {
		ev, err := c.reg.Decode(vendor, body)
		if err != nil {
			c.t.Fatalf("decode own %s sample: %v", vendor, err)
		}
		cb := &callback{vendor: vendor, path: path, body: body, eventKey: ev.EventKey,
			record: recordKey{vendor, ev.Kind, ev.ExternalID}, version: ev.Version}
		b.callbacks = append(b.callbacks, cb)
		b.newest[cb.record] = max(b.newest[cb.record], cb.version)
	}
	fbtPath := "/webhooks/fenbeitong?token=" + fbtToken
	for i := range fbtOrders {
		id := fmt.Sprintf("%s-car-%d", tag, i)
		at := now.Add(-2 * time.Hour)
		for j, status := range []int{400, 500, 600, 700} {
			ts := at.Add(time.Duration(j) * time.Minute).In(lenient.China).Format("2006-01-02 15:04:05")
			add("fenbeitong", fbtPath, fenbeitong.SampleBody(id, status, ts))
		}
	}
	for i := range ax3Orders {
		rb := rbBase + int64(i)
		ct := now.Add(-time.Hour).UnixMilli() + int64(i)
		add("autox3", "/webhooks/autox3", autox3.SampleReceptionBody(fmt.Sprintf("%s-r1-%d", tag, i), rb, ct, autoSecret))
		add("autox3", "/webhooks/autox3", autox3.SampleReceptionBody(fmt.Sprintf("%s-r2-%d", tag, i), rb, ct+60_000, autoSecret))
		add("autox3", "/webhooks/autox3", autox3.SampleReportBody(fmt.Sprintf("%s-rp-%d", tag, i), rb, ct+120_000, autoSecret))
	}
	b.deliveries = slices.Clone(b.callbacks)
	for len(b.deliveries) < n {
		b.deliveries = append(b.deliveries, b.callbacks[rand.IntN(len(b.callbacks))])
	}
	rand.Shuffle(len(b.deliveries), func(i, j int) { b.deliveries[i], b.deliveries[j] = b.deliveries[j], b.deliveries[i] })
	return b
}

// sendResult is how a burst was delivered.
type sendResult struct {
	start, lastAck time.Time
	acked          int     // deliveries answered as accepted
	failedTries    int64   // posts that were not (refused, 503, no answer) and were delivered again
	perReplica     []int64 // accepted deliveries per API replica
	ackedAfterHook []int64 // accepted per replica after the hook started
}

// send delivers a burst with `workers` concurrent senders, spread over the
// API replicas, at most perSecond deliveries a second (0: as fast as they
// are answered), and runs hook once a fraction `at` of the deliveries is
// acknowledged (a drill's fault, run while the burst goes on). A delivery
// that is not acknowledged is delivered again, to the next replica, after a
// backoff, as a vendor or a load balancer would; it fails the test only when
// it is never acknowledged. send returns once every delivery is acknowledged
// and the hook has finished.
func (c *cluster) send(b *burst, workers int, perSecond float64, at float64, hook func()) sendResult {
	c.t.Helper()
	res := sendResult{start: time.Now(), perReplica: make([]int64, len(c.apis)), ackedAfterHook: make([]int64, len(c.apis))}
	var acked atomic.Int64
	var hookStarted atomic.Bool
	hookDone := make(chan struct{})
	if hook == nil {
		close(hookDone)
	}
	var mu sync.Mutex
	next := make(chan int)
	var wg sync.WaitGroup
	httpc := &http.Client{Timeout: 20 * time.Second}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				replica := i % len(c.apis)
				backoff := 200 * time.Millisecond
				deadline := time.Now().Add(5 * time.Minute)
				for {
					if c.post(httpc, c.apis[replica], b.deliveries[i]) {
						break
					}
					atomic.AddInt64(&res.failedTries, 1)
					if time.Now().After(deadline) {
						c.t.Errorf("delivery %d (%s %s) never acknowledged", i, b.deliveries[i].vendor, b.deliveries[i].eventKey)
						break
					}
					time.Sleep(backoff)
					backoff = min(backoff*2, 2*time.Second)
					replica = (replica + 1) % len(c.apis)
				}
				atomic.AddInt64(&res.perReplica[replica], 1)
				if hookStarted.Load() {
					atomic.AddInt64(&res.ackedAfterHook[replica], 1)
				}
				n := acked.Add(1)
				mu.Lock()
				res.lastAck = time.Now()
				mu.Unlock()
				if hook != nil && float64(n) >= at*float64(len(b.deliveries)) && hookStarted.CompareAndSwap(false, true) {
					go func() { defer close(hookDone); hook() }()
				}
			}
		}()
	}
	var pace <-chan time.Time
	if perSecond > 0 {
		tick := time.NewTicker(time.Duration(float64(time.Second) / perSecond))
		defer tick.Stop()
		pace = tick.C
	}
	for i := range b.deliveries {
		if pace != nil {
			<-pace
		}
		next <- i
	}
	close(next)
	wg.Wait()
	<-hookDone
	res.acked = int(acked.Load())
	return res
}

// post delivers one callback and reports whether it was acknowledged in the
// vendor's own "accepted" answer. A refusal other than 503 fails the test:
// these callbacks are all authentic and well formed.
func (c *cluster) post(httpc *http.Client, api string, cb *callback) bool {
	resp, err := httpc.Post(api+cb.path, "application/json", bytes.NewReader(cb.body))
	if err != nil {
		return false // the replica is down or did not answer: deliver again
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode >= 500 {
		return false
	}
	var ans map[string]any
	_ = json.Unmarshal(raw, &ans)
	ok := resp.StatusCode == http.StatusOK
	if cb.vendor == "autox3" {
		ok = ok && ans["status"] == float64(0)
	} else {
		ok = ok && ans["code"] == float64(0)
	}
	if !ok {
		c.t.Errorf("%s refused %s %s: %d %s", api, cb.vendor, cb.eventKey, resp.StatusCode, raw)
		return true // not worth delivering again
	}
	return true
}

// drained waits until every callback of the burst is settled in the
// database (the event workflow recorded synced or superseded) and every
// record is synced at its newest revision, and returns when that was.
func (c *cluster) drained(b *burst, timeout time.Duration) time.Time {
	c.t.Helper()
	eventually(c.t, b.tag+" drained", timeout, func() error {
		var rows []models.InboundEvent
		if err := c.db.Select("vendor", "event_key", "sync_status").Where("event_key LIKE ?", "%"+b.tag+"%").Find(&rows).Error; err != nil {
			return err
		}
		settled := map[string]bool{}
		for _, r := range rows {
			if r.SyncStatus == models.EventSynced || r.SyncStatus == models.EventSuperseded {
				settled[r.Vendor+":"+r.EventKey] = true
			}
		}
		for _, cb := range b.callbacks {
			if !settled[cb.vendor+":"+cb.eventKey] {
				return fmt.Errorf("%d of %d events settled, e.g. not %s:%s", len(settled), len(b.callbacks), cb.vendor, cb.eventKey)
			}
		}
		var behind int64
		if err := c.db.Model(&models.RecordState{}).Where("external_id LIKE ? OR external_id IN ?", "%"+b.tag+"%", b.autoIDs()).
			Where("synced_revision < revision").Count(&behind).Error; err != nil {
			return err
		}
		if behind > 0 {
			return fmt.Errorf("%d records not synced at their newest revision", behind)
		}
		return nil
	})
	return time.Now()
}

// autoIDs are the AutoX3 external ids of the burst (numeric, without the tag).
func (b *burst) autoIDs() []string {
	var ids []string
	for r := range b.newest {
		if r.vendor == "autox3" {
			ids = append(ids, r.externalID)
		}
	}
	if len(ids) == 0 {
		ids = []string{"-"}
	}
	return ids
}

// verify checks a drained burst: every acknowledged callback stored exactly
// once and settled, no event workflow left running and no record workflow
// behind, and at the ERP every record present, its versions only growing,
// its newest state last, and no Idempotency-Key accepted twice.
func (c *cluster) verify(b *burst) {
	c.t.Helper()
	t := c.t
	var rows []models.InboundEvent
	if err := c.db.Select("vendor", "event_key", "sync_status").Where("event_key LIKE ?", "%"+b.tag+"%").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	for _, r := range rows {
		stored[r.Vendor+":"+r.EventKey]++
	}
	lost, doubled := 0, 0
	for _, cb := range b.callbacks {
		switch stored[cb.vendor+":"+cb.eventKey] {
		case 0:
			lost++
		case 1:
		default:
			doubled++
		}
	}
	if lost > 0 || doubled > 0 || len(rows) != len(b.callbacks) {
		t.Errorf("%s: %d callbacks lost, %d doubled, %d rows for %d callbacks", b.tag, lost, doubled, len(rows), len(b.callbacks))
	}

	eventually(t, "no event workflow running and no record workflow behind", time.Minute, func() error {
		for _, q := range []string{
			`WorkflowType = "EventWorkflow" AND ExecutionStatus = "Running"`,
			`WorkflowType = "RecordWorkflow" AND ExecutionStatus = "Running" AND SyncStatus != "synced"`,
			`(WorkflowType = "EventWorkflow" OR WorkflowType = "RecordWorkflow") AND (ExecutionStatus = "Failed" OR ExecutionStatus = "TimedOut" OR ExecutionStatus = "Terminated")`,
		} {
			n, err := c.count(q)
			if err != nil {
				return err
			}
			if n != 0 {
				return fmt.Errorf("%d workflows match %s", n, q)
			}
		}
		return nil
	})

	recs, err := c.erpRecords()
	if err != nil {
		t.Fatal(err)
	}
	checkERP(t, recs, b.newest)
}

// checkERP checks the ERP's records against the versions each record must end on.
func checkERP(t *testing.T, recs []erpsim.Entry, newest map[recordKey]int64) {
	t.Helper()
	keys := map[string]int{}
	byRecord := map[recordKey][]erpsim.Entry{}
	for _, e := range recs {
		keys[e.IdempotencyKey]++
		r := recordKey{e.Source, e.Kind, e.ExternalID}
		byRecord[r] = append(byRecord[r], e)
	}
	for k, n := range keys {
		if n > 1 {
			t.Errorf("the ERP accepted Idempotency-Key %s %d times", k, n)
		}
	}
	var missing, stale, reordered []string
	for r, want := range newest {
		got := byRecord[r]
		switch {
		case len(got) == 0:
			missing = append(missing, r.String())
		case got[len(got)-1].Version != want:
			stale = append(stale, fmt.Sprintf("%s ends on %d, want %d", r, got[len(got)-1].Version, want))
		}
		for i := 1; i < len(got); i++ {
			if got[i].Version <= got[i-1].Version {
				reordered = append(reordered, fmt.Sprintf("%s got %d after %d", r, got[i].Version, got[i-1].Version))
			}
		}
	}
	for what, list := range map[string][]string{"missing at the ERP": missing, "not on the newest state": stale, "older after newer": reordered} {
		if len(list) > 0 {
			t.Errorf("%d records %s: %s", len(list), what, strings.Join(list[:min(len(list), 5)], "; "))
		}
	}
}

// drill is one drill's figures.
type drill struct {
	Name        string
	Deliveries  int
	Callbacks   int
	Records     int
	Burst       time.Duration // first delivery to last acknowledgement
	Drain       time.Duration // last acknowledgement to everything at the ERP
	FailedTries int64
	PerReplica  []int64
	CPU         time.Duration // CPU time of the cluster's processes (not the databases) during the drill
	Note        string
	afterFault  []int64 // acknowledged per replica once the fault had started
}

// run sends a burst, paced at perSecond (0: unpaced), with a fault once a
// fraction `at` of it is acknowledged, and measures it.
func (c *cluster) run(name string, b *burst, perSecond, at float64, fault func()) drill {
	c.t.Helper()
	cpu := c.cpuTimes()
	res := c.send(b, 16, perSecond, at, fault)
	if c.t.Failed() {
		c.t.FailNow()
	}
	done := c.drained(b, 8*time.Minute)
	used := c.cpuSince(cpu)
	c.verify(b)
	d := drill{Name: name, Deliveries: len(b.deliveries), Callbacks: len(b.callbacks), Records: len(b.newest),
		Burst: res.lastAck.Sub(res.start), Drain: done.Sub(res.lastAck), FailedTries: res.failedTries, PerReplica: res.perReplica,
		CPU: used, afterFault: res.ackedAfterHook}
	c.t.Logf("%s: %d deliveries (%d callbacks, %d records) acknowledged in %s (%d deliveries retried), drained %s later; per replica %v; cluster CPU %s",
		name, d.Deliveries, d.Callbacks, d.Records, d.Burst.Round(time.Millisecond), d.FailedTries, d.Drain.Round(time.Millisecond), d.PerReplica, used.Round(time.Second))
	return d
}

// waitCtx is a context for one step of a drill.
func waitCtx(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

package integration

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/internal/app"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/models"
)

// A minute's MySQL outage under a stream of callbacks, each sent once,
// costs no acknowledgement and no callback: while the database is down the
// edge keeps each callback by starting its workflow with the body, and the
// workflow stores it once the database is back; a second api replica
// started during the outage serves too. Every callback reaches the ERP
// exactly once.
func TestStoreOutageCostsNoCallback(t *testing.T) {
	mdb := testenv.NewMariaDB(t)
	dsn := mdb.DSN("erpbridge")
	s := newStack(t, "mysql", stackOptions{mysqlDSN: dsn})
	// How long the database is down: ERPBRIDGE_TEST_STORE_OUTAGE, a minute by default.
	outage := envDuration(t, "ERPBRIDGE_TEST_STORE_OUTAGE", time.Minute)

	type sent struct {
		ext     string
		code    int
		elapsed time.Duration
		replica int
	}
	var mu sync.Mutex
	var results []sent
	var wg sync.WaitGroup
	post := func(url string, replica int) {
		r := newReception()
		body := r.body(time.Now().UnixMilli())
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			code := postTo(t, url, "/webhooks/autox3", body)
			mu.Lock()
			results = append(results, sent{ext: r.ext, code: code, elapsed: time.Since(start), replica: replica})
			mu.Unlock()
		}()
	}
	// A steady stream, 4 a second, before, during and after the outage.
	stream := func(url string, replica int, d time.Duration) {
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for end := time.Now().Add(d); time.Now().Before(end); <-tick.C {
			post(url, replica)
		}
	}

	stream(s.apiURL, 1, 5*time.Second)
	mdb.Kill()
	killed := time.Now()

	// A second api replica, started while the database is down, serves too.
	replicaURL, stopReplica := startAPIReplica(t, s)
	defer stopReplica()
	testenv.Eventually(t, "the second replica ready, the database degraded", time.Minute, func() error {
		code, body := getURL(replicaURL + "/readyz")
		if code != http.StatusOK || !strings.Contains(body, `"degraded":"database"`) {
			return fmt.Errorf("readyz %d %s", code, body)
		}
		return nil
	})
	half := (outage - time.Since(killed)) / 2
	if half > 0 {
		stream(s.apiURL, 1, half)
		stream(replicaURL, 2, half)
	}
	mdb.Start()
	stream(s.apiURL, 1, 5*time.Second)
	stream(replicaURL, 2, 3*time.Second)
	wg.Wait()

	var refused []sent
	var slowest time.Duration
	byReplica := map[int]int{}
	for _, r := range results {
		if r.code != http.StatusOK {
			refused = append(refused, r)
		}
		slowest = max(slowest, r.elapsed)
		byReplica[r.replica]++
	}
	t.Logf("%d callbacks over a %s outage (%d through the second replica); slowest answer %s", len(results), outage, byReplica[2], slowest)
	if len(refused) > 0 {
		t.Fatalf("%d of %d callbacks were not acknowledged: %+v", len(refused), len(results), refused[:min(len(refused), 5)])
	}
	if byReplica[2] == 0 {
		t.Fatal("the second replica took no callback")
	}
	if slowest > 2*time.Second {
		t.Errorf("an acknowledgement took %s, past AutoX3's 2 s", slowest)
	}

	// Every callback reaches the ERP, exactly once, and its event is settled.
	testenv.Eventually(t, "every callback at the ERP", 5*time.Minute, func() error {
		missing := 0
		for _, r := range results {
			switch n := len(s.records("reception_order", r.ext)); {
			case n == 0:
				missing++
			case n > 1:
				t.Fatalf("record %s reached the ERP %d times", r.ext, n)
			}
		}
		if missing > 0 {
			return fmt.Errorf("%d of %d not at the ERP yet", missing, len(results))
		}
		return nil
	})
	testenv.Eventually(t, "every event settled synced", time.Minute, func() error {
		var synced int64
		if err := s.db.Model(&models.InboundEvent{}).Where("vendor = ? AND sync_status = ?", "autox3", models.EventSynced).Count(&synced).Error; err != nil {
			return err
		}
		if synced != int64(len(results)) {
			return fmt.Errorf("%d of %d events synced", synced, len(results))
		}
		return nil
	})
	if _, text := s.get("/metrics"); !strings.Contains(text, `erpbridge_callbacks_kept_total{path="temporal",vendor="autox3"}`) {
		t.Error("no callback was counted as kept through Temporal")
	}
}

// startAPIReplica runs `erpbridge api` in this process, as a second
// replica of the stack's api on its database, and returns its URL.
func startAPIReplica(t *testing.T, s *stack) (string, func()) {
	t.Helper()
	addr := testkit.FreeAddr(t)
	env := s.env()
	maps.Copy(env, map[string]string{
		"HTTP_ADDR": addr, "AUTOX3_APP_SECRET": appSecret, "FENBEITONG_TOKEN": fbtToken,
		"DRAIN_WINDOW": "0", "SCHEDULES": "false", "LOG_LEVEL": "warn",
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- app.Run(ctx, []string{"api"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	}()
	url := "http://" + addr
	testenv.Eventually(t, "the second replica listening", time.Minute, func() error {
		select {
		case code := <-done:
			t.Fatalf("erpbridge api exited %d while the database was down", code)
		default:
		}
		code, body := getURL(url + "/healthz")
		if code != http.StatusOK {
			return fmt.Errorf("healthz %d %s", code, body)
		}
		return nil
	})
	return url, func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("the second replica did not stop within 30s")
		}
	}
}

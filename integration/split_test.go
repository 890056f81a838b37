package integration

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/vendors/autox3"
)

// One maintenance plan message of 3,000 plans does not stall the rest:
// while it splits, 100 Fenbeitong pushes sent 10 at a time are all
// acknowledged, the slowest within 2 s; every plan and every push reaches
// the ERP exactly once within 10 minutes; and no workflow task deadlocks or
// runs past 5 s (the SDK logs TMPRL1101 and TMPRL1104 when one does).
func TestLargeSplitDoesNotStallTheRest(t *testing.T) {
	logs := &testkit.Buffer{}
	s := newStack(t, "mysql", stackOptions{logs: logs})
	// The message's plan items: ERPBRIDGE_TEST_SPLIT_ITEMS, 3,000 by default.
	n := fromEnv(t, "ERPBRIDGE_TEST_SPLIT_ITEMS", 3000, func(v string) (int, error) {
		n, err := strconv.Atoi(v)
		if err == nil && n <= 0 {
			err = fmt.Errorf("not a positive number")
		}
		return n, err
	})
	msgID := "split-" + testkit.RandomHex(6)
	prefix := "P" + testkit.RandomHex(4)
	body := autox3.SampleLargeMaintenanceV2Body(msgID, prefix, uniqueID(), n, time.Now().UnixMilli(), appSecret)
	t.Logf("message of %d plans, %d bytes", n, len(body))
	start := time.Now()
	s.mustAccept("/webhooks/autox3", body)

	// While it splits: 100 pushes, 10 in flight.
	testenv.Eventually(t, "the split under way", time.Minute, func() error {
		var parts int64
		s.db.Model(&models.InboundEvent{}).Where("parent_key = ?", msgID).Count(&parts)
		if parts == 0 {
			return fmt.Errorf("no part persisted yet")
		}
		return nil
	})
	orders := make([]string, 100)
	acks := make([]time.Duration, len(orders))
	codes := make([]int, len(orders))
	sem := make(chan struct{}, 10)
	var wg sync.WaitGroup
	for i := range orders {
		orders[i] = "SPLIT-" + testkit.RandomHex(10)
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			pushed := time.Now()
			codes[i] = postTo(t, s.apiURL, fbtPath(), fbtBody(orders[i], 700, time.Now()))
			acks[i] = time.Since(pushed)
		}()
	}
	wg.Wait()
	sorted := slices.Clone(acks)
	slices.Sort(sorted)
	p99 := sorted[len(sorted)*99/100]
	t.Logf("pushes during the split: p50 %s, p99 %s, slowest %s", sorted[len(sorted)/2], p99, sorted[len(sorted)-1])
	for i, c := range codes {
		if c != http.StatusOK {
			t.Fatalf("push %d answered %d during the split", i, c)
		}
	}
	if p99 > 2*time.Second {
		t.Errorf("push ack p99 %s during the split, want under 2 s", p99)
	}

	// Every push, then every plan, at the ERP exactly once.
	testenv.Eventually(t, "every push at the ERP", 5*time.Minute, func() error {
		missing := 0
		for _, o := range orders {
			switch got := len(s.records("car_order", o)); {
			case got == 0:
				missing++
			case got > 1:
				t.Fatalf("push %s reached the ERP %d times", o, got)
			}
		}
		if missing > 0 {
			return fmt.Errorf("%d pushes not at the ERP yet", missing)
		}
		return nil
	})
	pushesDone := time.Since(start)
	testenv.Eventually(t, "every plan at the ERP", 10*time.Minute-time.Since(start), func() error {
		seen := map[string]int{}
		for _, e := range s.sim.Records("autox3", autox3.KindMaintenancePlanItem, "") {
			if strings.HasPrefix(e.ExternalID, prefix+"-") {
				seen[e.ExternalID]++
			}
		}
		for id, times := range seen {
			if times > 1 {
				t.Fatalf("plan %s reached the ERP %d times", id, times)
			}
		}
		if len(seen) < n {
			return fmt.Errorf("%d of %d plans at the ERP", len(seen), n)
		}
		return nil
	})
	t.Logf("pushes at the ERP after %s, all %d plans after %s", pushesDone.Round(time.Second), n, time.Since(start).Round(time.Second))
	s.mustResult(flow.EventWorkflowID("autox3", msgID), string(models.EventSplit))

	for _, bad := range []string{"TMPRL1101", "TMPRL1104", "Potential deadlock", "Workflow task duration exceeded"} {
		if strings.Contains(logs.String(), bad) {
			t.Errorf("the worker logged %q during the split", bad)
		}
	}
}

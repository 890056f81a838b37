package tryton

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// server returns the settings of the test binary's Tryton server
// (testenv.Tryton), starting it on first use.
func server(t *testing.T) Config {
	t.Helper()
	return configOf(t, testenv.Tryton(t).Settings)
}

// configOf is the Sink's configuration for the settings up.sh printed.
func configOf(t *testing.T, s testenv.TrytonSettings) Config {
	t.Helper()
	cfg := Config{URL: s.URL, Database: s.Database, User: s.User, Password: s.Password}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("up.sh printed unusable settings: %v", err)
	}
	return cfg
}

// TestOutageAndRestart: while Tryton is down a send is retryable; up.sh on
// the same directory starts it again on the same URL with the same
// database and user, the same Sink goes on, and a resend finds the
// document made before the outage. A second up.sh while it runs changes
// nothing and prints the same settings.
func TestOutageAndRestart(t *testing.T) {
	srv := testenv.Tryton(t)
	cfg := configOf(t, srv.Settings)
	s := newSink(t, cfg, passthrough)
	party := "AX3-CUST-O" + uniqueID()
	before := testRecord("reception_order", uniqueID(), 1, saleDoc(party, testLine{"wash", "10"}))
	during := testRecord("reception_order", uniqueID(), 1, saleDoc(party, testLine{"wash", "20"}))
	resBefore := mustSend(t, s, before)

	if err := testenv.DownTryton(srv.Dir); err != nil {
		t.Fatal(err)
	}
	_, err := s.Send(t.Context(), during)
	var e *erp.Error
	if !errors.As(err, &e) || !e.Retryable {
		t.Fatalf("send while Tryton is down: %v, want a retryable *erp.Error", err)
	}

	began := time.Now()
	settings, out, err := testenv.UpTryton(srv.Dir)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	t.Logf("up.sh on the existing database took %s", time.Since(began).Round(10*time.Millisecond))
	srv.Settings = settings
	if again := configOf(t, settings); again != cfg {
		t.Fatalf("settings after a restart differ: URL %s -> %s (database, user or password changed: %v)",
			cfg.URL, again.URL, again.Database != cfg.Database || again.User != cfg.User || again.Password != cfg.Password)
	}
	res := mustSend(t, s, during)
	if !res.Created {
		t.Errorf("send after the outage: %+v, want created", res)
	}
	resent := mustSend(t, s, before)
	if resent.Created || resent.DocumentID != resBefore.DocumentID {
		t.Errorf("resend after the restart: %+v, want the document %s from before", resent, resBefore.DocumentID)
	}

	_, out2, err := testenv.UpTryton(srv.Dir)
	if err != nil {
		t.Fatalf("up.sh while running: %v", err)
	}
	if out2 != out {
		t.Errorf("up.sh while running printed something else")
	}
}

// TestConcurrentSendsShareOneNewParty: records sent at once that name the
// same new party create it once; every record gets its own document (a
// retryable answer is sent again, as the record workflow would).
func TestConcurrentSendsShareOneNewParty(t *testing.T) {
	t.Parallel()
	cfg := server(t)
	s := newSink(t, cfg, passthrough)
	party := "AX3-CUST-C" + uniqueID()
	const n = 6
	numbers := make([]string, n)
	var retries atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		r := testRecord("reception_order", uniqueID(), 1, saleDoc(party, testLine{"wash", "10"}))
		numbers[i] = erp.DocumentNumber(r)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for attempt := 1; ; attempt++ {
				_, err := s.Send(context.Background(), r)
				var e *erp.Error
				if err == nil {
					return
				}
				if !errors.As(err, &e) || !e.Retryable || attempt == 5 {
					t.Errorf("send %s: %v", r.Label(), err)
					return
				}
				retries.Add(1)
			}
		}()
	}
	wg.Wait()
	t.Logf("%d sends retried after a retryable answer", retries.Load())
	if got := len(read(t, s, "party.party", "code", party)); got != 1 {
		t.Errorf("%d parties with code %s, want 1", got, party)
	}
	for _, num := range numbers {
		if got := len(read(t, s, "sale.sale", "reference", num)); got != 1 {
			t.Errorf("%d sales with reference %s, want 1", got, num)
		}
	}
}

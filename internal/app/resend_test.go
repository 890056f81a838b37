package app

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/store"
)

func TestResendArgs(t *testing.T) {
	idsFile := filepath.Join(t.TempDir(), "ids")
	if err := os.WriteFile(idsFile, []byte("# lost in the restore\n7\n\n8\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := parseResendArgs([]string{"--vendor", "autox3", "--kind", "reception_order", "--id", "1, 2", "--id", "3",
		"--ids-file", idsFile, "--changed-since", "2025-03-01", "--changed-before", "2025-03-02T08:00:00+08:00", "--dry-run"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	f := a.filter
	if f.Vendor != "autox3" || f.Kind != "reception_order" || !slices.Equal(f.ExternalIDs, []string{"1", "2", "3", "7", "8"}) || !a.dryRun {
		t.Errorf("parsed %+v", a)
	}
	if !f.ChangedSince.Equal(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)) || !f.ChangedBefore.Equal(time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("time range %s .. %s", f.ChangedSince, f.ChangedBefore)
	}
	if a, err := parseResendArgs([]string{"--all"}, io.Discard); err != nil || !a.all || a.concurrency != 8 {
		t.Errorf("--all: %+v, %v", a, err)
	}
	for _, bad := range [][]string{
		{},                                // nothing chosen
		{"--changed-since", "yesterday"},  // not a time
		{"--all", "6482"},                 // ids are flags
		{"--all", "--concurrency", "0"},   // nothing would run
		{"--ids-file", "/no/such/file"},   // unreadable
		{"--vendor", "autox3", "--bogus"}, // unknown flag
	} {
		if _, err := parseResendArgs(bad, io.Discard); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	var help bytes.Buffer
	if _, err := parseResendArgs([]string{"-h"}, &help); !errors.Is(err, flag.ErrHelp) || !strings.Contains(help.String(), "Idempotency-Keys") {
		t.Errorf("-h: %v, %q", err, help.String())
	}
}

// notifications is a fake record workflow notifier.
type notifications struct {
	mu   sync.Mutex
	got  []flow.NotifyInput
	fail bool
}

func (n *notifications) notify(_ context.Context, in flow.NotifyInput) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fail {
		return errors.New("temporal unavailable")
	}
	n.got = append(n.got, in)
	return nil
}

func TestResender(t *testing.T) {
	db := testenv.SQLite(t)
	s := store.New(db)
	ctx := context.Background()
	add := func(id string, revision, synced int64, status models.RecordStatus) {
		st := models.RecordState{Vendor: "autox3", Kind: "reception_order", ExternalID: id, Version: 100, Revision: revision,
			SyncedRevision: synced, SyncStatus: status, OccurredAt: time.Now(), Data: `{}`, DataSHA256: "-"}
		if err := db.Create(&st).Error; err != nil {
			t.Fatal(err)
		}
	}
	add("synced", 3, 3, models.RecordSynced)
	add("pending", 4, 3, models.RecordPending)
	add("rejected", 2, 1, models.RecordRejected)
	add("skipped", 2, 2, models.RecordSkipped)
	all := store.ResendFilter{Vendor: "autox3"}
	run := func(n *notifications, dry bool) (ResendSummary, string, string, error) {
		var out, progress bytes.Buffer
		r := &Resender{Store: s, Notify: n.notify, Out: &out, Progress: &progress, Concurrency: 2, DryRun: dry}
		sum, err := r.Run(ctx, all)
		return sum, out.String(), progress.String(), err
	}

	// A dry run says what it would do and changes nothing.
	n := &notifications{}
	sum, out, _, err := run(n, true)
	if err != nil || sum.Resent != 1 || sum.Pending != 1 || sum.Held != 2 || len(n.got) != 0 {
		t.Fatalf("dry run: %+v %v, notified %v", sum, err, n.got)
	}
	if !strings.Contains(out, "would-resend") {
		t.Fatalf("dry run printed %q", out)
	}

	sum, out, progress, err := run(n, false)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Chosen != 4 || sum.Examined != 4 || sum.Resent != 1 || sum.Pending != 1 || sum.Held != 2 || sum.Failed != 0 {
		t.Fatalf("summary %+v", sum)
	}
	for _, want := range []string{"resent       autox3/reception_order/synced\tversion 100 as revision 4",
		"pending      autox3/reception_order/pending", "held         autox3/reception_order/rejected", "held         autox3/reception_order/skipped"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(progress, "resend: done") || !strings.Contains(progress, "1 resent") {
		t.Errorf("progress %q", progress)
	}
	slices.SortFunc(n.got, func(a, b flow.NotifyInput) int { return strings.Compare(a.ExternalID, b.ExternalID) })
	want := []flow.NotifyInput{
		{Vendor: "autox3", Kind: "reception_order", ExternalID: "pending", Revision: 4},
		{Vendor: "autox3", Kind: "reception_order", ExternalID: "synced", Revision: 4},
	}
	if !slices.Equal(n.got, want) {
		t.Fatalf("notified %+v, want %+v", n.got, want)
	}

	// Temporal down: the raised record is reported failed; running the same
	// resend again tells its record workflow.
	st, _ := s.Record(ctx, "autox3", "reception_order", "synced")
	if _, _, err := s.MarkSynced(ctx, st); err != nil {
		t.Fatal(err)
	}
	down := &notifications{fail: true}
	sum, out, _, err = run(down, false)
	if err == nil || !strings.Contains(err.Error(), "run the same resend again") || sum.Failed != 2 || !strings.Contains(out, "failed") {
		t.Fatalf("with Temporal down: %+v, %v\n%s", sum, err, out)
	}
	up := &notifications{}
	if sum, _, _, err = run(up, false); err != nil || sum.Pending != 2 || len(up.got) != 2 {
		t.Fatalf("second run: %+v, %v, notified %v", sum, err, up.got)
	}
}

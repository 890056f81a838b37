//go:build cluster

package cluster_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/erp/erpsim"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/temporalclient"
)

// TestDrills runs every drill against one cluster, in order; each reports
// how long its burst took to be acknowledged and the cluster to drain.
func TestDrills(t *testing.T) {
	began := time.Now()
	scale := 1.0
	if v := os.Getenv("CLUSTER_DRILL_SCALE"); v != "" {
		// Bigger machines may run bigger bursts; smaller ones try a tuning quickly.
		var err error
		if scale, err = strconv.ParseFloat(v, 64); err != nil || scale <= 0 {
			t.Fatalf("CLUSTER_DRILL_SCALE=%q is not a positive number", v)
		}
	}
	size := func(n int) int { return max(int(float64(n)*scale), 20) }
	c := startCluster(t)
	up := time.Since(began)
	var report []drill
	newest := map[recordKey]int64{} // every record of every drill, for the resend

	sub := func(name string, f func(c *cluster) drill) {
		t.Run(name, func(t *testing.T) {
			d := f(c.with(t))
			if d.Name != "" {
				report = append(report, d)
			}
		})
	}
	// burstOf is a mixed burst of about size(n) deliveries tagged tag, whose
	// records are kept for the resend.
	burstOf := func(c *cluster, tag string, n int) *burst {
		b := c.mixedBurst(tag+testkit.RandomHex(3), size(n))
		for r, v := range b.newest {
			newest[r] = v
		}
		return b
	}

	sub("burst", func(c *cluster) drill {
		b := burstOf(c, "d1b", 1000)
		return c.run(fmt.Sprintf("%d-callback mixed burst, both replicas", len(b.deliveries)), b, 0, 0, nil)
	})

	sub("rolling-worker-restart", func(c *cluster) drill {
		b := burstOf(c, "d2w", 300)
		var took []string
		// Paced, so the faults land while callbacks still arrive.
		d := c.run("rolling restart of both workers (SIGTERM, restart, then the other)", b, 20, 0.15, func() {
			for _, w := range []string{"worker-1", "worker-2"} {
				start := time.Now()
				c.must("stop", w)
				c.must("start", w)
				took = append(took, fmt.Sprintf("%s back in %s", w, time.Since(start).Round(100*time.Millisecond)))
			}
		})
		d.Note = strings.Join(took, ", ")
		return d
	})

	sub("kill-history-then-matching", func(c *cluster) drill {
		b := burstOf(c, "d3k", 300)
		var note []string
		d := c.run("SIGKILL history, restart; then matching, restart", b, 15, 0.15, func() {
			for _, svc := range []string{"history", "matching"} {
				start := time.Now()
				c.must("kill", svc)
				time.Sleep(2 * time.Second) // down for a moment, as a crashed host is
				c.must("start", svc)
				note = append(note, fmt.Sprintf("%s restarted %s after the kill", svc, time.Since(start).Round(100*time.Millisecond)))
				time.Sleep(5 * time.Second) // let the burst run on the recovered service first
			}
		})
		d.Note = strings.Join(note, ", ")
		return d
	})

	sub("kill-api-replica", func(c *cluster) drill {
		b := burstOf(c, "d4a", 300)
		d := c.run("SIGKILL of api-1 mid-burst", b, 20, 0.3, func() { c.must("kill", "api-1") })
		if d.afterFault[1] == 0 {
			c.t.Errorf("api-2 acknowledged nothing after api-1 was killed")
		}
		d.Note = fmt.Sprintf("after the kill api-2 acknowledged %d deliveries; those sent to api-1 were refused and delivered again", d.afterFault[1])
		c.must("start", "api-1")
		return d
	})

	sub("resend-after-erp-restore", func(c *cluster) drill {
		return c.resendDrill(newest)
	})

	sub("bulk-retry-of-parked-records", func(c *cluster) drill {
		return c.bulkRetryDrill()
	})

	t.Run("tls-required", func(t *testing.T) {
		plain := config.Default()
		plain.Temporal.Address = c.cfg.Temporal.Address
		noCert := plain
		noCert.Temporal.TLSCA, noCert.Temporal.TLSServerName = c.cfg.Temporal.TLSCA, c.cfg.Temporal.TLSServerName
		for name, cfg := range map[string]config.Config{"plain text": plain, "no client certificate": noCert} {
			ctx, cancel := waitCtx(10 * time.Second)
			cl, err := temporalclient.Dial(ctx, cfg, temporalclient.DialOptions{})
			cancel()
			if err == nil {
				cl.Close()
				t.Errorf("%s: the cluster's frontend accepted the connection", name)
			}
		}
	})

	writeReport(t, c, report, up, time.Since(began), c.procStats())
}

// with is the cluster as seen from a subtest.
func (c *cluster) with(t *testing.T) *cluster {
	cc := *c
	cc.t = t
	return &cc
}

// resendDrill restores the ERP from an older "backup" (the simulator's data
// file cut at its middle record), runs `erpbridge resend --changed-since`
// the backup's time, and checks the ERP is back on every record's newest
// state with no Idempotency-Key accepted twice.
func (c *cluster) resendDrill(newest map[recordKey]int64) drill {
	t := c.t
	before, err := c.erpRecords()
	if err != nil || len(before) < 10 {
		t.Fatalf("ERP records before the restore: %d, %v", len(before), err)
	}
	keep := len(before) / 2
	backupAt := before[keep-1].ReceivedAt
	c.must("stop", "erpsim")
	data := filepath.Join(c.dir, "erpsim.jsonl")
	cutLines(t, data, keep)
	c.must("start", "erpsim")
	restored, err := c.erpRecords()
	if err != nil || len(restored) != keep {
		t.Fatalf("restored ERP holds %d records (%v), want %d", len(restored), err, keep)
	}

	cpu := c.cpuTimes()
	start := time.Now()
	since := backupAt.Add(-time.Second).UTC().Format(time.RFC3339Nano)
	out, errOut, err := c.erpbridge("resend", "--changed-since", since, "--progress", "2s")
	if err != nil {
		t.Fatalf("erpbridge resend: %v\n%s\n%s", err, out, errOut)
	}
	resendTook := time.Since(start)
	resent := strings.Count(out, "\nresent") + boolInt(strings.HasPrefix(out, "resent"))
	if resent == 0 || !strings.Contains(errOut, "resend: done") {
		t.Fatalf("resend resent %d records:\n%s\n%s", resent, out, errOut)
	}
	eventually(t, "the ERP back on every record's newest state", 5*time.Minute, func() error {
		recs, err := c.erpRecords()
		if err != nil {
			return err
		}
		latest := map[recordKey]int64{}
		for _, e := range recs {
			latest[recordKey{e.Source, e.Kind, e.ExternalID}] = e.Version
		}
		for r, v := range newest {
			if latest[r] != v {
				return fmt.Errorf("%s at %d, want %d", r, latest[r], v)
			}
		}
		return nil
	})
	done := time.Since(start)
	used := c.cpuSince(cpu)
	recs, _ := c.erpRecords()
	checkERP(t, recs, newest)
	t.Logf("resend: %d of %d records resent in %s (command), ERP complete %s after the start", resent, len(newest), resendTook.Round(time.Millisecond), done.Round(time.Millisecond))
	return drill{Name: "ERP restored from a backup, then `erpbridge resend --changed-since`", Records: len(newest),
		Burst: resendTook, Drain: done - resendTook, CPU: used,
		Note: fmt.Sprintf("ERP cut back from %d to %d accepted records; %d records resent", len(before), keep, resent)}
}

// bulkRetryDrill parks records with ERP rejections, fixes the ERP, and
// retries every parked record with one batch signal from the Temporal CLI,
// as the README tells operators to.
func (c *cluster) bulkRetryDrill() drill {
	t := c.t
	// A few orders of both vendors, every one of which the ERP rejects at first.
	b := c.mixedBurst("d6r"+testkit.RandomHex(3), 16)
	var rejected []string
	for r := range b.newest {
		rejected = append(rejected, r.externalID)
	}
	slices.Sort(rejected)
	c.erpFaults(erpsim.Faults{RejectExternalIDs: rejected, RejectReason: "unknown customer in master data"})
	cpu := c.cpuTimes()
	res := c.send(b, 8, 0, 0, nil)
	parked := `WorkflowType = "RecordWorkflow" AND SyncStatus = "rejected"`
	eventually(t, "every record parked", 3*time.Minute, func() error {
		n, err := c.count(parked)
		if err != nil {
			return err
		}
		if n != int64(len(b.newest)) {
			return fmt.Errorf("%d of %d records parked", n, len(b.newest))
		}
		return nil
	})
	c.erpFaults(erpsim.Faults{})
	start := time.Now()
	// The README's command, word for word, with --yes.
	c.must("temporal", "workflow", "signal", "--namespace", "default", "--name", flow.UpdateRetry,
		"--input", `{"reason":"customer master data fixed"}`,
		"--query", `WorkflowType="RecordWorkflow" AND SyncStatus="rejected" AND ExecutionStatus="Running"`,
		"--reason", "ERP master data fixed", "--yes")
	done := c.drained(b, 3*time.Minute)
	used := c.cpuSince(cpu)
	c.verify(b)
	return drill{CPU: used, Name: "bulk retry of parked records: `temporal workflow signal --query`", Deliveries: len(b.deliveries),
		Callbacks: len(b.callbacks), Records: len(b.newest), Burst: res.lastAck.Sub(res.start), Drain: done.Sub(start),
		Note: fmt.Sprintf("%d record workflows parked by ERP rejections, retried by one batch signal", len(b.newest))}
}

// cutLines keeps the first n lines of a file, as a restore from an older backup does.
func cutLines(t *testing.T, path string, n int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var kept []byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for i := 0; i < n && sc.Scan(); i++ {
		kept = append(append(kept, sc.Bytes()...), '\n')
	}
	f.Close()
	if err := os.WriteFile(path, kept, 0o644); err != nil {
		t.Fatal(err)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// writeReport logs the figures and writes them to artifacts/cluster/drills.md.
func writeReport(t *testing.T, c *cluster, report []drill, up, total time.Duration, procs []procStat) {
	var sb strings.Builder
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Fprintf(&sb, "Measured %s on %d cores (load average at the end: %s); cluster up in %s, all drills %s.\n\n",
		time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), strings.Join(strings.Fields(string(load))[:3], " "),
		up.Round(time.Second), total.Round(time.Second))
	fmt.Fprintln(&sb, "| drill | deliveries | callbacks | records | acknowledged in | drained after | deliveries retried | cluster CPU | notes |")
	fmt.Fprintln(&sb, "| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, d := range report {
		cpu := "-"
		if d.CPU > 0 {
			cpu = d.CPU.Round(time.Second).String()
		}
		fmt.Fprintf(&sb, "| %s | %s | %s | %d | %s | %s | %d | %s | %s |\n", d.Name, dash(d.Deliveries), dash(d.Callbacks), d.Records,
			d.Burst.Round(100*time.Millisecond), d.Drain.Round(100*time.Millisecond), d.FailedTries, cpu, d.Note)
	}
	slices.SortFunc(procs, func(a, b procStat) int { return strings.Compare(a.name, b.name) })
	fmt.Fprintln(&sb, "\n| process | resident memory at the end | CPU time since its last start |")
	fmt.Fprintln(&sb, "| --- | --- | --- |")
	for _, p := range procs {
		fmt.Fprintf(&sb, "| %s | %d MiB | %s |\n", p.name, p.rssMiB, p.cpu.Round(time.Second))
	}
	t.Log("\n" + sb.String())
	dir := filepath.Join(c.root, "artifacts/cluster")
	if err := os.MkdirAll(dir, 0o755); err == nil {
		_ = os.WriteFile(filepath.Join(dir, "drills.md"), []byte(sb.String()), 0o644)
	}
}

func dash(n int) string {
	if n == 0 {
		return "-"
	}
	return strconv.Itoa(n)
}

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/erpbridge/erpbridge/internal/testkit"
)

// bridgeProc is `erpbridge all` running as a child of the bench.
type bridgeProc struct {
	cmd      *exec.Cmd
	apiURL   string
	pprofURL string
	exited   chan struct{}
	waitErr  error
}

// startBridge runs `erpbridge all` with env (and nothing of the bench's own
// environment but PATH and HOME) and waits until it is ready.
func startBridge(bin string, env []string) (*bridgeProc, error) {
	httpAddr, err := testkit.FindFreeAddr()
	if err != nil {
		return nil, err
	}
	pprofAddr, err := testkit.FindFreeAddr()
	if err != nil {
		return nil, err
	}
	env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"HTTP_ADDR=" + httpAddr, "PPROF_ADDR=" + pprofAddr}, env...)
	cmd := exec.Command(bin, "all")
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start erpbridge all: %w", err)
	}
	p := &bridgeProc{cmd: cmd, apiURL: "http://" + httpAddr, pprofURL: "http://" + pprofAddr, exited: make(chan struct{})}
	go func() { p.waitErr = cmd.Wait(); close(p.exited) }()
	err = waitFor(30*time.Second, func() bool {
		select {
		case <-p.exited:
			return true
		default:
		}
		resp, err := http.Get(p.apiURL + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	select {
	case <-p.exited:
		return nil, fmt.Errorf("erpbridge all exited at start: %v", p.waitErr)
	default:
	}
	if err != nil {
		p.stop()
		return nil, fmt.Errorf("erpbridge not ready: %w", err)
	}
	return p, nil
}

func (p *bridgeProc) pid() int { return p.cmd.Process.Pid }

// hasExited reports whether erpbridge has exited (then waitErr says how).
func (p *bridgeProc) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// stop asks erpbridge to shut down (SIGTERM) and kills it after 30 s.
func (p *bridgeProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		logf("erpbridge did not stop within 30s of SIGTERM: killing it")
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	var exit *exec.ExitError
	if p.waitErr != nil && !errors.As(p.waitErr, &exit) {
		logf("erpbridge: %v", p.waitErr)
	} else if p.waitErr != nil {
		logf("erpbridge stopped with %v", p.waitErr)
	}
}

// memSampler follows erpbridge's resident set and Go heap while the burst
// runs, and with a heap profile path keeps the heap profile taken at the
// highest resident set seen.
type memSampler struct {
	p           *bridgeProc
	heapProfile string

	mu           sync.Mutex
	peakRSS      float64 // MiB, sampled VmRSS
	peakHeap     float64 // MiB, go_memstats_heap_inuse_bytes
	profiledRSS  float64
	profileTaken time.Time

	stopc chan struct{}
	done  chan struct{}
}

func startMemSampler(p *bridgeProc, heapProfile string) *memSampler {
	s := &memSampler{p: p, heapProfile: heapProfile, stopc: make(chan struct{}), done: make(chan struct{})}
	go s.run()
	return s
}

func (s *memSampler) run() {
	defer close(s.done)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		rss := procMemMiB(s.p.pid(), "VmRSS")
		var heap float64
		if i%10 == 0 { // the Go heap every 2 s: a scrape costs erpbridge a little CPU
			heap = scrapeHeapInuseMiB(s.p.apiURL + "/metrics")
		}
		s.mu.Lock()
		s.peakRSS = max(s.peakRSS, rss)
		s.peakHeap = max(s.peakHeap, heap)
		s.mu.Unlock()
		if s.heapProfile != "" && rss > s.profiledRSS*1.03 && time.Since(s.profileTaken) > 2*time.Second {
			if err := fetchTo(s.p.pprofURL+"/debug/pprof/heap", s.heapProfile); err == nil {
				s.profiledRSS, s.profileTaken = rss, time.Now()
			}
		}
		select {
		case <-s.stopc:
			return
		case <-tick.C:
		}
	}
}

// stop ends the sampling and returns the peaks seen, in MiB.
func (s *memSampler) stop() (peakRSS, peakHeap, profiledRSS float64) {
	close(s.stopc)
	<-s.done
	return s.peakRSS, s.peakHeap, s.profiledRSS
}

// scrapeHeapInuseMiB reads go_memstats_heap_inuse_bytes from a Prometheus text page.
func scrapeHeapInuseMiB(url string) float64 {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "go_memstats_heap_inuse_bytes "); ok {
			v, _ := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v / (1 << 20)
		}
	}
	return 0
}

// logMemBreakdown logs where erpbridge's resident memory is now: anonymous
// and file-backed pages from /proc, and the Go runtime's own accounts.
func logMemBreakdown(p *bridgeProc) {
	pid := p.pid()
	parts := []string{fmt.Sprintf("RssAnon %.0f MiB, RssFile %.0f MiB", procMemMiB(pid, "RssAnon"), procMemMiB(pid, "RssFile"))}
	resp, err := http.Get(p.apiURL + "/metrics")
	if err == nil {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			name, val, ok := strings.Cut(sc.Text(), " ")
			if !ok || !strings.HasPrefix(name, "go_memstats_") && name != "go_goroutines" {
				continue
			}
			v, _ := strconv.ParseFloat(val, 64)
			switch name {
			case "go_memstats_heap_inuse_bytes", "go_memstats_heap_idle_bytes", "go_memstats_heap_released_bytes",
				"go_memstats_stack_inuse_bytes", "go_memstats_sys_bytes", "go_memstats_next_gc_bytes":
				parts = append(parts, fmt.Sprintf("%s %.1f MiB", strings.TrimSuffix(strings.TrimPrefix(name, "go_memstats_"), "_bytes"), v/(1<<20)))
			case "go_goroutines":
				parts = append(parts, fmt.Sprintf("goroutines %.0f", v))
			}
		}
	}
	logf("erpbridge memory now: %s", strings.Join(parts, ", "))
}

// fetchTo writes the body of a GET to path (through a temporary file, so a
// failed fetch leaves the previous one).
func fetchTo(url, path string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// cpuProfiler takes erpbridge's CPU profile through its pprof endpoint, in
// back-to-back windows of a few seconds (the endpoint profiles for a fixed
// time), merged into one profile with `go tool pprof -proto` at the end.
type cpuProfiler struct {
	p     *bridgeProc
	dir   string
	path  string
	stopc chan struct{}
	done  chan struct{}
	files []string
}

const cpuWindowSeconds = 5

func startCPUProfiler(p *bridgeProc, dir, path string) *cpuProfiler {
	c := &cpuProfiler{p: p, dir: dir, path: path, stopc: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for i := 0; ; i++ {
			f := filepath.Join(dir, fmt.Sprintf("cpu-%03d.pb.gz", i))
			if err := fetchTo(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", p.pprofURL, cpuWindowSeconds), f); err != nil {
				logf("cpu profile window %d: %v", i, err)
			} else {
				c.files = append(c.files, f)
			}
			select {
			case <-c.stopc:
				return
			default:
			}
		}
	}()
	return c
}

// stop waits for the window under way and merges the windows into path.
func (c *cpuProfiler) stop() error {
	close(c.stopc)
	<-c.done
	if len(c.files) == 0 {
		return errors.New("no CPU profile window was taken")
	}
	out, err := os.Create(c.path)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.Command("go", append([]string{"tool", "pprof", "-proto"}, c.files...)...)
	cmd.Stdout = out
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("merge %d CPU profile windows: %v: %s", len(c.files), err, stderr.String())
	}
	return nil
}

package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/internal/reason"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/vendors/autox3"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong/fbtsim"
)

const (
	// uiTimeout bounds each wait for the Web UI to show something.
	uiTimeout = 2 * time.Minute
	// reloadEvery is how long the workflow list may stay without the workflow
	// before the page is loaded again (the list does not refresh itself).
	reloadEvery = 15 * time.Second
	// encryptedEncoding is base64("binary/encrypted"), the encoding of a payload
	// the codec has not decoded, as the UI and the CLI print it.
	encryptedEncoding = "YmluYXJ5L2VuY3J5cHRlZA=="
)

// Texts of the sample reception callback that are personal or free text: the
// staff member's mobile number in the envelope and the order's remark. Without
// the codec they must appear nowhere in Temporal; with it they must be readable.
const (
	markerMobile = "17666166190"
	markerRemark = "老客户了"
)

// TestDevStackShowsDecodedOrder runs `erpbridge dev`, sends a signed AutoX3
// reception callback and follows it to the ERP simulator, then checks what an
// operator sees: the Temporal history holds only ciphertext, the codec server
// decodes it for the CLI, and the Web UI in a headless Chromium finds the
// workflow by OrderID and shows its decoded input and results.
func TestDevStackShowsDecodedOrder(t *testing.T) {
	s := startDevStack(t)

	msgID := uuid.NewString()
	receiveBaseID := time.Now().UnixMilli()
	orderID := strconv.FormatInt(receiveBaseID, 10)
	workflowID := flow.EventWorkflowID(vendors.AutoX3, msgID)
	body := autox3.SampleReceptionBody(msgID, receiveBaseID, time.Now().UnixMilli(), s.secret("AUTOX3_APP_SECRET"))
	if !bytes.Contains(body, []byte(markerMobile)) || !bytes.Contains(body, []byte(markerRemark)) {
		t.Fatalf("the sample callback no longer holds the markers %q and %q the test looks for", markerMobile, markerRemark)
	}

	s.postAutoX3(body)
	s.waitERPRecord(vendors.AutoX3, "reception_order", orderID)
	runID := waitEventWorkflowListed(t, s, workflowID, orderID)
	t.Logf("order %s: workflow %s run %s completed; ERP record received", orderID, workflowID, runID)

	t.Run("history holds only ciphertext", func(t *testing.T) {
		out := s.temporal("workflow", "show", "--workflow-id", workflowID, "--run-id", runID, "--output", "json")
		input := startedInput(t, out)
		if got := input.Metadata["encoding"]; got != encryptedEncoding {
			t.Errorf("the workflow input's encoding without the codec is %q, want %q (binary/encrypted)", got, encryptedEncoding)
		}
		for _, marker := range []string{markerMobile, markerRemark} {
			if bytes.Contains(out, []byte(marker)) {
				t.Errorf("the raw history shows %q as plain text", marker)
			}
			for _, p := range historyPayloads(t, out) {
				if bytes.Contains(p.Data, []byte(marker)) {
					t.Errorf("a raw history payload (%s) holds %q in plain text", p.Path, marker)
				}
			}
		}
	})

	t.Run("codec server decodes for the CLI", func(t *testing.T) {
		out := s.temporal("workflow", "show", "--workflow-id", workflowID, "--run-id", runID, "--output", "json",
			"--codec-endpoint", "http://"+s.codecAddr)
		input := startedInput(t, out)
		var in flow.EventInput
		if err := json.Unmarshal(input.Data, &in); err != nil {
			t.Fatalf("the decoded workflow input is not an EventInput: %v (encoding %q)", err, input.Metadata["encoding"])
		}
		if in.Vendor != vendors.AutoX3 || in.EventKey != msgID || in.EventType != autox3.MsgTypeReceptionCreate {
			t.Errorf("decoded input = %s/%s/%s, want %s/%s/%s", in.Vendor, in.EventKey, in.EventType, vendors.AutoX3, msgID, autox3.MsgTypeReceptionCreate)
		}
		// The input carries a claim check; the codec server shows the stored callback beside it.
		var shown struct {
			ClaimCheck string
			Callback   json.RawMessage
		}
		if err := json.Unmarshal(input.Data, &shown); err != nil {
			t.Fatal(err)
		}
		if shown.ClaimCheck != flow.ClaimCheckFor(vendors.AutoX3, msgID) {
			t.Errorf("decoded input lacks its claim check: %+v", in)
		}
		if string(shown.Callback) != string(body) {
			t.Errorf("the codec server shows a callback that is not the one posted:\n got %s\nwant %s", shown.Callback, body)
		}
		if !hasSummary(t, historyPayloads(t, out), orderID) {
			t.Errorf("no decoded activity result says {Kind: reception_order, ExternalID: %s}", orderID)
		}
	})

	t.Run("web UI shows the decoded order", func(t *testing.T) {
		checkWebUI(t, s, workflowID, runID, orderID, msgID)
	})

	t.Run("reconciliation completes an order pushed as booked", func(t *testing.T) {
		checkDevReconcile(t, s)
	})
}

// checkDevReconcile follows the banner's reconciliation steps as printed:
// its curl pushes the simulated car order as booked, its Temporal CLI line
// runs the schedule now, and the ERP then holds the order completed, with
// the fare only the open API knew.
func checkDevReconcile(t *testing.T, s *devStack) {
	banner := s.out.String()
	i := strings.Index(banner, "Fenbeitong reconciliation:")
	if i < 0 {
		t.Fatalf("the banner has no reconciliation steps:\n%s", reason.Tail([]byte(s.out.String()), 3000))
	}
	var pushBody, trigger, orderID string
	for _, line := range strings.Split(banner[i:], "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "curl ") && pushBody == "":
			_, arg, ok := strings.Cut(line, "--data-binary ")
			if !ok {
				t.Fatalf("the banner's push has no body: %s", line)
			}
			pushBody = shellUnquote(t, arg)
		case strings.Contains(line, "schedule trigger") && trigger == "":
			trigger = line
		}
	}
	if pushBody == "" || trigger == "" {
		t.Fatalf("the banner's reconciliation steps lack the push or the trigger:\n%s", banner[i:])
	}
	var push struct {
		OrderInfo struct {
			OrderID string `json:"order_id"`
		} `json:"order_info"`
	}
	if err := json.Unmarshal([]byte(pushBody), &push); err != nil || push.OrderInfo.OrderID == "" {
		t.Fatalf("the banner's push body is not a car order (%v): %s", err, pushBody)
	}
	orderID = push.OrderInfo.OrderID
	s.postFenbeitong([]byte(pushBody))
	s.waitERPRecord(vendors.Fenbeitong, "car_order", orderID)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "sh", "-c", trigger).CombinedOutput(); err != nil {
		t.Fatalf("the banner's trigger %q: %v\n%s", trigger, err, out)
	}
	s.eventually("the ERP holds the order completed", syncTimeout, func() error {
		recs := s.erpRecords(orderID)
		if len(recs) == 0 {
			return fmt.Errorf("no record")
		}
		var last struct {
			Status    int `json:"status"`
			PriceInfo struct {
				TotalPrice string `json:"total_price"`
			} `json:"price_info"`
		}
		if err := json.Unmarshal(recs[len(recs)-1].Data, &last); err != nil {
			return err
		}
		// The dev stack's simulated API completes the order with the sample
		// fare; the record carries its total as a canonical decimal.
		want := decimal.RequireFromString(fbtsim.SampleFare().Total)
		total, err := decimal.NewFromString(last.PriceInfo.TotalPrice)
		if last.Status != fbtsim.StatusCompleted || err != nil || !total.Equal(want) {
			return fmt.Errorf("%d records, the last at status %d with total %q; want status %d with total %s",
				len(recs), last.Status, last.PriceInfo.TotalPrice, fbtsim.StatusCompleted, want)
		}
		return nil
	})
}

// shellUnquote reads one single-quoted shell word ('…', with '\” for a quote).
func shellUnquote(t *testing.T, word string) string {
	t.Helper()
	word = strings.TrimSpace(word)
	if len(word) < 2 || word[0] != '\'' || word[len(word)-1] != '\'' {
		t.Fatalf("not a single-quoted shell word: %s", word)
	}
	return strings.ReplaceAll(word[1:len(word)-1], `'\''`, "'")
}

// waitEventWorkflowListed waits until the Temporal visibility store lists the
// event workflow under OrderID (the Web UI's search uses it) as completed, and
// returns its run id.
func waitEventWorkflowListed(t *testing.T, s *devStack, workflowID, orderID string) string {
	t.Helper()
	c, err := client.Dial(client.Options{
		HostPort:  s.temporalAddr,
		Namespace: "default",
		Logger:    sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
	})
	if err != nil {
		t.Fatalf("dial Temporal at %s: %v", s.temporalAddr, err)
	}
	defer c.Close()
	query := fmt.Sprintf("OrderID=%q AND WorkflowId=%q", orderID, workflowID)
	var runID string
	s.eventually(fmt.Sprintf("Temporal lists %s as completed under %s", workflowID, query), syncTimeout, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", Query: query})
		if err != nil {
			return err
		}
		status := enumspb.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED
		for _, e := range resp.GetExecutions() {
			runID, status = e.GetExecution().GetRunId(), e.GetStatus()
		}
		if status != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
			return fmt.Errorf("%d listed, last status %v", len(resp.GetExecutions()), status)
		}
		return nil
	})
	return runID
}

// payload is one payload of a history printed by `temporal workflow show -o json`.
type payload struct {
	Path     string
	Metadata map[string]string // values base64-decoded
	Data     []byte            // base64-decoded
}

// historyPayloads walks the JSON history and returns every payload in it.
func historyPayloads(t *testing.T, history []byte) []payload {
	t.Helper()
	var doc any
	if err := json.Unmarshal(history, &doc); err != nil {
		t.Fatalf("temporal workflow show printed no JSON: %v\n%s", err, reason.Tail(history, 2000))
	}
	var out []payload
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if p, ok := asPayload(v); ok {
				p.Path = path
				out = append(out, p)
				return
			}
			for k, e := range v {
				walk(path+"."+k, e)
			}
		case []any:
			for i, e := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		}
	}
	walk("", doc)
	return out
}

// asPayload reads a {"metadata": {...}, "data": "..."} object.
func asPayload(v map[string]any) (payload, bool) {
	md, ok := v["metadata"].(map[string]any)
	if !ok {
		return payload{}, false
	}
	p := payload{Metadata: map[string]string{}}
	for k, e := range md {
		s, _ := e.(string)
		p.Metadata[k] = s
	}
	if d, ok := v["data"].(string); ok {
		b, err := base64.StdEncoding.DecodeString(d)
		if err != nil {
			return payload{}, false
		}
		p.Data = b
	}
	return p, true
}

// startedInput returns the workflow input payload of the history's first event.
func startedInput(t *testing.T, history []byte) payload {
	t.Helper()
	var doc struct {
		Events []struct {
			EventType  string `json:"eventType"`
			Attributes struct {
				Input struct {
					Payloads []map[string]any `json:"payloads"`
				} `json:"input"`
			} `json:"workflowExecutionStartedEventAttributes"`
		} `json:"events"`
	}
	if err := json.Unmarshal(history, &doc); err != nil {
		t.Fatalf("temporal workflow show printed no JSON: %v\n%s", err, reason.Tail(history, 2000))
	}
	if len(doc.Events) == 0 || doc.Events[0].EventType != "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED" || len(doc.Events[0].Attributes.Input.Payloads) != 1 {
		t.Fatalf("the history does not start with a WorkflowExecutionStarted event with one input payload:\n%s", reason.Tail(history, 2000))
	}
	p, ok := asPayload(doc.Events[0].Attributes.Input.Payloads[0])
	if !ok {
		t.Fatalf("the workflow input is not a payload: %v", doc.Events[0].Attributes.Input.Payloads[0])
	}
	enc, err := base64.StdEncoding.DecodeString(p.Metadata["encoding"])
	if err == nil {
		t.Logf("workflow input encoding: %s", enc)
	}
	return p
}

// hasSummary reports whether a payload is a Persist result naming the
// reception order orderID.
func hasSummary(t *testing.T, ps []payload, orderID string) bool {
	t.Helper()
	for _, p := range ps {
		var sum flow.PersistResult
		if json.Unmarshal(p.Data, &sum) == nil && sum.Kind == "reception_order" && sum.ExternalID == orderID {
			return true
		}
	}
	return false
}

// checkWebUI opens the Temporal Web UI in a headless Chromium, searches
// OrderID="orderID", opens the event workflow from the list and checks that
// its input and activity results are shown decoded through the codec server.
func checkWebUI(t *testing.T, s *devStack, workflowID, runID, orderID, msgID string) {
	ctx := newBrowser(t)
	codecLog := watchCodecCalls(t, ctx, "http://"+s.codecAddr)
	defer func() {
		if t.Failed() {
			t.Logf("the UI's calls to the codec server: %s", codecLog)
		}
	}()
	artifacts := artifactDir(t, s.root)

	// The workflow list, filtered by the search attribute through the URL.
	listURL := s.uiURL() + "/namespaces/default/workflows?query=" + url.QueryEscape(fmt.Sprintf("OrderID=%q", orderID))
	listed := []string{workflowID, runID, "EventWorkflow", "Completed", fmt.Sprintf("OrderID=%q", orderID)}
	func() {
		defer saveScreenshot(t, ctx, filepath.Join(artifacts, "temporal-ui-workflow-list.png"))
		waitPage(t, ctx, "the workflow list at "+listURL, listURL, reloadEvery, listed, nil, nil)
	}()

	// Click through to the workflow, as an operator would.
	link := fmt.Sprintf(`a[href$="/%s/history"]`, runID)
	href, err := runFor(ctx, uiTimeout, chromedp.AttributeValue(chromedp.CSS(link), "href"))
	if err != nil {
		t.Fatalf("the list has no link to run %s: %v", runID, err)
	}
	wantPath := "/namespaces/default/workflows/" + workflowID + "/" + runID + "/history"
	if u, err := url.Parse(href.Value); err != nil || u.Path != wantPath {
		t.Errorf("the list links the workflow to %q, want the path %s", href.Value, wantPath)
	}
	if err := doFor(ctx, uiTimeout, chromedp.Click(chromedp.CSS(link))); err != nil {
		t.Fatalf("click the workflow %s: %v", workflowID, err)
	}

	// The workflow page: its input, result and history, decoded. Vendor,
	// EventKey and EventType are readable only after the codec server decoded
	// the input; the body is the callback, so the order and its remark show;
	// the result says it was handed over to its order's record workflow,
	// which sent it. (Persist runs as a local activity in new runs, so its
	// result is a marker, not an activity result on the page.)
	decoded := []string{
		workflowID, runID,
		`"Vendor":"autox3"`,
		fmt.Sprintf(`"EventKey":%q`, msgID),
		fmt.Sprintf(`"EventType":%q`, autox3.MsgTypeReceptionCreate),
		// The stored callback, resolved by the codec server from the claim
		// check, shows as JSON: its fields are readable without escapes.
		`"Callback":{`,
		fmt.Sprintf(`"receiveBaseId":%s`, orderID),
		markerRemark, markerMobile,
		`"Status":"handed_over"`,
		fmt.Sprintf(`"RecordWorkflowID":%q`, flow.RecordWorkflowID(vendors.AutoX3, "reception_order", orderID)),
	}
	func() {
		defer saveScreenshot(t, ctx, filepath.Join(artifacts, "temporal-ui-workflow.png"))
		waitPage(t, ctx, "the workflow page of "+workflowID, "", 0, decoded, []string{encryptedEncoding, `\"receiveBaseId\"`}, codecLog.hopeless)
	}()
	loc, err := runFor(ctx, time.Minute, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(loc, "/"+runID+"/history") {
		t.Errorf("the workflow page is at %s, want the history of run %s", loc, runID)
	}
}

// newBrowser starts a headless Chromium with a fresh profile and returns a
// chromedp context of one tab; the test's end closes it. Without Chromium the
// test is skipped, or fails under CI=true.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	testenv.RequireServers(t)
	path := chromiumPath(t)
	var output testkit.Buffer
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
		chromedp.CombinedOutput(&output),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	// The first action starts the browser, which lives as long as ctx: it
	// must not run under a timeout of its own.
	start := time.Now()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v\n%s", path, err, reason.Tail([]byte(output.String()), 4000))
	}
	t.Logf("started %s in %s", path, time.Since(start).Round(time.Millisecond))
	return ctx
}

// chromiumPath is $CHROME_PATH, else the Debian chromium package's binary or
// another Chromium or Chrome on PATH.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROME_PATH"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("CHROME_PATH=%s: %v", p, err)
		}
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.Unavailable(t, "Chromium not found: install the chromium package or set CHROME_PATH")
	return ""
}

// waitPage loads pageURL (unless it is empty: then it waits on the current
// page) and waits up to uiTimeout until the page's text, with all white space
// removed, contains every string of want and none of avoid. A non-zero reload
// loads the page again when it has not got there after that long. A non-nil
// hopeless ends the wait early when it returns an error.
func waitPage(t *testing.T, ctx context.Context, what, pageURL string, reload time.Duration, want, avoid []string, hopeless func() error) {
	t.Helper()
	var loadedAt time.Time
	testenv.Eventually(t, what, uiTimeout, func() error {
		if pageURL != "" && (loadedAt.IsZero() || (reload > 0 && time.Since(loadedAt) > reload)) {
			if err := doFor(ctx, time.Minute, chromedp.Navigate(pageURL)); err != nil {
				t.Fatalf("%s: load: %v", what, err)
			}
			loadedAt = time.Now()
		}
		text, err := runFor(ctx, 30*time.Second, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		if err != nil {
			t.Fatalf("%s: read the page text: %v", what, err)
		}
		flat := strings.Join(strings.Fields(text), "")
		var missing, present []string
		for _, w := range want {
			if !strings.Contains(flat, strings.Join(strings.Fields(w), "")) {
				missing = append(missing, w)
			}
		}
		for _, a := range avoid {
			if strings.Contains(flat, a) {
				present = append(present, a)
			}
		}
		if len(missing) == 0 && len(present) == 0 {
			return nil
		}
		if hopeless != nil {
			if err := hopeless(); err != nil {
				t.Fatalf("%s: %v; the page lacks %q and still shows %q", what, err, missing, present)
			}
		}
		return fmt.Errorf("the page lacks %q and still shows %q; its text:\n%s", missing, present, reason.Tail([]byte(text), 1500))
	})
}

// runFor runs one browser action that returns a value, bounded by d.
func runFor[T any](ctx context.Context, d time.Duration, action chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return chromedp.Run(ctx, action)
}

// doFor runs browser actions that return nothing, bounded together by d.
func doFor(ctx context.Context, d time.Duration, actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

// saveScreenshot writes a full-page PNG of the tab to path.
func saveScreenshot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	if err := fitViewport(ctx); err != nil {
		t.Logf("screenshot %s shows the first screen only: %v", path, err)
	}
	png, err := runFor(ctx, time.Minute, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", path, err)
		return
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("screenshot %s is not a PNG", path)
		return
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Errorf("save screenshot: %v", err)
		return
	}
	t.Logf("screenshot: %s", path)
}

// fitViewport makes the viewport as tall as the page's content, so that a
// screenshot shows all of it: the UI scrolls inside #content-wrapper, which a
// full-page capture does not unroll, and its history table renders more rows
// as they come into view. So the viewport grows until the content does not.
func fitViewport(ctx context.Context) error {
	const width, maxHeight = 1400, 16000
	height := int64(0)
	for range 20 {
		h, err := laidOutHeight(ctx, height)
		if err != nil {
			return err
		}
		h = min(h, maxHeight)
		if h <= height {
			return nil
		}
		height = h
		if err := doFor(ctx, 30*time.Second, chromedp.EmulateViewport(width, height)); err != nil {
			return fmt.Errorf("resize the viewport: %w", err)
		}
	}
	return nil
}

// laidOutHeight waits, in the page, until the viewport is viewportHeight
// tall (unless that is 0) and the rows that came into view are rendered: the
// content's height has stayed the same over two animation frames. It returns
// that height.
func laidOutHeight(ctx context.Context, viewportHeight int64) (int64, error) {
	h, err := runFor(ctx, 30*time.Second, chromedp.PollFunction[int64](`(viewportHeight) => {
		if (viewportHeight > 0 && window.innerHeight !== viewportHeight) return 0;
		const e = document.getElementById("content-wrapper");
		const h = Math.max(e ? e.scrollHeight : 0, document.documentElement.scrollHeight);
		const w = window.__fitViewport || (window.__fitViewport = {height: -1, frames: 0});
		w.frames = h === w.height ? w.frames + 1 : 0;
		w.height = h;
		return w.frames >= 2 ? h : 0;
	}`, chromedp.WithPollingArgs(viewportHeight)))
	if err != nil {
		return 0, fmt.Errorf("measure the page: %w", err)
	}
	return h, nil
}

// artifactDir is $ARTIFACT_DIR, else <module>/artifacts/e2e, created.
func artifactDir(t *testing.T, root string) string {
	t.Helper()
	dir := os.Getenv("ARTIFACT_DIR")
	if dir == "" {
		dir = filepath.Join(root, "artifacts", "e2e")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("create the artefact directory: %v", err)
	}
	return dir
}

// codecCalls records how the page's requests to the codec server ended, to
// explain a page that shows no decoded payloads.
type codecCalls struct {
	mu          sync.Mutex
	urls        map[network.RequestID]string
	lines       []string
	firstFailed time.Time
}

// failAfter is how long after a codec call failed the wait for decoded
// payloads gives up: the UI does not retry a failed decode.
const failAfter = 10 * time.Second

// hopeless reports an error once a call to the codec server failed (other
// than by being canceled) more than failAfter ago.
func (c *codecCalls) hopeless() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.firstFailed.IsZero() || time.Since(c.firstFailed) < failAfter {
		return nil
	}
	return fmt.Errorf("a call of the UI to the codec server failed %s ago, and the UI does not retry it", time.Since(c.firstFailed).Round(time.Second))
}

func (c *codecCalls) add(line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.lines) < 20 {
		c.lines = append(c.lines, line)
	}
}

// String lists the recorded calls.
func (c *codecCalls) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.lines) == 0 {
		return "none"
	}
	return strings.Join(c.lines, "; ")
}

// watchCodecCalls records the tab's requests to codecURL and how they ended.
func watchCodecCalls(t *testing.T, ctx context.Context, codecURL string) *codecCalls {
	t.Helper()
	c := &codecCalls{urls: map[network.RequestID]string{}}
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			if strings.HasPrefix(ev.Request.URL, codecURL) {
				c.mu.Lock()
				c.urls[ev.RequestID] = ev.Request.Method + " " + ev.Request.URL
				c.mu.Unlock()
			}
		case *network.EventResponseReceived:
			c.mu.Lock()
			u, ok := c.urls[ev.RequestID]
			c.mu.Unlock()
			if ok {
				c.add(fmt.Sprintf("%s: HTTP %d", u, ev.Response.Status))
			}
		case *network.EventLoadingFailed:
			c.mu.Lock()
			u, ok := c.urls[ev.RequestID]
			c.mu.Unlock()
			if ok && !ev.Canceled {
				c.mu.Lock()
				if c.firstFailed.IsZero() {
					c.firstFailed = time.Now()
				}
				c.mu.Unlock()
				msg := fmt.Sprintf("%s: failed: %s", u, ev.ErrorText)
				if ev.CorsErrorStatus != nil {
					msg += fmt.Sprintf(" (CORS %s %s)", ev.CorsErrorStatus.CorsError, ev.CorsErrorStatus.FailedParameter)
				}
				c.add(msg)
			}
		}
	})
	if err != nil {
		t.Fatalf("watch the browser's requests: %v", err)
	}
	return c
}

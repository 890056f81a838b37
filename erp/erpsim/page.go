package erpsim

import (
	"bytes"
	"html/template"
	"net/http"
	"slices"
	"time"
	"unicode/utf8"
)

// pageRecords is how many of the latest records the page shows.
const pageRecords = 100

// pageDataChars bounds the data shown per record on the page.
const pageDataChars = 300

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="5">
<title>ERP simulator</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem; }
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
code, pre { font-size: 0.85rem; }
td.data { max-width: 40rem; word-break: break-all; }
</style>
</head>
<body>
<h1>ERP simulator</h1>
<p>Accepts <code>POST /records</code> under the ERP contract. This page reloads every 5 seconds.
JSON: <a href="records">/records</a>, <a href="stats">/stats</a>, <a href="faults">/faults</a>.</p>

<h2>Counters</h2>
<table>
<tr><th>attempts</th><th>accepted</th><th>duplicates</th><th>failed (injected)</th><th>rejected</th><th>stored</th></tr>
<tr><td>{{.Stats.Attempts}}</td><td>{{.Stats.Accepted}}</td><td>{{.Stats.Duplicates}}</td><td>{{.Stats.FailedInjected}}</td><td>{{.Stats.Rejected}}</td><td>{{.Stats.Stored}}</td></tr>
</table>

<h2>Faults</h2>
<table>
<tr><th>failure rate</th><td>{{.Faults.FailureRate}}</td></tr>
<tr><th>latency</th><td>{{.Faults.LatencyMS}} ms</td></tr>
<tr><th>outage</th><td>{{with .Faults.OutageUntil}}until {{.Format "2006-01-02T15:04:05Z07:00"}}{{else}}none{{end}}</td></tr>
<tr><th>rejected external ids</th><td>{{range $i, $id := .Faults.RejectExternalIDs}}{{if $i}}, {{end}}<code>{{$id}}</code>{{else}}none{{end}}</td></tr>
<tr><th>rejection</th><td>HTTP {{.Faults.RejectStatus}}: {{.Faults.RejectReason}}</td></tr>
</table>
<p>Set faults: <code>curl -X PUT {{.Base}}/faults -d '{"failure_rate":0.5,"outage_seconds":60,"reject_external_ids":["6482"]}'</code>;
clear: <code>curl -X DELETE {{.Base}}/faults</code>.</p>

<h2>Latest records ({{len .Records}} of {{.Stats.Stored}}, newest first)</h2>
{{if .Records}}
<table>
<tr><th>seq</th><th>received</th><th>source</th><th>kind</th><th>external id</th><th>version</th><th>occurred</th><th>idempotency key</th><th>data</th></tr>
{{range .Records}}<tr><td>{{.Seq}}</td><td>{{.ReceivedAt.Format "2006-01-02 15:04:05Z07:00"}}</td><td>{{.Source}}</td><td>{{.Kind}}</td><td>{{.ExternalID}}</td><td>{{.Version}}</td><td>{{.OccurredAt.Format "2006-01-02T15:04:05Z07:00"}}</td><td><code>{{.IdempotencyKey}}</code></td><td class="data"><code>{{.Data}}</code></td></tr>
{{end}}</table>
{{else}}<p>No records yet.</p>{{end}}
</body>
</html>
`))

// pageRecord is one row of the page.
type pageRecord struct {
	Entry
	Data string
}

func (s *Sim) page(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	stats := s.stats
	faults := s.faultsLocked(time.Now())
	from := max(0, len(s.entries)-pageRecords)
	latest := slices.Clone(s.entries[from:])
	s.mu.Unlock()

	slices.Reverse(latest)
	rows := make([]pageRecord, len(latest))
	for i, e := range latest {
		rows[i] = pageRecord{Entry: e, Data: shorten(string(e.Data), pageDataChars)}
	}
	var buf bytes.Buffer
	err := pageTemplate.Execute(&buf, map[string]any{
		"Stats":   stats,
		"Faults":  faults,
		"Records": rows,
		"Base":    "http://" + r.Host,
	})
	if err != nil {
		http.Error(w, "render page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

// shorten cuts s to at most n characters, marking the cut.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

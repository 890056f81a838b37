package erpsim

import (
	"bytes"
	_ "embed" // the page's template
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

// pageHTML is the page's template.
//
//go:embed page.html
var pageHTML string

var pageTemplate = template.Must(template.New("page").Parse(pageHTML))

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

package ops

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// WriteText prints the report for a person at a terminal.
func (r *Report) WriteText(w io.Writer) error {
	p := &printer{w: w}
	p.f("%s\n", r.Target)

	p.f("\nEvents")
	if r.EventsTotal > int64(len(r.Events)) {
		p.f(" (the newest %d of %d)", len(r.Events), r.EventsTotal)
	}
	p.f("\n")
	if len(r.Events) == 0 {
		p.f("  none stored\n")
	}
	for _, ev := range r.Events {
		p.event("  ", ev)
	}

	if s := r.Split; s != nil {
		p.f("\nSplit into %d parts:", s.Parts)
		for _, st := range slices.Sorted(maps.Keys(s.ByStatus)) {
			p.f(" %d %s", s.ByStatus[st], st)
		}
		p.f("\n")
		if len(s.Shown) < int(s.Parts) {
			p.f("  %d of them, those waiting for an outcome or an operator first:\n", len(s.Shown))
		}
		for _, ev := range s.Shown {
			p.event("  ", ev)
		}
	}

	for _, rec := range r.Records {
		p.record(rec)
	}

	p.f("\nNext\n")
	for _, s := range r.Next {
		prefix := "  "
		if s.Record != "" && len(r.Records) > 1 {
			prefix += s.Record + ": "
		}
		p.f("%s%s\n", prefix, s.Say)
		for _, c := range s.Commands {
			p.f("    %s\n", c)
		}
	}
	return p.err
}

// printer writes formatted text and keeps the first error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *printer) event(indent string, ev Event) {
	// Named vendor:event key, which is a callback's workflow id too; a
	// part of a split message has no workflow of its own.
	p.f("%s%s:%s  %s  %s\n", indent, ev.Vendor, ev.EventKey, ev.Status, ev.EventType)
	var facts []string
	if ev.Kind != "" {
		facts = append(facts, "record "+ev.Vendor+":"+ev.Kind+":"+ev.ExternalID)
	}
	if ev.Version != 0 {
		facts = append(facts, fmt.Sprintf("version %d", ev.Version))
	}
	if ev.Applied {
		facts = append(facts, fmt.Sprintf("revision %d", ev.Revision))
	}
	facts = append(facts, "received "+stamp(ev.ReceivedAt))
	if ev.SyncedAt != nil {
		facts = append(facts, "synced "+stamp(*ev.SyncedAt))
	}
	p.f("%s  %s\n", indent, strings.Join(facts, " · "))
	if ev.Detail != "" {
		p.f("%s  detail: %s\n", indent, ev.Detail)
	}
	if len(ev.Warnings) > 0 {
		p.f("%s  warnings: %s\n", indent, strings.Join(ev.Warnings, "; "))
	}
}

func (p *printer) record(r Record) {
	p.f("\nRecord %s (workflow %s)\n", r.Name, r.Workflow.ID)
	if st := r.State; st != nil {
		p.f("  state     %s · version %d · revision %d · synced revision %d", st.Status, st.Version, st.Revision, st.SyncedRevision)
		if st.SyncedAt != nil {
			p.f(" · synced %s", stamp(*st.SyncedAt))
		}
		p.f(" · changed %s\n", stamp(st.UpdatedAt))
		if st.LastError != "" {
			p.f("  last error: %s\n", st.LastError)
		}
	} else {
		p.f("  state     none stored yet\n")
	}
	p.f("  attempts  ")
	switch {
	case r.AttemptsTotal == 0:
		p.f("none\n")
	case r.AttemptsTotal > int64(len(r.Attempts)):
		p.f("the newest %d of %d\n", len(r.Attempts), r.AttemptsTotal)
	default:
		p.f("%d\n", r.AttemptsTotal)
	}
	for _, a := range r.Attempts {
		p.f("    %s  revision %d  %s", stamp(a.At), a.Revision, a.Outcome)
		if a.HTTPStatus != 0 {
			p.f("  HTTP %d", a.HTTPStatus)
		}
		if a.Detail != "" {
			p.f("  %s", a.Detail)
		}
		p.f("\n")
	}
	w := r.Workflow
	p.f("  workflow  ")
	switch {
	case w.Error != "" && !w.Found:
		p.f("unknown: %s\n", w.Error)
		return
	case !w.Found:
		p.f("not running (no run of it exists)\n")
		return
	case w.Running:
		p.f("running")
	default:
		p.f("not running: %s", strings.ToLower(w.Execution))
		if w.ClosedAt != nil {
			p.f(" %s", stamp(*w.ClosedAt))
		}
	}
	if w.SyncStatus != "" {
		p.f(" · SyncStatus %s", w.SyncStatus)
	}
	p.f("\n")
	if s := w.Status; s != nil {
		p.f("            state %s · revision %d · synced revision %d · attempts %d\n", s.State, s.Revision, s.Synced, s.Attempts)
		if s.LastError != "" {
			p.f("            last error: %s\n", s.LastError)
		}
	}
	if w.Error != "" {
		p.f("            %s\n", w.Error)
	}
}

// stamp writes a time for people: UTC, to the second.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

package ops

import (
	"fmt"
	"strings"

	"github.com/erpbridge/erpbridge/models"
)

// nextSteps says what an operator can do about what a report shows, with
// the exact commands.
func nextSteps(rep *Report) []Step {
	steps := []Step{}
	events := rep.Events
	if rep.Split != nil {
		events = append(append([]Event(nil), events...), rep.Split.Shown...)
	}
	var waiting []string
	for _, ev := range events {
		switch ev.Status {
		case string(models.EventReceived):
			waiting = append(waiting, ev.WorkflowID)
		case string(models.EventInvalid):
			steps = append(steps, Step{Say: fmt.Sprintf("event %s broke the vendor's rules (%s): it is kept but never sent, "+
				"and there is nothing to retry. Ask the vendor to send it corrected.", ev.EventKey, ev.Detail)})
		}
	}
	if len(waiting) > 0 {
		steps = append(steps, Step{Say: fmt.Sprintf("%d event(s) are stored and wait for their event workflow (%s): the relay "+
			"starts each within seconds. If they stay received, Temporal is unreachable or the relay is behind: see "+
			"\"The relay is behind\" in docs/operations.md.", len(waiting), strings.Join(waiting, ", "))})
	}
	for _, r := range rep.Records {
		steps = append(steps, recordSteps(r))
	}
	if len(steps) == 0 {
		steps = append(steps, Step{Say: "nothing to do."})
	}
	return steps
}

// recordSteps is what can be done about one record.
func recordSteps(r Record) Step {
	st, w := r.State, r.Workflow
	step := Step{Record: r.Name}
	show := "erpbridge ops show --record " + Quote(r.Name)
	retry := "erpbridge ops retry --record " + Quote(r.Name)
	skip := "erpbridge ops skip --record " + Quote(r.Name) + " --reason '<why>'"
	resend := fmt.Sprintf("erpbridge resend --vendor %s --kind %s --id %s", Quote(r.Vendor), Quote(r.Kind), Quote(r.ExternalID))
	// known: Temporal answered, so whether the workflow runs is known.
	known := w.Error == "" || w.Found
	const unknown = " (Temporal could not be asked: this is what the database says)"
	switch {
	case st == nil:
		step.Say = "no state of this record is stored yet: its event workflow stores it."
	case w.parked():
		rev := st.Revision
		if w.Status != nil && w.Status.Revision > 0 {
			rev = w.Status.Revision
		}
		step.Say = fmt.Sprintf("parked: the ERP refused revision %d (its answer is above). Fix the cause at the ERP, then retry; "+
			"or give up on this state with skip (a newer state from the vendor is still sent).", rev)
		if st.Status != string(models.RecordRejected) {
			step.Say += " Its row says " + st.Status + ": the ERP kept failing until the retry budget ran out, " +
				"and recording the parking in the database failed."
		}
		step.Commands = []string{retry, skip}
	case !known && st.Status == string(models.RecordRejected):
		step.Say = "parked" + unknown + ": once Temporal answers, retry or skip it."
		step.Commands = []string{retry, skip}
	case st.Status == string(models.RecordRejected) && !w.Running:
		step.Say = "parked, and its record workflow is not running: retry starts it, and it sends the state again. " +
			"To skip this state instead, retry first: if the ERP refuses again, the record parks and skip applies."
		step.Commands = []string{retry}
	case w.Running && (st.Revision > st.SyncedRevision || w.Status != nil && w.Status.SyncStatus == string(models.RecordPending)):
		step.Say = fmt.Sprintf("being sent: revision %d (the ERP has revision %d). Wait: the record workflow retries a failing ERP "+
			"for up to ERP_RETRY_BUDGET, then parks the record. Look again with:", st.Revision, st.SyncedRevision)
		step.Commands = []string{show}
	case !known && st.Revision > st.SyncedRevision:
		step.Say = fmt.Sprintf("waiting to send revision %d (the ERP has revision %d)%s. Look again once Temporal answers:",
			st.Revision, st.SyncedRevision, unknown)
		step.Commands = []string{show}
	case st.Revision > st.SyncedRevision:
		step.Say = fmt.Sprintf("waiting to send revision %d with no record workflow running: the stale-record sweep starts it "+
			"(within SWEEP_STALE_AFTER and SWEEP_EVERY); to start it now:", st.Revision)
		step.Commands = []string{resend}
	case st.Status == string(models.RecordSkipped):
		step.Say = fmt.Sprintf("nothing to do: revision %d was skipped (%s). A newer state from the vendor is sent as usual.",
			st.SyncedRevision, strings.TrimPrefix(st.LastError, "skipped: "))
	default:
		step.Say = fmt.Sprintf("nothing to do: the ERP accepted revision %d (version %d). If the ERP has lost it "+
			"(restored from a backup), resend it:", st.SyncedRevision, st.SyncedVersion)
		step.Commands = []string{resend}
	}
	return step
}

// Quote quotes s for a POSIX shell unless it needs none.
func Quote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:/@+=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

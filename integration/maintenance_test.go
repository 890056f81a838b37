package integration

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/vendors/autox3"
)

// planState is what the ERP must end with for one plan.
type planState struct {
	Version int64
	Action  string
	Miles   string
}

// Maintenance v2 messages of one inspection order, each changing some of its
// plans, arrive shuffled and at once: every plan ends at the ERP on the state
// of the newest message that changed it (a deletion included), the ERP never
// takes an older state of a plan after a newer one, and each message's own
// run ends split.
func TestAutoX3MaintenancePlansConvergePerPlan(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *stack) {
		const messages, plans = 8, 4
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
		order := strconv.FormatInt(uniqueID(), 10)
		base := time.Now().Add(-time.Hour).UnixMilli()
		actions := []string{autox3.ActionAdd, autox3.ActionModify, autox3.ActionFinish, autox3.ActionDelete}
		want := map[string]planState{}
		var bodies [][]byte
		var msgIDs []string
		for m := range messages {
			createTime := base + int64(m)*1000
			var items []string
			for p := range plans {
				if rng.IntN(2) == 0 && !(p == m%plans) { // every message changes at least one plan
					continue
				}
				id := fmt.Sprintf("%s-%d", order, p)
				st := planState{Version: createTime, Action: actions[rng.IntN(len(actions))], Miles: strconv.Itoa(60000 + rng.IntN(10000))}
				want[id] = st // messages are built oldest first, so the last one kept is the newest
				items = append(items, fmt.Sprintf(`{"action":%q,"id":%q,"inspectionOrderId":%s,"currentMiles":%s,"reductionType":"MILE"}`,
					st.Action, id, order, st.Miles))
			}
			msgID := uuid.NewString()
			msgIDs = append(msgIDs, msgID)
			content := json.RawMessage("[" + strings.Join(items, ",") + "]")
			bodies = append(bodies, autox3.BuildBody(msgID, autox3.MsgTypeMaintenanceV2, createTime, nil, content, true, appSecret))
		}
		rand.Shuffle(len(bodies), func(i, j int) { bodies[i], bodies[j] = bodies[j], bodies[i] })
		parallel(len(bodies), func(i int) { s.mustAccept("/webhooks/autox3", bodies[i]) })

		for _, id := range msgIDs {
			s.mustResult(flow.EventWorkflowID("autox3", id), string(models.EventSplit))
		}
		for id, st := range want {
			testenv.Eventually(t, "plan "+id+" ends on its newest state", 2*time.Minute, func() error {
				recs := s.records(autox3.KindMaintenancePlanItem, id)
				if len(recs) == 0 || recs[len(recs)-1].Version != st.Version {
					return fmt.Errorf("%d records, the newest (version %d) not last", len(recs), st.Version)
				}
				return nil
			})
			recs := s.records(autox3.KindMaintenancePlanItem, id)
			assertVersionsGrow(t, recs)
			var data struct {
				PlanID       string `json:"plan_id"`
				Action       string `json:"action"`
				Deleted      bool   `json:"deleted"`
				CurrentMiles string `json:"current_miles"`
				Inspection   string `json:"inspection_order_id"`
			}
			if err := json.Unmarshal(recs[len(recs)-1].Data, &data); err != nil {
				t.Fatal(err)
			}
			if data.PlanID != id || data.Action != st.Action || data.Deleted != (st.Action == autox3.ActionDelete) ||
				data.CurrentMiles != st.Miles || data.Inspection != order {
				t.Fatalf("plan %s at the ERP = %+v, want %+v", id, data, st)
			}
			var row models.AutoX3MaintenancePlan
			if err := s.db.Take(&row, "id = ?", id).Error; err != nil || row.Version != st.Version || row.Action != st.Action {
				t.Fatalf("plan %s row = %+v, %v; want %+v", id, row, err, st)
			}
		}
		// Only the plans the messages named exist at the ERP.
		for p := range plans {
			id := fmt.Sprintf("%s-%d", order, p)
			if _, named := want[id]; !named && len(s.records(autox3.KindMaintenancePlanItem, id)) > 0 {
				t.Fatalf("plan %s was never named but reached the ERP", id)
			}
		}
	})
}

package activities

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/store"
)

// fakeSink answers each Send with the next of its answers, as a connector
// would, and counts the sends.
type fakeSink struct {
	mu      sync.Mutex
	answers []func(erp.Record) (erp.Result, error)
	sends   int
}

func (f *fakeSink) Send(_ context.Context, r erp.Record) (erp.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	answer := f.answers[min(f.sends, len(f.answers)-1)]
	f.sends++
	return answer(r)
}

// A send that a connector reports done keeps the ERP's document id and
// number on the record and on the attempt; a rejection keeps the ERP's own
// message in the database while the failure's message only fingerprints it;
// a later send to an ERP that tells no document leaves the record's as it is.
func TestSyncRecordKeepsTheERPDocument(t *testing.T) {
	t.Parallel()
	for name, open := range testenv.Databases(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			const echo = "客户 13812345678 不存在"
			sink := &fakeSink{answers: []func(erp.Record) (erp.Result, error){
				func(r erp.Record) (erp.Result, error) {
					return erp.Result{}, &erp.Error{Record: r.Label(), Status: 200, Reason: echo}
				},
				func(r erp.Record) (erp.Result, error) {
					return erp.Result{Status: 200, DocumentID: "100042", Number: erp.DocumentNumber(r), Created: true}, nil
				},
				func(r erp.Record) (erp.Result, error) { return erp.Result{Status: 201}, nil },
			}}
			a := &Activities{Store: store.New(db), Vendors: testVendors(t), ERP: sink}
			env := newEnv(t, a)
			rbid := int64(910000 + len(name))
			ext := strconv.FormatInt(rbid, 10)
			persist(t, env, a, receptionInput(t, a, "doc-1", rbid, 1000))
			in := flow.SyncInput{Vendor: "autox3", Kind: "reception_order", ExternalID: ext}

			_, err := env.ExecuteActivity(a.SyncRecord, in)
			var appErr *temporal.ApplicationError
			if !errors.As(err, &appErr) || appErr.Type() != flow.ErrERPRejected || strings.Contains(err.Error(), "13812345678") {
				t.Fatalf("rejection: %v; want %s whose message fingerprints the answer", err, flow.ErrERPRejected)
			}
			var st models.RecordState
			db.Where("external_id = ?", ext).Take(&st)
			if !strings.Contains(st.LastError, echo) || st.ERPDocumentID != "" {
				t.Fatalf("after the rejection: last error %q, document %q", st.LastError, st.ERPDocumentID)
			}

			if res := syncOnce(t, env, a, in); !res.Sent {
				t.Fatalf("sync %+v", res)
			}
			db.Where("external_id = ?", ext).Take(&st)
			if st.ERPDocumentID != "100042" || st.ERPDocumentNumber != "AX3-RO-"+ext || st.SyncStatus != models.RecordSynced {
				t.Fatalf("record after the send: document %q %q, %s", st.ERPDocumentID, st.ERPDocumentNumber, st.SyncStatus)
			}

			persist(t, env, a, receptionInput(t, a, "doc-2", rbid, 2000))
			if res := syncOnce(t, env, a, in); !res.Sent || res.SentVersion != 2000 {
				t.Fatalf("newer state %+v", res)
			}
			db.Where("external_id = ?", ext).Take(&st)
			if st.ERPDocumentID != "100042" || st.ERPDocumentNumber != "AX3-RO-"+ext {
				t.Fatalf("a send that tells no document cleared the record's: %q %q", st.ERPDocumentID, st.ERPDocumentNumber)
			}

			var attempts []models.SyncAttempt
			db.Where("external_id = ?", ext).Order("id").Find(&attempts)
			if len(attempts) != 3 {
				t.Fatalf("%d attempts, want 3", len(attempts))
			}
			if at := attempts[0]; at.Outcome != models.AttemptRejected || at.Detail != echo || at.ERPDocumentID != "" {
				t.Errorf("rejected attempt %+v", at)
			}
			if at := attempts[1]; at.Outcome != models.AttemptAccepted || at.ERPDocumentID != "100042" || at.ERPDocumentNumber != "AX3-RO-"+ext {
				t.Errorf("accepted attempt %+v", at)
			}
			if at := attempts[2]; at.ERPDocumentID != "" || at.ERPDocumentNumber != "" {
				t.Errorf("attempt of the HTTP-like answer %+v", at)
			}
		})
	}
}

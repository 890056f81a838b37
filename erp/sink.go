package erp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
)

// Sink delivers record states to one kind of ERP: the HTTP contract
// (Client), Kingdee K3Cloud (package kingdee) or Tryton (package tryton).
//
// A Sink turns one state of one record into the ERP's calls and classifies
// the outcome; it keeps no order of its own. The record workflow is the only
// caller for a record, one call at a time, always with the newest state, and
// owns retries, parking and the operators' retry and skip.
//
// Send makes the ERP hold r:
//   - nil error: the ERP holds this state. The record's one document (found
//     by DocumentNumber) was created when absent and updated otherwise; a
//     repeat of the same state, after a timeout or a worker crash, never
//     creates a second document.
//   - an *Error with Retryable set: transient (HTTP 5xx, timeouts, connection
//     errors, a lost session that a new login did not cure); the same state
//     is sent again later.
//   - an *Error without Retryable: the ERP refused this state for good (a
//     validation failure, a document in a state that may no longer change);
//     the record is parked with Reason until an operator acts or a newer
//     state arrives. Error() never quotes the ERP's answer (it may echo
//     personal data); Detail() does, for the database and encrypted state.
type Sink interface {
	Send(ctx context.Context, r Record) (Result, error)
}

// Mapper renders a record into the document a connector (package kingdee,
// package tryton) writes; *mapping.Set, loaded for the connector's kind, is
// the one erpbridge uses.
type Mapper interface {
	Render(ctx context.Context, r Record) (json.RawMessage, error)
}

// Sink kinds, the values of ERP_KIND.
const (
	KindHTTP    = "http"
	KindKingdee = "kingdee"
	KindTryton  = "tryton"
)

// IsConnector says whether kind is an ERP of its own connector, with a
// mapping (kingdee, tryton), rather than the HTTP contract.
func IsConnector(kind string) bool { return kind == KindKingdee || kind == KindTryton }

// maxNumberBytes bounds a DocumentNumber: ERPs keep bill numbers in short
// columns (Kingdee's FBillNo among them).
const maxNumberBytes = 40

// DocumentNumber is the number of a record's one document in an ERP that has
// no idempotency key (Kingdee FBillNo, Tryton reference): derived from the
// record's key alone, so every state of the record finds the same document,
// and holding vendor ids only. It reads "<source>-<kind>-<external id>" with
// short codes for the known sources and kinds ("FBT-CAR-5f3b…",
// "AX3-RO-6482"); an external id that is long or has characters outside
// [A-Za-z0-9._-] is replaced by "~" and 20 hex digits of its SHA-256.
func DocumentNumber(r Record) string {
	prefix := code(sourceCodes, r.Source) + "-" + code(kindCodes, r.Kind) + "-"
	id := r.ExternalID
	if len(prefix)+len(id) > maxNumberBytes || !plainID(id) {
		sum := sha256.Sum256([]byte(r.Source + "\x00" + r.Kind + "\x00" + r.ExternalID))
		id = "~" + hex.EncodeToString(sum[:])[:20]
	}
	return prefix + id
}

var sourceCodes = map[string]string{"autox3": "AX3", "fenbeitong": "FBT"}

var kindCodes = map[string]string{
	"reception_order":       "RO",
	"inspection_report":     "IR",
	"maintenance_plan_item": "MP",
	"maintenance_job":       "MJ",
	"car_order":             "CAR",
	"flight_order":          "FLT",
	"intl_flight_order":     "IFL",
	"hotel_order":           "HTL",
	"train_order":           "TRN",
	"courier_order":         "CUR",
	"express_order":         "EXP",
	"fee_waiver_order":      "FEE",
	"event":                 "EVT",
}

// code is the short code of name, or name itself in upper case (cut to 12
// bytes of [A-Z0-9_]) for one without a code.
func code(codes map[string]string, name string) string {
	if c, ok := codes[name]; ok {
		return c
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(name) {
		if b.Len() == 12 {
			break
		}
		if ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9') || r == '_' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "X"
	}
	return b.String()
}

func plainID(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

package intake

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/erpbridge/erpbridge/store"
)

// errTooLargeToCarry says a callback's body does not fit a workflow start.
var errTooLargeToCarry = errors.New("the callback is too large to carry in a workflow start")

// payloadOverhead is what an encoded, encrypted EventInput adds to its body
// beyond base64's four bytes for three: the other fields, JSON, the
// codec's nonce and tag, and the payload's metadata, with room to spare.
const payloadOverhead = 16 << 10

// Carry starts the event's workflow with the callback's body in its input:
// the edge's path when the store cannot take a callback, so that it is
// acknowledged durably all the same; the workflow stores it once the store
// is back. It reports a duplicate when the workflow exists already (a
// redelivery carried before, or a callback the relay started). A body whose
// encoded input would not fit maxPayload is refused with errTooLargeToCarry,
// so the vendor delivers it again later.
func (r *Relay) Carry(ctx context.Context, in store.Inbound, maxPayload int64) (duplicate bool, err error) {
	if carriedSize(len(in.Body)) > maxPayload {
		return false, fmt.Errorf("%w: %d bytes, at most %d fit", errTooLargeToCarry, len(in.Body), maxCarriedBody(maxPayload))
	}
	p := store.Pending{Origin: in.Origin, Vendor: in.Vendor, EventKey: in.EventKey, EventType: in.EventType, WorkflowID: in.WorkflowID, ReceivedAt: in.ReceivedAt}
	ev := eventInput(p)
	ev.Body = in.Body
	outcome, err := r.begin(ctx, "relay carry", "carried", p, ev)
	return outcome == "duplicate", err
}

// carriedSize is the size, at most, of the encoded input of a workflow
// start that carries a body of n bytes ([]byte is base64 in JSON).
func carriedSize(n int) int64 { return int64(base64.StdEncoding.EncodedLen(n)) + payloadOverhead }

// maxCarriedBody is the largest body a workflow start can carry under maxPayload.
func maxCarriedBody(maxPayload int64) int64 {
	return max((maxPayload-payloadOverhead)/4*3, 0)
}

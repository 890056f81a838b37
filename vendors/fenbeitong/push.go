// Package fenbeitong reads Fenbeitong (分贝通) order pushes: the cheap edge
// check the HTTP handler runs, the derived deduplication key, and the full
// decoding of a push into a normalised vendors.Event with its rows.
package fenbeitong

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/vendors/lenient"
)

// Push categories (order_info.order_category_type).
const (
	CategoryCar        = 3
	CategoryFlight     = 7
	CategoryIntlFlight = 40
	CategoryHotel      = 11
	CategoryTrain      = 15
	CategoryCourier    = 130
	CategoryExpress    = 131
	CategoryFeeWaiver  = 912
)

const (
	maxOrderIDLength     = 64 // the order id becomes part of a workflow id
	eventKeyHashHexChars = 16
)

// CategoryName returns the name of a push category ("car", "domestic_flight",
// ...; "category_<n>" for one not known), used as the event type.
func CategoryName(category int) string {
	name, _ := categoryInfo(category)
	return name
}

// CategoryKind returns the ERP record kind of a push category ("car_order",
// ...; "order" for one not known).
func CategoryKind(category int) string {
	_, kind := categoryInfo(category)
	return kind
}

func categoryInfo(category int) (name, kind string) {
	switch category {
	case CategoryCar:
		return "car", "car_order"
	case CategoryFlight:
		return "domestic_flight", "flight_order"
	case CategoryIntlFlight:
		return "intl_flight", "intl_flight_order"
	case CategoryHotel:
		return "hotel", "hotel_order"
	case CategoryTrain:
		return "train", "train_order"
	case CategoryCourier:
		return "courier", "courier_order"
	case CategoryExpress:
		return "express", "express_order"
	case CategoryFeeWaiver:
		return "fee_waiver", "fee_waiver_order"
	default:
		return "category_" + strconv.Itoa(category), "order"
	}
}

// Push is an order push that passed the edge check of ParsePush.
type Push struct {
	body       []byte                     // as received
	normalised []byte                     // keys trimmed; order and number text kept
	top        map[string]json.RawMessage // the normalised top-level object
	orderInfo  map[string]json.RawMessage // the normalised order_info object
	category   int
	orderID    string
	status     lenient.Int // Valid only when order_info.status is an integer
	key        string
}

// malformed builds the error for a push the handler must refuse with HTTP 400.
func malformed(field, problem string) error {
	return fmt.Errorf("fenbeitong push: %s %s: %w", field, problem, vendors.ErrMalformed)
}

// ParsePush runs the cheap checks the HTTP handler needs before it starts a
// workflow: the body is one JSON object; order_info is an object;
// order_info.order_id is a non-empty string of at most 64 printable ASCII
// characters without spaces (it becomes part of a workflow id);
// order_info.order_category_type is an integer (a number or a numeric
// string). order_info.status is optional here; when it is an integer it
// becomes part of the event key, and anything else is left for Decode to
// judge. Object keys are read with surrounding spaces trimmed. Every error
// wraps vendors.ErrMalformed and names the field.
func ParsePush(body []byte) (*Push, error) {
	norm, err := normaliseJSON(body)
	if err != nil {
		return nil, malformed("body", "is not one JSON object ("+err.Error()+")")
	}
	p := &Push{body: body, normalised: norm}
	if err := json.Unmarshal(norm, &p.top); err != nil {
		return nil, malformed("body", "is not one JSON object")
	}
	raw := p.top["order_info"]
	switch lenient.KindOf(raw) {
	case lenient.KindAbsent:
		return nil, malformed("order_info", "is missing")
	case lenient.KindObject:
	default:
		return nil, malformed("order_info", "is not an object")
	}
	if err := json.Unmarshal(raw, &p.orderInfo); err != nil {
		return nil, malformed("order_info", "is not an object")
	}

	if p.orderID, err = parseOrderID(p.orderInfo["order_id"]); err != nil {
		return nil, malformed("order_info.order_id", err.Error())
	}

	r := lenient.NewReader(&dialect)
	category := r.Object("order_info", p.orderInfo).Get("order_category_type").Int()
	var ce *vendors.ContentError
	if errors.As(r.Err(), &ce) {
		return nil, malformed(ce.Field, ce.Problem)
	}
	if !category.Valid {
		return nil, malformed("order_info.order_category_type", "is missing")
	}
	if category.Value < 0 || category.Value > math.MaxInt32 {
		return nil, malformed("order_info.order_category_type", "is out of range")
	}
	p.category = int(category.Value)

	_ = p.status.UnmarshalJSON(p.orderInfo["status"]) // anything but an integer is left for Decode

	canonical, err := canonicalJSON(norm)
	if err != nil {
		return nil, malformed("body", "cannot be re-encoded ("+err.Error()+")")
	}
	sum := sha256.Sum256(canonical)
	status := "-"
	if p.status.Valid {
		status = strconv.FormatInt(p.status.Value, 10)
	}
	p.key = strconv.Itoa(p.category) + ":" + p.orderID + ":" + status + ":" +
		hex.EncodeToString(sum[:])[:eventKeyHashHexChars]
	return p, nil
}

// parseOrderID checks the order id and returns it; errors are value-free problems.
func parseOrderID(raw json.RawMessage) (string, error) {
	switch lenient.KindOf(raw) {
	case lenient.KindAbsent:
		return "", errors.New("is missing")
	case lenient.KindString, lenient.KindNumber:
	default:
		return "", errors.New("is not a string")
	}
	var t lenient.Text
	if err := t.UnmarshalJSON(raw); err != nil {
		return "", err
	}
	switch {
	case t.Value == "":
		return "", errors.New("is missing")
	case len(t.Value) > maxOrderIDLength:
		return "", fmt.Errorf("is longer than %d characters", maxOrderIDLength)
	}
	for i := 0; i < len(t.Value); i++ {
		if c := t.Value[i]; c <= ' ' || c > '~' {
			return "", errors.New("must be printable ASCII without spaces")
		}
	}
	return t.Value, nil
}

// EventKey returns the deduplication key of the push. Fenbeitong sends no
// message id, so the key is derived from the content:
//
//	<category>:<order_id>:<status>:<hash>
//
// where category is order_info.order_category_type, status is
// order_info.status as a decimal integer ("-" when absent or not an
// integer), and hash is the first 16 hex digits of the SHA-256 of the
// canonical body: the push decoded with object keys trimmed of surrounding
// spaces and numbers kept as written, then re-encoded with keys sorted and
// no white space. A redelivery that differs only in key order, white space
// or string escapes gets the same key; any change of a value gets another.
func (p *Push) EventKey() string { return p.key }

// Category returns order_info.order_category_type.
func (p *Push) Category() int { return p.category }

// OrderID returns order_info.order_id.
func (p *Push) OrderID() string { return p.orderID }

// CategoryName returns the name of the push category, also the event type.
func (p *Push) CategoryName() string { return CategoryName(p.category) }

// Kind returns the ERP record kind of the push category.
func (p *Push) Kind() string { return CategoryKind(p.category) }

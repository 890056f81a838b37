package fenbeitong

import (
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/vendors/lenient"
)

// Order is the data of a push of any category other than car orders: its
// key fields and the whole push as received.
type Order struct {
	Category     int             `json:"category"`
	CategoryName string          `json:"category_name"`
	OrderID      string          `json:"order_id"`
	Status       lenient.Int     `json:"status"`
	StatusName   string          `json:"status_name"`
	CreateTime   lenient.Time    `json:"create_time"`
	TotalPrice   lenient.Decimal `json:"total_price"`
	Raw          json.RawMessage `json:"raw"` // the whole push, as received
	// Extra is always empty: Raw holds every field of the push.
	Extra lenient.Extra `json:"extra"`
}

// statusRankUnit separates the status rank from the time in a version: epoch
// milliseconds stay below 10^13 until the year 2286.
const statusRankUnit int64 = 10_000_000_000_000

// CarStatusRank returns the place of a car order status in the order's
// lifecycle: 300 → 1, 311 → 2, 350 and 351 → 3, 400 → 4, 410 → 5, 500 → 6,
// 600 → 7, 610 and 611 → 8, 700 → 9; any other code → 0.
func CarStatusRank(status int64) int64 {
	switch status {
	case 300:
		return 1
	case 311:
		return 2
	case 350, 351:
		return 3
	case 400:
		return 4
	case 410:
		return 5
	case 500:
		return 6
	case 600:
		return 7
	case 610, 611:
		return 8
	case 700:
		return 9
	default:
		return 0
	}
}

// Version orders the states of one Fenbeitong order, since pushes for one
// order can arrive in any order and more than once:
//
//	version = rank(status) × 10^13 + latest
//
// where latest is the latest of the push's own times (order_info.payment_time,
// arrival_time, departure_time, create_time) in milliseconds since the Unix
// epoch, 0 when it has none. For car orders (category 3) rank follows the
// lifecycle (see CarStatusRank: 300 → 1, 311 → 2, 350/351 → 3, 400 → 4,
// 410 → 5, 500 → 6, 600 → 7, 610/611 → 8, 700 → 9) and an unknown or absent
// status ranks 0, below every known one. So a later lifecycle stage always
// wins whatever the times say (a completed order is never overwritten by a
// late "booked" push), and within one stage the push with the later time wins.
// Other categories have no documented status order, so their rank is 0 and
// the version is the latest time alone.
func Version(category int, status lenient.Int, latest time.Time) int64 {
	var ms int64
	if !latest.IsZero() {
		ms = min(max(latest.UnixMilli(), 0), statusRankUnit-1)
	}
	if category != CategoryCar || !status.Valid {
		return ms
	}
	return CarStatusRank(status.Value)*statusRankUnit + ms
}

// latestTime returns the latest of the valid times, or the zero time.
func latestTime(times ...lenient.Time) time.Time {
	var latest time.Time
	for _, t := range times {
		if t.Valid && t.Time.After(latest) {
			latest = t.Time
		}
	}
	return latest
}

// Decode checks a push (see ParsePush) and turns it into an event. Car orders
// (category 3) are fully validated and normalised into a CarOrder with its
// rows; every other category is validated lightly (order id, category,
// status, create_time, price_info.total_price) and kept as an Order with the
// raw push. Envelope problems wrap vendors.ErrMalformed; content problems are
// *vendors.ContentError naming the field. See Version for the version rule
// and Push.EventKey for the event key.
func Decode(body []byte) (*vendors.Event, error) {
	p, err := ParsePush(body)
	if err != nil {
		return nil, err
	}
	ev := &vendors.Event{
		Vendor:     vendors.Fenbeitong,
		EventKey:   p.EventKey(),
		EventType:  p.CategoryName(),
		Kind:       p.Kind(),
		ExternalID: p.OrderID(),
	}
	if p.Category() == CategoryCar {
		c, warnings, err := readCarOrder(p)
		if err != nil {
			return nil, err
		}
		ev.Warnings = warnings
		latest := latestTime(c.PaymentTime, c.ArrivalTime, c.DepartureTime, c.CreateTime)
		ev.Version = Version(p.Category(), lenient.Int{Value: c.Status, Valid: true}, latest)
		ev.OccurredAt = latest
		ev.Data = c
		if ev.Tables, err = carOrderTables(p, c); err != nil {
			return nil, err
		}
		return ev, nil
	}
	o, latest, warnings, err := readOrder(p)
	if err != nil {
		return nil, err
	}
	ev.Warnings = warnings
	ev.Version = Version(p.Category(), o.Status, latest)
	ev.OccurredAt = latest
	ev.Data = o
	ev.Tables = orderTables(p, o)
	return ev, nil
}

// readOrder reads the key fields of a push of a category without its own
// model, and the latest of its times. Times other than create_time only count
// towards the version when they parse; their formats are not documented for
// these categories.
func readOrder(p *Push) (*Order, time.Time, []string, error) {
	r := lenient.NewReader(&dialect)
	top := r.Object("", p.top)
	top.Keep() // the record keeps the whole push as raw
	oi := top.Get("order_info").Object()
	oi.Keep()
	ord := &Order{
		Category:     p.category,
		CategoryName: p.CategoryName(),
		OrderID:      p.orderID,
		Status:       oi.Get("status").Int(),
		StatusName:   oi.Get("status_name").Text(),
		CreateTime:   oi.Get("create_time").Time(chinaTime),
		Raw:          p.rawJSON(),
	}
	if pi := top.Get("price_info").Object(); !pi.Absent() {
		pi.Keep()
		ord.TotalPrice = money(pi.Get("total_price"), true)
	}
	if err := r.Err(); err != nil {
		return nil, time.Time{}, nil, err
	}
	ord.Extra = r.Extra()
	times := []lenient.Time{ord.CreateTime}
	for _, key := range []string{"payment_time", "arrival_time", "departure_time"} {
		if t, err := dialect.ParseTime(p.orderInfo[key], chinaTime); err == nil {
			times = append(times, t)
		}
	}
	return ord, latestTime(times...), r.Warnings(), nil
}

// rawJSON returns the push as received, or its normalised form when the body
// is not valid UTF-8 (a string with a bad byte), which no text column or ERP
// could take as it is.
func (p *Push) rawJSON() json.RawMessage {
	if utf8.Valid(p.body) {
		return json.RawMessage(p.body)
	}
	return json.RawMessage(p.normalised)
}

// dialect is how Fenbeitong writes values: times without an offset in China
// Standard Time, none before 1970, and problems worded as this package
// always has.
var dialect = lenient.Dialect{
	Zone:      lenient.China,
	FirstYear: 1970,
	Wording: map[lenient.Problem]string{
		lenient.NotObject:  "is not an object",
		lenient.NotArray:   "is not an array",
		lenient.NotNumber:  "is not a number",
		lenient.NotInteger: "is not an integer",
		lenient.NotBool:    "is not a boolean",
		lenient.TooLong:    "is longer than %d characters",
		lenient.NotTime:    "is not a time (2006-01-02 15:04:05 or RFC 3339)",
		lenient.TimeRange:  "is a time outside 1970 to 9999",
	},
}

// chinaTime is the forms of Fenbeitong's times: "2006-01-02 15:04:05" in
// China Standard Time, or RFC 3339 with its own offset.
const chinaTime = lenient.LocalTime | lenient.RFC3339

// moneyScale is the decimal places money has (the vendor's samples show
// two); more are kept, with a warning.
const moneyScale = 4

// money reads an amount (or a distance) exactly as sent. Values the
// documents do not foresee are kept, with a warning, never refused: a
// negative amount unless allowNegative (a discount line, a refund), and
// more than moneyScale decimal places. Whether the value fits its column is
// the store's business (see models.DecimalFits).
func money(v lenient.Value, allowNegative bool) lenient.Decimal {
	d := v.Decimal()
	if !d.Valid {
		return d
	}
	if d.Value.IsNegative() && !allowNegative {
		v.Warn("is negative, which the documents do not foresee here; kept as sent")
	}
	if !d.Value.Equal(d.Value.Truncate(moneyScale)) {
		v.Warn("has more than %d decimal places; kept as sent", moneyScale)
	}
	return d
}

// weight reads a percentage share exactly as sent; a negative one is kept,
// with a warning.
func weight(v lenient.Value) lenient.Decimal {
	d := v.Decimal()
	if d.Valid && d.Value.IsNegative() {
		v.Warn("is negative, which a share should not be; kept as sent")
	}
	return d
}

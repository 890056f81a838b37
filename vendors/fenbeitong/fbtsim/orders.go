package fbtsim

import (
	"bytes"
	_ "embed" // the booked order template
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/vendors/fenbeitong"
	"github.com/erpbridge/erpbridge/vendors/lenient"
)

// Car order statuses the simulator's helpers use.
const (
	StatusBooked    = 350 // booking succeeded (叫车成功), what pushes carry
	StatusCancelled = 610
	StatusCompleted = 700
)

// order is one car order the simulator holds.
type order struct {
	id      string
	created time.Time
	seq     int             // order of adding, for a stable list order
	body    json.RawMessage // push-shaped JSON, as added or as SetStatus rewrote it
}

// status returns order_info.status, 0 when it is not an integer.
func (o *order) status() int64 {
	var top struct {
		OrderInfo struct {
			Status lenient.Int `json:"status"`
		} `json:"order_info"`
	}
	if json.Unmarshal(o.body, &top) != nil {
		return 0
	}
	return top.OrderInfo.Status.Value
}

// AddOrder adds a car order, or replaces the one with the same
// order_info.order_id: push-shaped JSON (order_info, price_info, user_info,
// ...) that the list and detail answer as given. order_info.order_id must be
// a non-empty string and order_info.create_time a time "2006-01-02
// 15:04:05" (China Standard Time) or RFC 3339, which the list filters on.
func (s *Sim) AddOrder(body []byte) error {
	id, created, err := readOrder(body)
	if err != nil {
		return fmt.Errorf("add car order: %w", err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		return fmt.Errorf("add car order: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	s.orders[id] = &order{id: id, created: created, seq: s.seq, body: compact.Bytes()}
	return nil
}

// Order returns the car order with the id as the simulator now answers it.
func (s *Sim) Order(orderID string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[orderID]
	if !ok {
		return nil, false
	}
	return slices.Clone(o.body), true
}

// readOrder reads the id and creation time of a push-shaped order.
func readOrder(body []byte) (string, time.Time, error) {
	var top struct {
		OrderInfo *struct {
			OrderID    json.RawMessage `json:"order_id"`
			CreateTime json.RawMessage `json:"create_time"`
		} `json:"order_info"`
	}
	if err := json.Unmarshal(body, &top); err != nil {
		return "", time.Time{}, fmt.Errorf("not a JSON object: %w", err)
	}
	if top.OrderInfo == nil {
		return "", time.Time{}, errors.New("order_info is missing")
	}
	var id, created string
	if json.Unmarshal(top.OrderInfo.OrderID, &id) != nil || strings.TrimSpace(id) == "" {
		return "", time.Time{}, errors.New("order_info.order_id is not a non-empty string")
	}
	if json.Unmarshal(top.OrderInfo.CreateTime, &created) != nil {
		return "", time.Time{}, errors.New("order_info.create_time is not a string")
	}
	t, err := time.ParseInLocation(time.DateTime, strings.TrimSpace(created), lenient.China)
	if err != nil {
		if t, err = time.Parse(time.RFC3339, strings.TrimSpace(created)); err != nil {
			return "", time.Time{}, errors.New("order_info.create_time is not a time like 2006-01-02 15:04:05")
		}
	}
	return id, t, nil
}

// selectOrders returns the orders that keep selects, newest first (by
// create_time, then the latest added); the caller holds s.mu.
func (s *Sim) selectOrders(keep func(*order) bool) []json.RawMessage {
	var picked []*order
	for _, o := range s.orders {
		if keep(o) {
			picked = append(picked, o)
		}
	}
	slices.SortFunc(picked, func(a, b *order) int {
		if c := b.created.Compare(a.created); c != 0 {
			return c
		}
		return b.seq - a.seq
	})
	out := make([]json.RawMessage, len(picked))
	for i, o := range picked {
		out[i] = o.body
	}
	return out
}

// Fare is the final fare of a car order.
type Fare struct {
	// Total is price_info.total_price, decimal text such as "52.30".
	Total string
	// Lines are order_info.price_detail_info.
	Lines []FareLine
}

// FareLine is one line of order_info.price_detail_info.
type FareLine struct {
	Name   string // "起步价格"
	Type   string // "start_price"
	Amount string // decimal text such as "14.00"
}

// SampleFare returns a final fare of 52.30 in four lines.
func SampleFare() Fare {
	return Fare{Total: "52.30", Lines: []FareLine{
		{Name: "起步价格", Type: "start_price", Amount: "14.00"},
		{Name: "里程费", Type: "distance_fee", Amount: "30.80"},
		{Name: "时长费", Type: "duration_fee", Amount: "5.50"},
		{Name: "高速费", Type: "highway_fee", Amount: "2.00"},
	}}
}

// validate checks that every amount is plain decimal text.
func (f Fare) validate() error {
	if !isDecimal(f.Total) {
		return fmt.Errorf("fare total %q is not decimal text like 52.30", f.Total)
	}
	for i, l := range f.Lines {
		if !isDecimal(l.Amount) {
			return fmt.Errorf("fare line %d amount %q is not decimal text like 14.00", i+1, l.Amount)
		}
	}
	return nil
}

// isDecimal reports whether s is an optional minus, digits, and an optional
// fraction: valid as both a JSON number and decimal text.
func isDecimal(s string) bool {
	s = strings.TrimPrefix(s, "-")
	whole, frac, hasPoint := strings.Cut(s, ".")
	digits := func(t string) bool { return t != "" && strings.Trim(t, "0123456789") == "" }
	if !digits(whole) || (len(whole) > 1 && whole[0] == '0') {
		return false
	}
	return !hasPoint || digits(frac)
}

// SetStatus moves a car order to status: order_info.status (written as the
// order had it, a string or a number) and status_name (the vendor's name of
// the code). With a final fare, price_info.total_price becomes its total
// (written as the order had it: decimal text in a string, or a number with
// the same digits), order_info.price_detail_info its lines (amounts as
// strings, as Fenbeitong's pushes have them), and a completed order (700)
// without a payment_time gets the simulator's now as one. Every other field
// is kept.
func (s *Sim) SetStatus(orderID string, status int, finalFare ...Fare) error {
	if status <= 0 {
		return fmt.Errorf("set status of car order %s: status %d is not a status code", orderID, status)
	}
	if len(finalFare) > 1 {
		return fmt.Errorf("set status of car order %s: %d fares given, at most 1", orderID, len(finalFare))
	}
	for _, f := range finalFare {
		if err := f.validate(); err != nil {
			return fmt.Errorf("set status of car order %s: %w", orderID, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[orderID]
	if !ok {
		return fmt.Errorf("set status of car order %s: no such order", orderID)
	}
	body, err := rewrite(o.body, status, finalFare, s.opts.Now())
	if err != nil {
		return fmt.Errorf("set status of car order %s: %w", orderID, err)
	}
	o.body = body
	return nil
}

// rewrite returns the order body with the new status and fare.
func rewrite(body json.RawMessage, status int, fares []Fare, now time.Time) (json.RawMessage, error) {
	var top, info map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(top["order_info"], &info); err != nil {
		return nil, fmt.Errorf("order_info: %w", err)
	}
	info["status"] = sameKind(info["status"], strconv.Itoa(status))
	if name := fenbeitong.CarStatusName(int64(status)); name != "" {
		info["status_name"] = jsonString(name)
	}
	for _, f := range fares {
		price := map[string]json.RawMessage{}
		if raw, ok := top["price_info"]; ok && string(raw) != "null" {
			if err := json.Unmarshal(raw, &price); err != nil {
				return nil, fmt.Errorf("price_info: %w", err)
			}
		}
		prev, ok := price["total_price"]
		if !ok {
			prev = json.RawMessage(`""`) // a new amount is a string, as pushes write amounts
		}
		price["total_price"] = sameKind(prev, f.Total)
		lines := make([]map[string]string, len(f.Lines))
		for i, l := range f.Lines {
			lines[i] = map[string]string{"name": l.Name, "amount": l.Amount, "type": l.Type}
		}
		var err error
		if info["price_detail_info"], err = json.Marshal(lines); err != nil {
			return nil, err
		}
		if top["price_info"], err = json.Marshal(price); err != nil {
			return nil, err
		}
		if status == StatusCompleted && isEmpty(info["payment_time"]) {
			info["payment_time"] = jsonString(now.In(lenient.China).Format(time.DateTime))
		}
	}
	var err error
	if top["order_info"], err = json.Marshal(info); err != nil {
		return nil, err
	}
	return json.Marshal(top)
}

// sameKind writes text as a JSON string when prev is one, else as a number.
func sameKind(prev json.RawMessage, text string) json.RawMessage {
	if p := bytes.TrimSpace(prev); len(p) > 0 && p[0] == '"' {
		return jsonString(text)
	}
	return json.RawMessage(text)
}

func isEmpty(raw json.RawMessage) bool {
	var s string
	return len(raw) == 0 || string(raw) == "null" || (json.Unmarshal(raw, &s) == nil && strings.TrimSpace(s) == "")
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s) // a string always marshals
	return b
}

// bookedTemplate is a booked car order with placeholders.
//
//go:embed booked_order.json
var bookedTemplate string

// BookedOrder returns a car order as Fenbeitong pushes it when the car is
// booked (status 350, 预约成功): push-shaped JSON with the order id and
// creation time (written in China Standard Time), no fare yet (total 0.00,
// no price lines), and the quirks of the vendor's sample kept (status as a
// string, amounts as strings, saas_info.remark an object). Names and phone
// numbers are placeholders. The same bytes serve as the push body and as
// the order AddOrder holds.
func BookedOrder(orderID string, created time.Time) []byte {
	content := func(s string) string { b := jsonString(s); return string(b[1 : len(b)-1]) }
	r := strings.NewReplacer(
		"{{order_id}}", content(orderID),
		"{{supplier_order_id}}", content("sim-"+orderID),
		"{{status_name}}", content(fenbeitong.CarStatusName(StatusBooked)),
		"{{create_time}}", content(created.In(lenient.China).Format(time.DateTime)),
	)
	return []byte(r.Replace(bookedTemplate))
}

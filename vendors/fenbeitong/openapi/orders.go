package openapi

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/vendors/lenient"
)

// Page sizes of the car order list. Fenbeitong's field table allows 500 a
// page; its text says 50, so 50 is the default.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// DateLayout is the layout of Fenbeitong's dates (create_time_begin/end).
const DateLayout = time.DateOnly

// ChinaDate returns the date of t in China Standard Time (UTC+8), as
// Fenbeitong's date filters take it: "2006-01-02".
func ChinaDate(t time.Time) string { return t.In(lenient.China).Format(DateLayout) }

// ListQuery selects car orders by their creation date.
type ListQuery struct {
	// CreateBegin is the first creation date, "2006-01-02" in China
	// Standard Time (see ChinaDate); "" for no lower bound.
	CreateBegin string
	// CreateEnd is the last creation date, "2006-01-02" in China Standard
	// Time. Required (Fenbeitong requires create_time_end).
	CreateEnd string
	// Status selects one status code (700 completed); 0 for every status.
	Status int
	// OrderID selects one order by its exact id; "" for every order.
	OrderID string
	// PageIndex is the page to read, from 1; 0 means 1.
	PageIndex int
	// PageSize is the orders a page; 0 means DefaultPageSize, at most
	// MaxPageSize.
	PageSize int
}

// listData is the data field of a list call, in the order it is written.
type listData struct {
	PageIndex       int    `json:"page_index"`
	PageSize        int    `json:"page_size"`
	CreateTimeBegin string `json:"create_time_begin,omitempty"`
	CreateTimeEnd   string `json:"create_time_end"`
	Status          int    `json:"status,omitempty"`
	OrderID         string `json:"order_id,omitempty"`
}

// data checks the query and returns the data field it becomes.
func (q ListQuery) data() (listData, error) {
	d := listData{PageIndex: q.PageIndex, PageSize: q.PageSize, CreateTimeBegin: q.CreateBegin,
		CreateTimeEnd: q.CreateEnd, Status: q.Status, OrderID: q.OrderID}
	if d.PageIndex == 0 {
		d.PageIndex = 1
	}
	if d.PageSize == 0 {
		d.PageSize = DefaultPageSize
	}
	switch {
	case d.PageIndex < 0:
		return d, fmt.Errorf("PageIndex %d is negative", q.PageIndex)
	case d.PageSize < 0 || d.PageSize > MaxPageSize:
		return d, fmt.Errorf("PageSize %d is outside 1 to %d", q.PageSize, MaxPageSize)
	case q.CreateEnd == "":
		return d, fmt.Errorf("CreateEnd is required (Fenbeitong requires create_time_end)")
	case q.Status < 0:
		return d, fmt.Errorf("Status %d is negative", q.Status)
	case strings.ContainsFunc(q.OrderID, func(r rune) bool { return r < ' ' }):
		return d, fmt.Errorf("OrderID holds a control character")
	}
	end, err := time.Parse(DateLayout, q.CreateEnd)
	if err != nil {
		return d, fmt.Errorf("CreateEnd %q is not a date like 2006-01-02", q.CreateEnd)
	}
	if q.CreateBegin != "" {
		begin, err := time.Parse(DateLayout, q.CreateBegin)
		if err != nil {
			return d, fmt.Errorf("CreateBegin %q is not a date like 2006-01-02", q.CreateBegin)
		}
		if begin.After(end) {
			return d, fmt.Errorf("CreateBegin %s is after CreateEnd %s", q.CreateBegin, q.CreateEnd)
		}
	}
	return d, nil
}

// Page is one page of the car order list.
type Page struct {
	// TotalCount is the orders the query selects, on every page.
	TotalCount int
	// PageIndex is the page's number, from 1.
	PageIndex int
	// PageSize is the orders a page.
	PageSize int
	// TotalPages is the pages the query has.
	TotalPages int
	// Results are the page's orders, each a push-shaped JSON object
	// (order_info, price_info, user_info, ...) exactly as Fenbeitong sent
	// it: numbers keep their text, nothing goes through float64.
	Results []json.RawMessage
}

// More reports whether pages follow this one.
func (p Page) More() bool { return p.PageIndex < p.TotalPages }

// ListCarOrders reads one page of car orders. The page's counts are
// Fenbeitong's (a number or a string holding one); those it leaves out are
// filled in: page_index and page_size from the query, total_pages from
// total_count, and, when both are missing, total_pages is this page's number
// plus one when the page is full, so More reads on until a page is not.
func (c *Client) ListCarOrders(ctx context.Context, q ListQuery) (Page, error) {
	d, err := q.data()
	name := fmt.Sprintf("car order list page %d", d.PageIndex)
	if err != nil {
		return Page{}, &Error{Call: name, Reason: "invalid query: " + err.Error(), Err: err}
	}
	body, err := json.Marshal(d)
	if err != nil {
		return Page{}, &Error{Call: name, Reason: "cannot encode the query: " + err.Error(), Err: err}
	}
	data, err := c.call(ctx, name, c.cfg.ListPath, body)
	if err != nil {
		return Page{}, err
	}
	page, err := readPage(data, d)
	if err != nil {
		return Page{}, &Error{Call: name, HTTPStatus: 200, Retryable: true,
			Reason: "answer not understood: " + err.Error() + ": " + fingerprint(data), Err: err}
	}
	return page, nil
}

// readPage reads the data of a list answer.
func readPage(data json.RawMessage, q listData) (Page, error) {
	var raw struct {
		TotalCount lenient.Int       `json:"total_count"`
		PageIndex  lenient.Int       `json:"page_index"`
		PageSize   lenient.Int       `json:"page_size"`
		TotalPages lenient.Int       `json:"total_pages"`
		Results    []json.RawMessage `json:"results"`
	}
	if lenient.KindOf(data) == lenient.KindAbsent { // data null: nothing found
		return Page{PageIndex: q.PageIndex, PageSize: q.PageSize, TotalPages: q.PageIndex - 1, Results: []json.RawMessage{}}, nil
	}
	if lenient.KindOf(data) != lenient.KindObject {
		return Page{}, fmt.Errorf("data is not an object")
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return Page{}, fmt.Errorf("data: %w", err)
	}
	p := Page{PageIndex: q.PageIndex, PageSize: q.PageSize, Results: raw.Results}
	if p.Results == nil {
		p.Results = []json.RawMessage{}
	}
	for i, r := range p.Results {
		if lenient.KindOf(r) != lenient.KindObject {
			return Page{}, fmt.Errorf("results[%d] is not an object", i)
		}
	}
	if raw.PageIndex.Valid && raw.PageIndex.Value > 0 {
		p.PageIndex = int(raw.PageIndex.Value)
	}
	if raw.PageSize.Valid && raw.PageSize.Value > 0 {
		p.PageSize = int(raw.PageSize.Value)
	}
	if raw.TotalCount.Valid && raw.TotalCount.Value >= 0 {
		p.TotalCount = int(raw.TotalCount.Value)
	}
	switch {
	case raw.TotalPages.Valid && raw.TotalPages.Value >= 0:
		p.TotalPages = int(raw.TotalPages.Value)
	case raw.TotalCount.Valid:
		p.TotalPages = (p.TotalCount + p.PageSize - 1) / p.PageSize
	case len(p.Results) >= p.PageSize:
		p.TotalPages = p.PageIndex + 1
	default:
		p.TotalPages = p.PageIndex
	}
	return p, nil
}

// CarOrderDetail reads one car order by its id: a push-shaped JSON object
// (order_info, price_info, user_info, ...) exactly as Fenbeitong sent it.
func (c *Client) CarOrderDetail(ctx context.Context, orderID string) (json.RawMessage, error) {
	name := "car order detail of " + orderID
	if strings.TrimSpace(orderID) == "" || strings.ContainsFunc(orderID, func(r rune) bool { return r < ' ' }) {
		return nil, &Error{Call: "car order detail", Reason: "invalid query: the order id is empty or holds a control character"}
	}
	body, err := json.Marshal(map[string]string{"order_id": orderID})
	if err != nil {
		return nil, &Error{Call: name, Reason: "cannot encode the query: " + err.Error(), Err: err}
	}
	data, err := c.call(ctx, name, c.cfg.DetailPath, body)
	if err != nil {
		return nil, err
	}
	if lenient.KindOf(data) != lenient.KindObject {
		return nil, &Error{Call: name, HTTPStatus: 200,
			Reason: "answer has code 0 but its data is not an order object: " + fingerprint(data)}
	}
	return data, nil
}

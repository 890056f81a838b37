package fenbeitong

import (
	_ "embed" // the sample push
	"encoding/json"
	"strconv"
	"strings"
)

// SampleBody returns the car order push of the vendor's documentation page
// with the given order id, status (and its status_name) and create_time
// (also used as payment_time). The page's quirks are kept: status and price
// detail amounts are strings, one key has a trailing space, saas_info.remark
// is an object and cost_info is an object. Phone numbers are placeholders.
// It serves tests and the development command.
func SampleBody(orderID string, status int, createTime string) []byte {
	r := strings.NewReplacer(
		"{{order_id}}", jsonStringContent(orderID),
		"{{status}}", strconv.Itoa(status),
		"{{status_name}}", jsonStringContent(CarStatusName(int64(status))),
		"{{create_time}}", jsonStringContent(createTime),
	)
	return []byte(r.Replace(sampleTemplate))
}

// jsonStringContent returns s escaped for use between the quotes of a JSON string.
func jsonStringContent(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b[1 : len(b)-1])
}

// sampleTemplate is the documentation page's sample with placeholders.
//
//go:embed sample_push.json
var sampleTemplate string

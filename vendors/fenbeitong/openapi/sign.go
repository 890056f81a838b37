package openapi

import (
	"crypto/md5" // Fenbeitong's signing rule, not a choice of ours
	"encoding/hex"
	"net/url"
	"strconv"
	"time"
)

// Sign returns Fenbeitong's signature of one call: the lower-case hex MD5 of
// "timestamp=<timestamp>&data=<data>&sign_key=<signKey>" over UTF-8 bytes,
// where data is the JSON text exactly as it is sent in the data field.
func Sign(timestamp, data, signKey string) string {
	sum := md5.Sum([]byte("timestamp=" + timestamp + "&data=" + data + "&sign_key=" + signKey))
	return hex.EncodeToString(sum[:])
}

// Timestamp returns t as Fenbeitong's timestamp: epoch milliseconds, 13
// digits for any time from 2001 to 2286.
func Timestamp(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// signedForm returns the form of one signed call.
func signedForm(timestamp, data, signKey, token, employeeID, employeeType string) url.Values {
	return url.Values{
		"timestamp":     {timestamp},
		"sign":          {Sign(timestamp, data, signKey)},
		"access_token":  {token},
		"employee_id":   {employeeID},
		"employee_type": {employeeType},
		"data":          {data},
	}
}

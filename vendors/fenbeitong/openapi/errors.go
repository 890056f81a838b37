package openapi

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// maxMsgBytes bounds how much of Fenbeitong's msg an Error keeps.
const maxMsgBytes = 512

// Error is a call to Fenbeitong's open API that did not succeed. Every error
// of a Client is an *Error.
type Error struct {
	// Call names the call: "token", "car order list page 2", "car order
	// detail of <order id>".
	Call string
	// HTTPStatus is the HTTP status of the answer, 0 when none arrived or
	// the call was never sent.
	HTTPStatus int
	// HasCode is true when Fenbeitong answered its envelope with a non-zero
	// code; Code and Msg are then its code and msg.
	HasCode bool
	// Code is Fenbeitong's code (1 for a failure, in the documents).
	Code int64
	// Msg is Fenbeitong's msg, at most 512 bytes, with the client's secrets
	// (app key, sign key, token) replaced by "[redacted]".
	Msg string
	// Reason says what went wrong when it was not Fenbeitong's refusal: no
	// answer, an answer not understood, an invalid query. It never holds an
	// answer's text, only its length and fingerprint.
	Reason string
	// Retryable says whether the same call made later may succeed: network
	// errors, timeouts, HTTP 408, 429 and 5xx, answers not understood, a
	// token refused even when fresh, and msgs that say busy or too
	// frequent. Refusals (a non-zero code), other HTTP 4xx and invalid
	// queries are not.
	Retryable bool
	// TokenRefused is true when Fenbeitong refused the access token, and
	// refused a freshly fetched one too.
	TokenRefused bool
	// Err is the underlying error, if any.
	Err error
}

// Error names the call and what happened.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("fenbeitong open API ")
	b.WriteString(e.Call)
	if e.Retryable {
		b.WriteString(" failed (retryable): ")
	} else {
		b.WriteString(" failed: ")
	}
	if e.HTTPStatus != 0 && !(e.HasCode && e.HTTPStatus == 200) {
		fmt.Fprintf(&b, "HTTP %d: ", e.HTTPStatus)
	}
	switch {
	case e.HasCode && e.Reason != "":
		fmt.Fprintf(&b, "code %d, msg %q: %s", e.Code, e.Msg, e.Reason)
	case e.HasCode:
		fmt.Fprintf(&b, "code %d, msg %q", e.Code, e.Msg)
	default:
		b.WriteString(e.Reason)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// IsRetryable reports whether err is an *Error that says the call may
// succeed later. Any other error, nil included, is not retryable.
func IsRetryable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Retryable
}

// IsTokenRefused reports whether err is an *Error whose call Fenbeitong
// refused for its access token even after a fresh one was fetched.
func IsTokenRefused(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.TokenRefused
}

// refusesToken reports whether an answer refuses the access token: HTTP
// 401, or a non-zero code whose msg speaks of the token being invalid or
// expired. Fenbeitong documents no code for it, so the msg is read.
func refusesToken(httpStatus int, hasCode bool, msg string) bool {
	if httpStatus == 401 {
		return true
	}
	if !hasCode {
		return false
	}
	m := strings.ToLower(msg)
	if !strings.Contains(m, "token") && !strings.Contains(m, "令牌") {
		return false
	}
	for _, word := range []string{"无效", "过期", "失效", "非法", "不存在", "错误", "不正确",
		"invalid", "expire", "illegal", "not exist", "wrong", "unauthorized"} {
		if strings.Contains(m, word) {
			return true
		}
	}
	return false
}

// saysBusy reports whether a refusal's msg says to come back later.
func saysBusy(msg string) bool {
	m := strings.ToLower(msg)
	for _, word := range []string{"繁忙", "频繁", "稍后", "超时", "限流",
		"busy", "too many", "too frequent", "timeout", "timed out", "try again", "rate limit"} {
		if strings.Contains(m, word) {
			return true
		}
	}
	return false
}

// fingerprint describes an answer without quoting it: its length and the
// first 8 hex digits of its SHA-256.
func fingerprint(body []byte) string {
	sum := sha256.Sum256(body)
	return fmt.Sprintf("answer of %d bytes (sha256 %s)", len(body), hex.EncodeToString(sum[:4]))
}

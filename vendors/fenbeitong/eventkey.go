package fenbeitong

import (
	"strconv"
	"strings"
)

// ParseEventKey reads an event key made by (*Push).EventKey,
// "<category>:<order_id>:<status>:<hash>", back into its parts. An order id
// may itself hold ':', so the key is read from both ends: the category
// before the first ':', the hash after the last, the status before that.
// ok is false for a key not of that form.
func ParseEventKey(key string) (category int, orderID, status string, ok bool) {
	cat, rest, found := strings.Cut(key, ":")
	if !found {
		return 0, "", "", false
	}
	n, err := strconv.Atoi(cat)
	if err != nil || n < 0 || strconv.Itoa(n) != cat {
		return 0, "", "", false
	}
	i := strings.LastIndexByte(rest, ':')
	if i < 0 || !isHex(rest[i+1:], eventKeyHashHexChars) {
		return 0, "", "", false
	}
	rest = rest[:i]
	j := strings.LastIndexByte(rest, ':')
	if j <= 0 {
		return 0, "", "", false
	}
	orderID, status = rest[:j], rest[j+1:]
	if status != "-" {
		if _, err := strconv.ParseInt(status, 10, 64); err != nil {
			return 0, "", "", false
		}
	}
	return n, orderID, status, true
}

// isHex reports whether s is n lower-case hex digits.
func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

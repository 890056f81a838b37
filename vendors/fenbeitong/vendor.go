package fenbeitong

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/netip"

	"github.com/erpbridge/erpbridge/vendors"
)

// Vendor is Fenbeitong. Fenbeitong signs nothing, so the secret token in the
// configured push URL (and optionally the source address) authenticates a push.
type Vendor struct {
	token   string
	allowed []netip.Prefix
}

// New returns the Fenbeitong vendor; an empty token refuses every push, and a
// non-empty allow-list refuses pushes from other addresses.
func New(token string, allowed []netip.Prefix) *Vendor {
	return &Vendor{token: token, allowed: allowed}
}

// Name is "fenbeitong".
func (*Vendor) Name() string { return vendors.Fenbeitong }

// Accept checks the token and the source, then runs ParsePush's edge checks;
// the key is the derived event key.
func (v *Vendor) Accept(req *vendors.Request) (vendors.Meta, error) {
	if v.token == "" {
		return vendors.Meta{}, fmt.Errorf("Fenbeitong pushes are refused: no token is configured: %w", vendors.ErrUnauthorized)
	}
	token := req.Query.Get("token")
	if token == "" {
		return vendors.Meta{}, fmt.Errorf("missing token query parameter: %w", vendors.ErrUnauthorized)
	}
	// Fixed-length digests, so the comparison's time says nothing of the token's length.
	got, want := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(v.token))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return vendors.Meta{}, fmt.Errorf("token query parameter does not match: %w", vendors.ErrUnauthorized)
	}
	if len(v.allowed) > 0 && !allowedSource(v.allowed, req.Source) {
		return vendors.Meta{}, fmt.Errorf("source address is not in FENBEITONG_ALLOWED_IPS: %w", vendors.ErrForbidden)
	}
	p, err := ParsePush(req.Body)
	if err != nil {
		return vendors.Meta{}, err
	}
	return vendors.Meta{EventKey: p.EventKey(), EventType: p.CategoryName()}, nil
}

func allowedSource(prefixes []netip.Prefix, addr netip.Addr) bool {
	if !addr.IsValid() {
		return false
	}
	addr = addr.Unmap()
	for _, p := range prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Decode decodes a push; see the package function Decode.
func (*Vendor) Decode(body []byte) (*vendors.Event, error) { return Decode(body) }

// reply is Fenbeitong's answer: {"code":0,"msg":"success","data":null} when accepted.
type reply struct {
	Code int    `json:"code"`
	Data any    `json:"data"`
	Msg  string `json:"msg"`
}

// Reply answers code 0 and "success" when the push was taken, else the HTTP status and the reason.
func (*Vendor) Reply(status int, msg string) any {
	if status == http.StatusOK {
		return reply{Msg: "success"}
	}
	return reply{Code: status, Msg: msg}
}

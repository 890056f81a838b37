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
	// tokens are the SHA-256 digests of the accepted tokens, newest first.
	tokens  [][sha256.Size]byte
	allowed []netip.Prefix
}

// TokenVariant is the Auth.Variant of an accepted push: the token in the URL.
const TokenVariant = "token"

// New returns the Fenbeitong vendor. Any of tokens is accepted (newest
// first, so a token can be rotated with both in place); empty entries are
// ignored, and with none every push is refused. A non-empty allow-list
// refuses pushes from other addresses.
func New(tokens []string, allowed []netip.Prefix) *Vendor {
	v := &Vendor{allowed: allowed}
	for _, t := range tokens {
		if t != "" {
			v.tokens = append(v.tokens, sha256.Sum256([]byte(t)))
		}
	}
	return v
}

// Name is "fenbeitong".
func (*Vendor) Name() string { return vendors.Fenbeitong }

// Accept checks the token and the source, then runs ParsePush's edge checks;
// the key is the derived event key, and Meta.Auth names the position of the
// token that matched.
func (v *Vendor) Accept(req *vendors.Request) (vendors.Meta, error) {
	if len(v.tokens) == 0 {
		return vendors.Meta{}, fmt.Errorf("Fenbeitong pushes are refused: no token is configured: %w", vendors.ErrUnauthorized)
	}
	token := req.Query.Get("token")
	if token == "" {
		return vendors.Meta{}, fmt.Errorf("missing token query parameter: %w", vendors.ErrUnauthorized)
	}
	pos, ok := v.match(token)
	if !ok {
		return vendors.Meta{}, fmt.Errorf("token query parameter does not match: %w", vendors.ErrUnauthorized)
	}
	if len(v.allowed) > 0 && !allowedSource(v.allowed, req.Source) {
		return vendors.Meta{}, fmt.Errorf("source address is not in FENBEITONG_ALLOWED_IPS: %w", vendors.ErrForbidden)
	}
	p, err := ParsePush(req.Body)
	if err != nil {
		return vendors.Meta{}, err
	}
	return vendors.Meta{EventKey: p.EventKey(), EventType: p.CategoryName(),
		Auth: vendors.Auth{Secret: pos, Variant: TokenVariant}}, nil
}

// match compares fixed-length digests, so the time taken says nothing of a
// token's length, and compares with every configured token, so it says
// nothing of which one matched either.
func (v *Vendor) match(token string) (int, bool) {
	got := sha256.Sum256([]byte(token))
	pos := -1
	for i, want := range v.tokens {
		if subtle.ConstantTimeCompare(got[:], want[:]) == 1 && pos < 0 {
			pos = i
		}
	}
	return pos, pos >= 0
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

package fenbeitong

import (
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/vendors"
)

func push(token string) *vendors.Request {
	q := url.Values{}
	if token != "" {
		q.Set("token", token)
	}
	return &vendors.Request{Query: q, Source: netip.MustParseAddr("203.0.113.7"),
		Body: SampleBody("FBT-V-1", 700, "2026-01-05 09:30:00")}
}

// During a rotation both tokens are accepted and the position of the one
// that matched is reported; anything else is refused, whatever its length.
func TestAcceptTokenList(t *testing.T) {
	v := New([]string{"new-token-0123456789", "", "old"}, nil)
	for _, c := range []struct {
		token string
		pos   int
	}{{"new-token-0123456789", 0}, {"old", 1}} {
		meta, err := v.Accept(push(c.token))
		if err != nil {
			t.Fatalf("token %q: %v", c.token, err)
		}
		if meta.Auth != (vendors.Auth{Secret: c.pos, Variant: TokenVariant}) || meta.EventKey == "" {
			t.Fatalf("token %q: meta %+v, want position %d", c.token, meta, c.pos)
		}
	}
	for _, bad := range []string{
		"third-token", "new-token-012345678", "new-token-0123456789x", "ol", "old ", "OLD",
		"new-token-0123456789,old", strings.Repeat("x", 4096),
	} {
		meta, err := v.Accept(push(bad))
		if !errors.Is(err, vendors.ErrUnauthorized) || !strings.Contains(err.Error(), "token query parameter does not match") {
			t.Fatalf("token %q: %v", bad, err)
		}
		if meta != (vendors.Meta{}) {
			t.Fatalf("token %q: meta %+v returned for a refusal", bad, meta)
		}
	}
	if _, err := v.Accept(push("")); !errors.Is(err, vendors.ErrUnauthorized) || !strings.Contains(err.Error(), "missing token") {
		t.Fatalf("no token: %v", err)
	}
	for _, none := range [][]string{nil, {""}, {"", ""}} {
		if _, err := New(none, nil).Accept(push("")); !errors.Is(err, vendors.ErrUnauthorized) || !strings.Contains(err.Error(), "no token is configured") {
			t.Fatalf("tokens %q: %v", none, err)
		}
		// An empty entry never matches an empty or absent token.
		if _, err := New(none, nil).Accept(push("x")); !errors.Is(err, vendors.ErrUnauthorized) {
			t.Fatalf("tokens %q: %v", none, err)
		}
	}
}

// The vendor keeps only fixed-length digests of its tokens: the compare's
// work does not depend on a token's length.
func TestTokensKeptAsFixedLengthDigests(t *testing.T) {
	v := New([]string{"a", strings.Repeat("b", 300)}, nil)
	if len(v.tokens) != 2 {
		t.Fatalf("%d digests kept, want 2", len(v.tokens))
	}
	for i, d := range v.tokens {
		if len(d) != 32 {
			t.Fatalf("digest %d is %d bytes", i, len(d))
		}
	}
	if pos, ok := v.match(strings.Repeat("b", 300)); !ok || pos != 1 {
		t.Fatalf("match = %d %v", pos, ok)
	}
}

// The allow-list applies to every token of the list.
func TestAcceptTokenListWithAllowList(t *testing.T) {
	v := New([]string{"new", "old"}, []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")})
	req := push("old")
	if _, err := v.Accept(req); !errors.Is(err, vendors.ErrForbidden) {
		t.Fatalf("outside the allow-list: %v", err)
	}
	req.Source = netip.MustParseAddr("198.51.100.9")
	if meta, err := v.Accept(req); err != nil || meta.Auth.Secret != 1 {
		t.Fatalf("inside the allow-list: %+v %v", meta, err)
	}
}

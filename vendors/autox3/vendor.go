package autox3

import (
	"fmt"
	"net/http"

	"github.com/erpbridge/erpbridge/vendors"
)

// Vendor is AutoX3: callbacks signed with the shop's app secret.
type Vendor struct {
	secrets []string
}

// New returns the AutoX3 vendor. appSecrets are tried in order, newest
// first, so a secret can be rotated with both in place; empty entries are
// ignored, and with none every callback is refused.
func New(appSecrets ...string) *Vendor {
	v := &Vendor{}
	for _, s := range appSecrets {
		if s != "" {
			v.secrets = append(v.secrets, s)
		}
	}
	return v
}

// Name is "autox3".
func (*Vendor) Name() string { return vendors.AutoX3 }

// Accept parses the envelope and verifies its signature; the key is msgId.
// An unauthenticated msgId or msgType is attacker-chosen, so none is
// returned before the signature holds. Meta.Auth names the signature
// variant (see Variants) and the position of the secret that verified.
func (v *Vendor) Accept(req *vendors.Request) (vendors.Meta, error) {
	if len(v.secrets) == 0 {
		return vendors.Meta{}, fmt.Errorf("AutoX3 callbacks are refused: no app secret is configured: %w", vendors.ErrUnauthorized)
	}
	env, err := ParseEnvelope(req.Body)
	if err != nil {
		return vendors.Meta{}, err
	}
	m, err := env.Verify(v.secrets...)
	if err != nil {
		return vendors.Meta{}, err
	}
	return vendors.Meta{EventKey: env.MsgID, EventType: env.MsgType,
		Auth: vendors.Auth{Secret: m.Secret, Variant: m.Variant}}, nil
}

// Decode decodes a callback; see the package function Decode.
func (*Vendor) Decode(body []byte) (*vendors.Event, error) { return Decode(body) }

// reply is AutoX3's answer: HTTP 200 with {"data":null,"errorInfo":"","status":0}
// stops its redelivery.
type reply struct {
	Data      any    `json:"data"`
	ErrorInfo string `json:"errorInfo"`
	Status    int    `json:"status"`
}

// Reply answers status 0 when the callback was taken, else the HTTP status.
func (*Vendor) Reply(status int, msg string) any {
	if status == http.StatusOK {
		return reply{ErrorInfo: msg}
	}
	return reply{ErrorInfo: msg, Status: status}
}

package codec

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

// Resolver returns the stored callback a claim check names, as JSON (ok is
// false when there is none).
type Resolver func(ctx context.Context, claimCheck string) (body json.RawMessage, ok bool, err error)

// resolveTimeout bounds one claim check's look-up.
const resolveTimeout = 5 * time.Second

// claimChecks decodes with the inner codec, then resolves claim checks: a
// JSON payload holding a "ClaimCheck" gets the stored callback beside it as
// "Callback", as the vendor sent it, so an operator reads the order in the
// Web UI while the history holds only the reference.
type claimChecks struct {
	converter.PayloadCodec
	resolve Resolver
}

func (c claimChecks) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out, err := c.PayloadCodec.Decode(payloads)
	if err != nil || c.resolve == nil {
		return out, err
	}
	for i, p := range out {
		if enc := string(p.GetMetadata()[converter.MetadataEncoding]); enc != converter.MetadataEncodingJSON {
			continue
		}
		var fields map[string]json.RawMessage
		if json.Unmarshal(p.GetData(), &fields) != nil {
			continue
		}
		var ref string
		if json.Unmarshal(fields["ClaimCheck"], &ref) != nil || ref == "" {
			continue
		}
		fields["Callback"] = c.lookup(ref)
		var data bytes.Buffer
		enc := json.NewEncoder(&data)
		enc.SetEscapeHTML(false) // show <, > and & as the vendor sent them
		if enc.Encode(fields) != nil {
			continue
		}
		out[i] = &commonpb.Payload{Metadata: p.GetMetadata(), Data: bytes.TrimSuffix(data.Bytes(), []byte("\n"))}
	}
	return out, nil
}

// lookup is the stored callback, or a JSON string saying why it cannot be shown.
func (c claimChecks) lookup(ref string) json.RawMessage {
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	body, ok, err := c.resolve(ctx, ref)
	var why string
	switch {
	case err != nil:
		why = "the stored callback could not be read now"
	case !ok:
		why = "no stored callback (removed after retention?)"
	case json.Valid(body):
		return body
	default:
		b, _ := json.Marshal(string(body))
		return b
	}
	b, _ := json.Marshal(why)
	return b
}

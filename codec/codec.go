// Package codec encrypts Temporal payloads at rest and serves Temporal's remote
// codec protocol so operators can read decoded payloads in the Temporal Web UI.
//
// Every payload is serialised as a whole (data and metadata) and sealed with
// AES-256-GCM under the keyring's active key. The key id travels in clear in
// the payload metadata and is bound to the ciphertext as additional data, so
// old keys can be kept for decryption while a new key takes over.
package codec

import (
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

const (
	// MetadataEncoding is the payload metadata key naming the payload's encoding.
	MetadataEncoding = converter.MetadataEncoding
	// MetadataKeyID is the payload metadata key holding the id of the key that
	// encrypted the payload.
	MetadataKeyID = "encryption-key-id"
	// EncodingEncrypted is the encoding of payloads produced by this codec.
	EncodingEncrypted = "binary/encrypted"
)

// errNoKeyring reports a codec built from a nil or zero Keyring.
var errNoKeyring = errors.New("payload codec has no keys: build the Keyring with ParseKeyring")

// nonceSize is the GCM standard nonce length, prepended to each ciphertext.
const nonceSize = 12

// payloadCodec implements converter.PayloadCodec with a Keyring.
type payloadCodec struct {
	keys *Keyring
}

// NewCodec returns a PayloadCodec that encrypts with the keyring's active key
// and decrypts with any key of the keyring. Payloads not encoded as
// binary/encrypted pass through Decode unchanged.
func NewCodec(k *Keyring) converter.PayloadCodec {
	return &payloadCodec{keys: k}
}

// DataConverter returns Temporal's default data converter with every payload
// encrypted by NewCodec(k). Use it for clients and workers alike.
func DataConverter(k *Keyring) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), NewCodec(k))
}

// Encode implements converter.PayloadCodec.
func (c *payloadCodec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	if c.keys == nil {
		return payloads, errNoKeyring
	}
	id := c.keys.activeID
	aead, ok := c.keys.aeads[id]
	if !ok {
		return payloads, errNoKeyring
	}
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return payloads, fmt.Errorf("encode payload %d: marshal: %w", i, err)
		}
		sealed, err := seal(aead, plain, []byte(id))
		if err != nil {
			return payloads, fmt.Errorf("encode payload %d: %w", i, err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				MetadataEncoding: []byte(EncodingEncrypted),
				MetadataKeyID:    []byte(id),
			},
			Data: sealed,
		}
	}
	return out, nil
}

// Decode implements converter.PayloadCodec.
func (c *payloadCodec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if p == nil || string(p.GetMetadata()[MetadataEncoding]) != EncodingEncrypted {
			out[i] = p
			continue
		}
		id, ok := p.GetMetadata()[MetadataKeyID]
		if !ok {
			return payloads, fmt.Errorf("decode payload %d: encrypted payload has no %s metadata", i, MetadataKeyID)
		}
		if c.keys == nil {
			return payloads, errNoKeyring
		}
		aead, ok := c.keys.aeads[string(id)]
		if !ok {
			return payloads, fmt.Errorf("decode payload %d: unknown encryption key id %q: add that key to PAYLOAD_OLD_KEYS", i, id)
		}
		plain, err := open(aead, p.GetData(), id)
		if err != nil {
			return payloads, fmt.Errorf("decode payload %d with key %s: %w", i, id, err)
		}
		decoded := &commonpb.Payload{}
		if err := proto.Unmarshal(plain, decoded); err != nil {
			return payloads, fmt.Errorf("decode payload %d: unmarshal: %w", i, err)
		}
		out[i] = decoded
	}
	return out, nil
}

// seal encrypts plain under a fresh random nonce and returns nonce||ciphertext.
func seal(aead cipher.AEAD, plain, additional []byte) ([]byte, error) {
	buf := make([]byte, nonceSize, nonceSize+len(plain)+aead.Overhead())
	if _, err := rand.Read(buf); err != nil {
		return nil, fmt.Errorf("generate nonce: %w", err)
	}
	return aead.Seal(buf, buf[:nonceSize], plain, additional), nil
}

// open reverses seal, failing when the nonce, ciphertext or additional data
// were altered.
func open(aead cipher.AEAD, sealed, additional []byte) ([]byte, error) {
	if len(sealed) < nonceSize+aead.Overhead() {
		return nil, fmt.Errorf("ciphertext too short (%d bytes)", len(sealed))
	}
	plain, err := aead.Open(nil, sealed[:nonceSize], sealed[nonceSize:], additional)
	if err != nil {
		return nil, fmt.Errorf("authentication failed: payload was altered or encrypted with another key")
	}
	return plain, nil
}

package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length in bytes of a payload key (AES-256).
const KeySize = 32

// Keyring holds the active payload key, which encrypts and decrypts, and older
// keys kept for rotation, which only decrypt. Keys are identified by KeyID of
// their bytes. A Keyring is immutable and safe for concurrent use.
type Keyring struct {
	activeID string
	ids      []string // active first, then old keys in the order given
	aeads    map[string]cipher.AEAD
}

// ParseKeyring builds a Keyring from the active key and a comma-separated list
// of old keys, each the base64 (standard or URL alphabet, padded or not) of
// exactly 32 bytes. Empty entries in old are ignored. Errors name the setting
// (PAYLOAD_KEY, PAYLOAD_OLD_KEYS) and never include key material.
func ParseKeyring(active string, old string) (*Keyring, error) {
	key, err := decodeKey(active)
	if err != nil {
		return nil, fmt.Errorf("PAYLOAD_KEY %w", err)
	}
	k := &Keyring{aeads: make(map[string]cipher.AEAD)}
	if k.activeID, err = k.add(key); err != nil {
		return nil, fmt.Errorf("PAYLOAD_KEY: %w", err)
	}
	for i, entry := range strings.Split(old, ",") {
		if strings.TrimSpace(entry) == "" {
			continue
		}
		key, err := decodeKey(entry)
		if err != nil {
			return nil, fmt.Errorf("PAYLOAD_OLD_KEYS entry %d %w", i+1, err)
		}
		if _, err := k.add(key); err != nil {
			return nil, fmt.Errorf("PAYLOAD_OLD_KEYS entry %d: %w", i+1, err)
		}
	}
	return k, nil
}

// ActiveKeyID returns the id of the key that encrypts new payloads.
func (k *Keyring) ActiveKeyID() string {
	return k.activeID
}

// KeyIDs returns the ids of all keys that can decrypt, the active one first.
func (k *Keyring) KeyIDs() []string {
	return append([]string(nil), k.ids...)
}

// add registers key and returns its id; a key given twice is kept once.
func (k *Keyring) add(key []byte) (string, error) {
	id := KeyID(key)
	if _, ok := k.aeads[id]; ok {
		return id, nil
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", fmt.Errorf("create AES cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return "", fmt.Errorf("create GCM: %w", err)
	}
	k.aeads[id] = aead
	k.ids = append(k.ids, id)
	return id, nil
}

// KeyID returns the id of a key: the first 16 hex characters of the SHA-256
// of its bytes. It identifies a key without revealing it.
func KeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:8])
}

// decodeKey decodes a base64 key in any of the four common forms and checks
// its length. The error starts with a verb so callers can prefix the setting.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("is empty: must be base64 of %d bytes", KeySize)
	}
	var key []byte
	var ok bool
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		if b, err := enc.DecodeString(s); err == nil {
			key, ok = b, true
			break
		}
	}
	if !ok {
		return nil, fmt.Errorf("must be base64 of %d bytes, got text that is not valid base64", KeySize)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("must be base64 of %d bytes, got %d bytes", KeySize, len(key))
	}
	return key, nil
}

// LoadOrCreateKeyFile returns the base64 payload key stored at path. When the
// file does not exist it generates a random 32-byte key, writes it base64 to
// path with mode 0600 (creating parent directories with mode 0700) and returns
// it. It is meant for local development, where no key is configured.
func LoadOrCreateKeyFile(path string) (string, error) {
	if key, err := readKeyFile(path); !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("create directory for key file %s: %w", path, err)
	}
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("generate payload key: %w", err)
	}
	key := base64.StdEncoding.EncodeToString(raw)

	// O_EXCL: if another process created the file meanwhile, use its key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readKeyFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("create key file %s: %w", path, err)
	}
	_, werr := f.WriteString(key + "\n")
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(path)
		return "", fmt.Errorf("write key file %s: %w", path, err)
	}
	return key, nil
}

// readKeyFile reads and validates a key file; a missing file yields an error
// matching fs.ErrNotExist.
func readKeyFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read key file %s: %w", path, err)
	}
	key := strings.TrimSpace(string(b))
	if _, err := decodeKey(key); err != nil {
		return "", fmt.Errorf("key file %s %w", path, err)
	}
	return key, nil
}

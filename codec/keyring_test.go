package codec

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// newRawKey returns a random 32-byte key and its standard base64 form.
func newRawKey(t testing.TB) ([]byte, string) {
	t.Helper()
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	return raw, base64.StdEncoding.EncodeToString(raw)
}

// mustKeyring parses a keyring or fails the test.
func mustKeyring(t testing.TB, active, old string) *Keyring {
	t.Helper()
	k, err := ParseKeyring(active, old)
	if err != nil {
		t.Fatalf("ParseKeyring: %v", err)
	}
	return k
}

func TestParseKeyringAcceptsAllBase64Forms(t *testing.T) {
	raw, _ := newRawKey(t)
	sum := sha256.Sum256(raw)
	wantID := hex.EncodeToString(sum[:])[:16]

	forms := map[string]string{
		"std padded":   base64.StdEncoding.EncodeToString(raw),
		"std raw":      base64.RawStdEncoding.EncodeToString(raw),
		"url padded":   base64.URLEncoding.EncodeToString(raw),
		"url raw":      base64.RawURLEncoding.EncodeToString(raw),
		"with newline": base64.StdEncoding.EncodeToString(raw) + "\n",
	}
	for name, s := range forms {
		t.Run(name, func(t *testing.T) {
			k := mustKeyring(t, s, "")
			if got := k.ActiveKeyID(); got != wantID {
				t.Fatalf("ActiveKeyID = %q, want %q", got, wantID)
			}
		})
	}
	if got := KeyID(raw); got != wantID {
		t.Fatalf("KeyID = %q, want %q", got, wantID)
	}
}

func TestParseKeyringOldKeys(t *testing.T) {
	rawA, a := newRawKey(t)
	rawB, b := newRawKey(t)
	rawC, c := newRawKey(t)

	k := mustKeyring(t, a, " "+b+" ,, "+c+","+a+",")
	want := []string{KeyID(rawA), KeyID(rawB), KeyID(rawC)}
	got := k.KeyIDs()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("KeyIDs = %v, want %v", got, want)
	}
	if k.ActiveKeyID() != KeyID(rawA) {
		t.Fatalf("active key id = %s, want %s", k.ActiveKeyID(), KeyID(rawA))
	}
}

func TestParseKeyringErrorsDoNotEchoKeys(t *testing.T) {
	_, good := newRawKey(t)
	short := base64.StdEncoding.EncodeToString([]byte("sixteen-byte-key"))
	long := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("k"), 48))
	notBase64 := "supersecret!!material??not*base64"

	cases := []struct {
		name, active, old string
		wantMsg           string
		secret            string
	}{
		{"empty active", "", "", "PAYLOAD_KEY is empty", ""},
		{"bad base64 active", notBase64, "", "PAYLOAD_KEY must be base64 of 32 bytes, got text that is not valid base64", notBase64},
		{"short active", short, "", "PAYLOAD_KEY must be base64 of 32 bytes, got 16 bytes", short},
		{"long active", long, "", "PAYLOAD_KEY must be base64 of 32 bytes, got 48 bytes", long},
		{"bad old", good, good + "," + notBase64, "PAYLOAD_OLD_KEYS entry 2 must be base64 of 32 bytes, got text that is not valid base64", notBase64},
		{"short old", good, short, "PAYLOAD_OLD_KEYS entry 1 must be base64 of 32 bytes, got 16 bytes", short},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParseKeyring(tc.active, tc.old)
			if err == nil {
				t.Fatalf("ParseKeyring succeeded with key id %s, want error", k.ActiveKeyID())
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.wantMsg) {
				t.Fatalf("error %q does not contain %q", msg, tc.wantMsg)
			}
			if strings.Contains(msg, good) || (tc.secret != "" && strings.Contains(msg, tc.secret)) {
				t.Fatalf("error %q echoes key material", msg)
			}
			if strings.Contains(msg, "supersecret") || strings.Contains(msg, "c2l4dGVlbi") {
				t.Fatalf("error %q echoes part of the key", msg)
			}
		})
	}
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "dir", "payload.key")

	first, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	k := mustKeyring(t, first, "")
	if len(k.ActiveKeyID()) != 16 {
		t.Fatalf("key id %q is not 16 characters", k.ActiveKeyID())
	}

	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		if mode := info.Mode().Perm(); mode != 0o600 {
			t.Fatalf("key file mode = %o, want 600", mode)
		}
	}
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(content)) != first {
		t.Fatalf("file holds a different key than returned")
	}

	second, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if second != first {
		t.Fatal("second call returned a different key")
	}

	other, err := LoadOrCreateKeyFile(filepath.Join(t.TempDir(), "other.key"))
	if err != nil {
		t.Fatal(err)
	}
	if other == first {
		t.Fatal("two generated keys are equal")
	}
}

func TestLoadOrCreateKeyFileRejectsBadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "payload.key")
	bad := base64.StdEncoding.EncodeToString([]byte("too-short-secret"))
	if err := os.WriteFile(path, []byte(bad+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadOrCreateKeyFile(path)
	if err == nil {
		t.Fatal("want error for a 16-byte key file")
	}
	if !strings.Contains(err.Error(), "got 16 bytes") || strings.Contains(err.Error(), bad) {
		t.Fatalf("unexpected error %q", err)
	}
	content, _ := os.ReadFile(path)
	if strings.TrimSpace(string(content)) != bad {
		t.Fatal("a bad key file must be left alone, not overwritten")
	}
}

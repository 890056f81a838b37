package reason

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestOneLine(t *testing.T) {
	t.Parallel()
	if got := OneLine(" a\r\nforged: line\t\x00b  c "); got != "a forged: line b c" {
		t.Fatalf("OneLine = %q", got)
	}
}

func TestClip(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"abcdefghijk", 4, "abcd…"},
		{"客户不存在", 4, "客…"}, // 3 bytes a character: the cut backs off to a boundary
		{"客户", 2, "…"},
	} {
		if got := Clip(c.in, c.n); got != c.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"https://erp.example.com/api", "https://erp.example.com/api"},
		{"http://u:hunter2@127.0.0.1:8090", "http://u:xxxxx@127.0.0.1:8090"},
		{"https://user:hunter2@", "https://user:xxxxx@"},
		{"https://admin@h/K3Cloud/", "https://admin@h/K3Cloud/"},
		{"http://u:hunter2@h\n/x", "***@h\n/x"}, // a control character: url.Parse refuses it
		{"://x", "://x"},
	} {
		if got := RedactURL(c.in); got != c.want {
			t.Errorf("RedactURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestURLError(t *testing.T) {
	_, err := url.Parse("http://u:s3cret@h:port/")
	if got := URLError(err); strings.Contains(got, "s3cret") || got == "" {
		t.Errorf("URLError = %q", got)
	}
	if got := URLError(errors.New("x")); got != "unparsable" {
		t.Errorf("URLError of another error = %q", got)
	}
}

// Tail keeps whole lines of the last 12 bytes here.
func TestTail(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"one\ntwo\n":                  "one\ntwo",
		"first line\nsecond\nthird\n": "third",
		"abcdefghijklmnop":            "efghijklmnop",
		"":                            "(no output)",
		" \n\t\n":                     "(no output)",
	} {
		if got := Tail([]byte(in), 12); got != want {
			t.Errorf("Tail(%q, 12) = %q, want %q", in, got, want)
		}
	}
}

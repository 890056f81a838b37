package reason

import "testing"

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

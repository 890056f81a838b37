package mapping

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFindName(t *testing.T) {
	t.Parallel()
	cases := []struct {
		prog, name string
		at         int // -1: not found
	}{
		{`env`, "env", 0},
		{`.env`, "env", -1},
		{`{env: 1}`, "env", -1},
		{`{env: env}`, "env", 6},
		{`"env" | env`, "env", 8},
		{`"a \(env) b"`, "env", 5},
		{`"a \("(" + "env") b" | env`, "env", 23},
		{`"\("\(env)")"`, "env", 6},
		{"# env\nenv", "env", 6},
		{`@env`, "env", -1},
		{`environ | env`, "env", 10},
		{`$ENV`, "$ENV", 0},
		{`$ENVX | $ENV`, "$ENV", 8},
		{`lib::env`, "env", -1},
		{`1e3 | env`, "env", 6},
		{`def f: f; f`, "f", 7},
	}
	for _, c := range cases {
		at, ok := findName(c.prog, c.name)
		if c.at < 0 {
			assert.False(t, ok, c.prog)
			continue
		}
		assert.True(t, ok, c.prog)
		assert.Equal(t, c.at, at, c.prog)
	}
}

func TestHasCode(t *testing.T) {
	t.Parallel()
	for _, p := range []string{".", "{}", `"x"`, "1", "# c\n.", "\n\n  empty"} {
		assert.True(t, hasCode(p), p)
	}
	for _, p := range []string{"", "  \n\t", "# only a comment", "# one\n  # two\n"} {
		assert.False(t, hasCode(p), p)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		`expected an object but got: string ("张三")`:                                               `expected an object but got: string ("…")`,
		`cannot add: string ("a\"b") and number (1)`:                                              `cannot add: string ("…") and number (1)`,
		`cannot add: number (18210376179) and number (14.1)`:                                      `cannot add: number (…) and number (…)`,
		`cannot iterate over: object ({"name":"张三","phone":"1821 ...})`:                           `cannot iterate over: object ({"…":"…","…":…`,
		`cannot add: object ({"a":"xxxxxxxxxxxxxxxxxxxxxx ...}) and string ("yy")`:                `cannot add: object ({"…":…`,
		`fromjson cannot be applied to "x": invalid character 'x' looking for beginning of value`: `fromjson cannot be applied to "…": invalid character '…' looking for beginning of value`,
		`array index too large: 100000000000`:                                                     `array index too large: …`,
		`expected an array of 8 numbers; utf8 and f/12 stay`:                                      `expected an array of 8 numbers; utf8 and f/12 stay`,
		`it can't be "x`:    `it can't be …`,
		`the plain message`: `the plain message`,
	}
	for in, want := range cases {
		assert.Equal(t, want, redact(in), in)
	}
}

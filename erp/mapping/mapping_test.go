package mapping

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// file is a Tryton mapping file with one program for car_order.
func file(prog string) string {
	return "erp: tryton\nkinds:\n  car_order: |\n" + indent(prog) + "\n"
}

func indent(prog string) string {
	lines := strings.Split(prog, "\n")
	for i, l := range lines {
		lines[i] = "    " + l
	}
	return strings.Join(lines, "\n")
}

// compile parses a Tryton file with prog as car_order's program.
func compile(t *testing.T, prog string) *Set {
	t.Helper()
	s, err := Parse(erp.KindTryton, "test.yaml", []byte(file(prog)))
	require.NoError(t, err)
	return s
}

// record is a car order with the given data.
func record(data string) erp.Record {
	return erp.Record{
		Source:     "fenbeitong",
		Kind:       "car_order",
		ExternalID: "6612c0ffee0000000000a611",
		Version:    81714527600000,
		OccurredAt: time.Date(2024, 5, 1, 9, 40, 0, 0, time.FixedZone("CST", 8*3600)),
		Data:       json.RawMessage(data),
	}
}

// render runs prog on a car order with data and returns the document.
func render(t *testing.T, prog, data string) (string, error) {
	t.Helper()
	out, err := compile(t, prog).Render(context.Background(), record(data))
	return string(out), err
}

// mustRender is render that fails the test on an error.
func mustRender(t *testing.T, prog, data string) string {
	t.Helper()
	out, err := render(t, prog, data)
	require.NoError(t, err)
	return out
}

func TestParseRefusesBadFiles(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, erp, src, want string
	}{
		{"empty file", "tryton", "", "mapping m.yaml: the file is empty"},
		{"not YAML", "tryton", "erp: [tryton\n", "mapping m.yaml: yaml: line"},
		{"not a mapping", "tryton", "- erp\n", "mapping m.yaml: line 1: the file must be a YAML mapping"},
		{"two documents", "tryton", file(".") + "---\nerp: tryton\n", "line 5: a second YAML document"},
		{"no erp", "tryton", "kinds:\n  car_order: .\n", "mapping m.yaml: erp: missing"},
		{"other erp", "kingdee", file("."), "mapping m.yaml: line 1: erp: the file is for tryton, not kingdee"},
		{"unknown erp", "tryton", "erp: odoo\nkinds:\n  a: .\n", `line 1: erp: "odoo" is not an ERP with mappings`},
		{"erp list", "tryton", "erp: [tryton]\nkinds:\n  a: .\n", "line 1: erp: must be kingdee or tryton"},
		{"erp kind without mappings", "http", file("."), `mapping m.yaml: ERP kind "http" has no mappings`},
		{"no kinds", "tryton", "erp: tryton\n", "mapping m.yaml: kinds: missing"},
		{"empty kinds", "tryton", "erp: tryton\nkinds: {}\n", "mapping m.yaml: line 2: kinds: no kinds"},
		{"kinds a list", "tryton", "erp: tryton\nkinds:\n  - .\n", "line 3: kinds: must map each record kind"},
		{"typo key", "tryton", "erp: tryton\nkinds_:\n  car_order: .\n", `mapping m.yaml: line 2: unknown key "kinds_"`},
		{"erp twice", "tryton", "erp: tryton\nerp: tryton\nkinds:\n  a: .\n", "line 2: erp: given twice"},
		{"null program", "tryton", "erp: tryton\nkinds:\n  car_order:\n", "mapping m.yaml: kind car_order: line 3: the program is empty"},
		{"blank program", "tryton", "erp: tryton\nkinds:\n  car_order: \"  \"\n", "kind car_order: line 3: the program is empty"},
		{"comment-only program", "tryton", file("# nothing yet"), "kind car_order: line 3: the program is empty"},
		{"program a mapping", "tryton", "erp: tryton\nkinds:\n  car_order:\n    a: b\n", "kind car_order: line 4: the program must be text"},
		{"kind twice", "tryton", "erp: tryton\nkinds:\n  a: .\n  a: .\n", "kind a: line 4: given twice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.erp, "m.yaml", []byte(c.src))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestParseNamesFileKindAndPositionOfASyntaxError(t *testing.T) {
	t.Parallel()
	src := "# a mapping\nerp: tryton\nkinds:\n  reception_order: .\n  car_order: |\n    {\n      a: .data,\n      b: (.x | )\n    }\n"
	_, err := Parse(erp.KindTryton, "defaults/tryton.yaml", []byte(src))
	require.Error(t, err)
	assert.Equal(t, `mapping defaults/tryton.yaml: kind car_order: line 8, column 16: unexpected token ")"`, err.Error())

	// A one-line program: the position is on the key's line, after the key.
	_, err = Parse(erp.KindTryton, "m.yaml", []byte("erp: tryton\nkinds:\n  car_order: '{a: }'\n"))
	require.Error(t, err)
	assert.Equal(t, `mapping m.yaml: kind car_order: line 3, column 19: unexpected token "}"`, err.Error())

	// A folded block does not map onto the file line by line.
	_, err = Parse(erp.KindTryton, "m.yaml", []byte("erp: tryton\nkinds:\n  car_order: >\n    {a:\n\n    }\n"))
	require.Error(t, err)
	assert.Equal(t, `mapping m.yaml: kind car_order: program line 2, column 1: unexpected token "}"`, err.Error())

	_, err = Parse(erp.KindTryton, "m.yaml", []byte(file("{a: 1")))
	require.Error(t, err)
	assert.Equal(t, `mapping m.yaml: kind car_order: line 4, column 10: unexpected EOF`, err.Error())
}

func TestParseRefusesWhatProgramsMustNotUse(t *testing.T) {
	t.Parallel()
	cases := []struct{ prog, name, pos string }{
		{"{a: env.HOME}", "env", "line 4, column 9"},
		{"{a: 1}\n| .b = $ENV.PATH", "$ENV", "line 5, column 12"},
		{"{a: $ENV}", "$ENV", "line 4, column 9"},
		{"{$ENV}", "$ENV", "line 4, column 6"},
		{"{a: input}", "input", "line 4, column 9"},
		{"[inputs]", "inputs", "line 4, column 6"},
		{"{a: input_filename}", "input_filename", "line 4, column 9"},
		{". | debug | {}", "debug", "line 4, column 9"},
		{"debug(\"x\") | {}", "debug", "line 4, column 5"},
		{"stderr | {}", "stderr", "line 4, column 5"},
		{"if .x then halt else {} end", "halt", "line 4, column 16"},
		{"{env: 1} | halt_error", "halt_error", "line 4, column 16"},
		{"{a: \"\\(env)\"}", "env", "line 4, column 12"},
		{"# env in a comment\n{\"env\": .env} | env", "env", "line 5, column 21"},
	}
	for _, c := range cases {
		t.Run(c.prog, func(t *testing.T) {
			_, err := Parse(erp.KindTryton, "m.yaml", []byte(file(c.prog)))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "mapping m.yaml: kind car_order: "+c.pos+": "+c.name+" is not available")
		})
	}

	_, err := Parse(erp.KindTryton, "m.yaml", []byte(file("import \"lib\" as lib;\n{a: lib::f}")))
	require.Error(t, err)
	assert.Equal(t, "mapping m.yaml: kind car_order: line 4, column 5: import is not available: a mapping is one self-contained program", err.Error())
	_, err = Parse(erp.KindTryton, "m.yaml", []byte(file("include \"lib\";\n{}")))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 4, column 5: include is not available")

	// Object keys and fields that share those names are fine.
	s := compile(t, `{env: .env, input: 1, "debug": .data.debug}`)
	out, err := s.Render(context.Background(), record(`{"debug":true}`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"env":null,"input":1,"debug":true}`, string(out))
}

func TestParseNamesAnUndefinedFunctionOrVariable(t *testing.T) {
	t.Parallel()
	_, err := Parse(erp.KindTryton, "m.yaml", []byte(file("{\n  a: .x | dec_ad(1; 2)\n}")))
	require.Error(t, err)
	assert.Equal(t, "mapping m.yaml: kind car_order: line 5, column 15: function not defined: dec_ad/2", err.Error())
	_, err = Parse(erp.KindTryton, "m.yaml", []byte(file("{a: $nope}")))
	require.Error(t, err)
	assert.Equal(t, "mapping m.yaml: kind car_order: line 4, column 9: variable not defined: $nope", err.Error())
}

func TestSetAccessors(t *testing.T) {
	t.Parallel()
	src := "erp: kingdee\nkinds:\n  reception_order: '{}'\n  car_order: '{}'\n"
	s, err := Parse(erp.KindKingdee, "k.yaml", []byte(src))
	require.NoError(t, err)
	assert.Equal(t, "kingdee", s.ERP())
	assert.Equal(t, "k.yaml", s.File())
	assert.Equal(t, []string{"car_order", "reception_order"}, s.Kinds())
	assert.True(t, s.Has("car_order"))
	assert.False(t, s.Has("hotel_order"))
	s.Kinds()[0] = "changed"
	assert.Equal(t, "car_order", s.Kinds()[0], "Kinds returns a copy")

	s, err = Parse(erp.KindKingdee, "k.yaml", []byte(src+"  \"*\": '{any: .kind}'\n"))
	require.NoError(t, err)
	assert.Equal(t, []string{"*", "car_order", "reception_order"}, s.Kinds())
	assert.True(t, s.Has("hotel_order"))
	r := record(`{}`)
	r.Kind = "hotel_order"
	out, err := s.Render(context.Background(), r)
	require.NoError(t, err)
	assert.JSONEq(t, `{"any":"hotel_order"}`, string(out))
}

func TestDefault(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{erp.KindKingdee, erp.KindTryton} {
		s, err := Default(kind)
		require.NoError(t, err, kind)
		assert.Equal(t, kind, s.ERP())
		assert.Equal(t, "defaults/"+kind+".yaml", s.File())
		assert.True(t, s.Has("car_order"), kind)
		assert.True(t, s.Has("reception_order"), kind)
	}
	_, err := Default(erp.KindHTTP)
	assert.EqualError(t, err, `mapping: no default mapping for ERP kind "http" (kingdee | tryton)`)
}

func TestLoad(t *testing.T) {
	t.Parallel()
	s, err := Load(erp.KindKingdee, "")
	require.NoError(t, err)
	assert.Equal(t, "defaults/kingdee.yaml", s.File())

	dir := t.TempDir()
	path := filepath.Join(dir, "mine.yaml")
	require.NoError(t, os.WriteFile(path, []byte(file(`{mine: .number}`)), 0o600))
	s, err = Load(erp.KindTryton, path)
	require.NoError(t, err)
	assert.Equal(t, path, s.File())
	out, err := s.Render(context.Background(), record(`{}`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"mine":"FBT-CAR-6612c0ffee0000000000a611"}`, string(out))

	_, err = Load(erp.KindKingdee, path)
	assert.EqualError(t, err, "mapping "+path+": line 1: erp: the file is for tryton, not kingdee")
	_, err = Load(erp.KindTryton, filepath.Join(dir, "missing.yaml"))
	require.Error(t, err)
	assert.True(t, errors.Is(err, os.ErrNotExist))
	assert.Contains(t, err.Error(), "mapping "+filepath.Join(dir, "missing.yaml"))

	big := filepath.Join(dir, "big.yaml")
	require.NoError(t, os.WriteFile(big, []byte(file("{}")+"#"+strings.Repeat("x", maxFileBytes)), 0o600))
	_, err = Load(erp.KindTryton, big)
	assert.ErrorContains(t, err, "file larger than")
}

func TestRenderInput(t *testing.T) {
	t.Parallel()
	out := mustRender(t, `.`, `{"amount": "14.1", "n": 3}`)
	assert.JSONEq(t, `{
		"source": "fenbeitong",
		"kind": "car_order",
		"external_id": "6612c0ffee0000000000a611",
		"version": 81714527600000,
		"occurred_at": "2024-05-01T09:40:00+08:00",
		"number": "FBT-CAR-6612c0ffee0000000000a611",
		"data": {"amount": "14.1", "n": 3}
	}`, out)

	// occurred_at is what the HTTP contract sends: RFC 3339 with the
	// fraction and the time's own offset.
	r := record(`{}`)
	r.OccurredAt = time.Date(2024, 5, 1, 8, 0, 0, 123000000, time.UTC)
	body, err := r.Encode()
	require.NoError(t, err)
	var sent struct {
		OccurredAt string `json:"occurred_at"`
	}
	require.NoError(t, json.Unmarshal(body, &sent))
	doc, err := compile(t, `{at: .occurred_at}`).Render(context.Background(), r)
	require.NoError(t, err)
	assert.JSONEq(t, `{"at":"`+sent.OccurredAt+`"}`, string(doc))
	assert.Equal(t, "2024-05-01T08:00:00.123Z", sent.OccurredAt)
}

func TestRenderWantsExactlyOneObject(t *testing.T) {
	t.Parallel()
	cases := []struct{ prog, reason string }{
		{"empty", "the program gave no value; it must give one JSON object"},
		{"{a: 1}, {b: 2}", "the program gave more than one value; it must give one JSON object"},
		{"[1]", "the program gave an array, not a JSON object"},
		{`"x"`, "the program gave a string, not a JSON object"},
		{"null", "the program gave null, not a JSON object"},
		{"1", "the program gave a number, not a JSON object"},
	}
	for _, c := range cases {
		_, err := render(t, c.prog, `{}`)
		require.Error(t, err, c.prog)
		assert.Equal(t, "mapping test.yaml: kind car_order: "+c.reason, err.Error(), c.prog)
		var e *Error
		require.True(t, errors.As(err, &e))
	}
}

func TestRenderNoMapping(t *testing.T) {
	t.Parallel()
	s := compile(t, "{}")
	r := record(`{}`)
	r.Kind = "hotel_order"
	_, err := s.Render(context.Background(), r)
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrNoMapping))
	assert.Equal(t, "mapping test.yaml: kind hotel_order: no mapping for this kind", err.Error())
	var e *Error
	require.True(t, errors.As(err, &e))
	assert.Equal(t, "test.yaml", e.File)
	assert.Equal(t, "hotel_order", e.Kind)
}

func TestRenderRefusesAnInvalidRecord(t *testing.T) {
	t.Parallel()
	s := compile(t, "{}")
	r := record(`{}`)
	r.Version = 0
	_, err := s.Render(context.Background(), r)
	assert.EqualError(t, err, "mapping test.yaml: kind car_order: record fenbeitong/car_order/6612c0ffee0000000000a611 v0: version: must be greater than 0")
	r = record(`[1]`)
	_, err = s.Render(context.Background(), r)
	assert.ErrorContains(t, err, "data: must be a JSON object")
}

func TestRenderKeepsRecordContentOutOfError(t *testing.T) {
	t.Parallel()
	const name = "张三"
	data := `{"name": "` + name + `", "phone": "18210376179", "amount": "x12"}`
	cases := []struct{ prog, reason string }{
		// gojq's own message quotes the value.
		{`.data.name | keys`, `the program failed: keys cannot be applied to: string ("…")`},
		{`.data.name + 1`, `the program failed: cannot add: string ("…") and number (1)`},
		{`error(.data.name)`, `the program raised an error with error(...)`},
		{`error({phone: .data.phone})`, `the program raised an error with error(...)`},
		{`{a: (.data.name | decimal)}`, `decimal: text is not a number`},
		{`{a: dec_add(.data.phone; .data.name)}`, `dec_add: text is not a number`},
		{`{a: (.data.name | tonumber)}`, `the program failed: tonumber cannot be applied to "…": invalid number`},
	}
	for _, c := range cases {
		_, err := render(t, c.prog, data)
		require.Error(t, err, c.prog)
		assert.Equal(t, "mapping test.yaml: kind car_order: "+c.reason, err.Error(), c.prog)
		assert.NotContains(t, err.Error(), name)
		assert.NotContains(t, err.Error(), "18210376179")
		var e *Error
		require.True(t, errors.As(err, &e))
		assert.True(t, strings.Contains(e.Detail(), name) || strings.Contains(e.Detail(), "18210376179"), "Detail holds the value: %s", e.Detail())
	}
}

func TestRenderStopsARunawayProgram(t *testing.T) {
	t.Parallel()
	for _, prog := range []string{
		`last(range(infinite)) | {}`,
		`until(false; .) | {}`,
		`def f: f; f`,
		`{a: [limit(3; repeat(1))]} | until(false; .)`,
	} {
		s := compile(t, prog)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		start := time.Now()
		_, err := s.Render(ctx, record(`{}`))
		elapsed := time.Since(start)
		cancel()
		require.Error(t, err, prog)
		assert.True(t, errors.Is(err, context.DeadlineExceeded), "%s: %v", prog, err)
		assert.Contains(t, err.Error(), "mapping test.yaml: kind car_order: the program was stopped: context deadline exceeded")
		assert.Less(t, elapsed, 5*time.Second, prog)
	}

	// Cancelling stops it too.
	s := compile(t, `until(false; .)`)
	ctx, cancel := context.WithCancel(context.Background())
	stop := time.AfterFunc(100*time.Millisecond, cancel)
	defer stop.Stop()
	_, err := s.Render(ctx, record(`{}`))
	assert.True(t, errors.Is(err, context.Canceled), "%v", err)

	// A program that would give values for ever gives more than one.
	_, err = render(t, `repeat({})`, `{}`)
	assert.ErrorContains(t, err, "more than one value")
}

func TestRenderBoundsOutputSize(t *testing.T) {
	t.Parallel()
	_, err := render(t, `{a: ("x" * 3000000), b: ("y" * 3000000)}`, `{}`)
	assert.EqualError(t, err, "mapping test.yaml: kind car_order: output: larger than 4194304 bytes")
}

func TestRenderOutputEncoding(t *testing.T) {
	t.Parallel()
	out := mustRender(t, `{z: 1, a: "<&>\u2028\n\"\\", m: [true, null, {}]}`, `{}`)
	assert.Equal(t, `{"a":"<&>\u2028\n\"\\","m":[true,null,{}],"z":1}`, out)
	// An integral float is an exact integer.
	assert.Equal(t, `{"a":3,"b":-3}`, mustRender(t, `{a: (6 / 2), b: (-2.5 | floor)}`, `{}`))
}

func TestRenderIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	s, err := Default(erp.KindTryton)
	require.NoError(t, err)
	r := record(`{"price_detail_info":[{"name":"a","amount":"0.1","type":"t"}],"price_info":{"total_price":"0.1"}}`)
	want, err := s.Render(context.Background(), r)
	require.NoError(t, err)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			for range 50 {
				got, err := s.Render(context.Background(), r)
				if err == nil && string(got) != string(want) {
					err = errors.New("different output: " + string(got))
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		require.NoError(t, <-errs)
	}
}

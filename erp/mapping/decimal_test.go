package mapping

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exactData holds the numbers of the exactness tests both as JSON numbers
// and as decimal text.
const exactData = `{
	"big": 98765432101234.5678, "big_text": "98765432101234.5678",
	"tiny": 0.000000000000000001, "tiny_text": "0.000000000000000001",
	"neg": -5, "neg_text": "-5",
	"exp": 1e3, "exp_text": "1e3",
	"scale": 14.10, "scale_text": "14.10",
	"huge": 123456789012345678901234567890, "huge_neg": -98765432109876543210,
	"max": 9223372036854775807
}`

func TestDataNumbersSurviveExactly(t *testing.T) {
	t.Parallel()
	// Passed through untouched, every number is written back with its own
	// digits; an exponent is written out.
	out := mustRender(t, `.data`, exactData)
	assert.Equal(t, `{"big":98765432101234.5678,"big_text":"98765432101234.5678",`+
		`"exp":1000,"exp_text":"1e3",`+
		`"huge":123456789012345678901234567890,"huge_neg":-98765432109876543210,`+
		`"max":9223372036854775807,`+
		`"neg":-5,"neg_text":"-5",`+
		`"scale":14.10,"scale_text":"14.10",`+
		`"tiny":0.000000000000000001,"tiny_text":"0.000000000000000001"}`, out)

	// Text through decimal becomes the same bare number; dec_text gives the
	// plain text back.
	out = mustRender(t, `.data | {
		big: (.big_text | decimal), big_t: (.big | dec_text),
		tiny: (.tiny_text | decimal), tiny_t: (.tiny | dec_text),
		neg: (.neg_text | decimal), neg_t: (.neg | dec_text),
		exp: (.exp_text | decimal), exp_t: (.exp | dec_text),
		scale: (.scale_text | decimal), scale_t: (.scale | dec_text),
		huge: (.huge | decimal), huge_t: (.huge | dec_text)
	}`, exactData)
	assert.Equal(t, `{"big":98765432101234.5678,"big_t":"98765432101234.5678",`+
		`"exp":1000,"exp_t":"1000",`+
		`"huge":123456789012345678901234567890,"huge_t":"123456789012345678901234567890",`+
		`"neg":-5,"neg_t":"-5",`+
		`"scale":14.10,"scale_t":"14.10",`+
		`"tiny":0.000000000000000001,"tiny_t":"0.000000000000000001"}`, out)

	// Big integers keep jq's exact integer arithmetic.
	out = mustRender(t, `{a: (.data.huge + 1), b: (.data.huge * 10), c: (.data.max + 1), d: (.data.huge_neg - .data.huge)}`, exactData)
	assert.Equal(t, `{"a":123456789012345678901234567891,"b":1234567890123456789012345678900,`+
		`"c":9223372036854775808,"d":-123456789111111111011111111100}`, out)

	// A decoder that keeps numbers as written reads the same text back.
	dec := json.NewDecoder(bytes.NewReader([]byte(mustRender(t, `{x: (.data.big_text | decimal)}`, exactData))))
	dec.UseNumber()
	var got map[string]any
	require.NoError(t, dec.Decode(&got))
	assert.Equal(t, json.Number("98765432101234.5678"), got["x"])
}

func TestDecimalFunctions(t *testing.T) {
	t.Parallel()
	cases := []struct{ prog, want string }{
		{`["0.1", "0.2"] | dec_sum`, `0.3`},
		{`["98765432101234.5678", "-5", "14.1", "10.12345"] | dec_sum`, `98765432101253.79125`},
		{`[1, null, "2.50"] | dec_sum`, `3.50`},
		{`[] | dec_sum`, `0`},
		{`null | dec_sum`, `null`},
		{`dec_add("0.1"; "0.2")`, `0.3`},
		{`dec_add(1; "0.05")`, `1.05`},
		{`dec_add(null; 1)`, `null`},
		{`dec_sub("14.1"; "14.10")`, `0.00`},
		{`dec_sub("0"; "0.000000000000000001")`, `-0.000000000000000001`},
		{`dec_mul("1.10"; "2.00")`, `2.2000`},
		{`dec_mul("98765432101234.5678"; 1000)`, `98765432101234567.8000`},
		{`dec_mul(123456789012345678901234567890; "0.1")`, `12345678901234567890123456789.0`},
		{`dec_mul("1"; null)`, `null`},
		{`"14.1" | dec_neg`, `-14.1`},
		{`-5 | dec_neg`, `5`},
		{`"-0.50" | dec_abs`, `0.50`},
		{`null | dec_neg`, `null`},
		{`"2.5" | dec_round(0)`, `3`},
		{`"-2.5" | dec_round(0)`, `-3`},
		{`"-5.45" | dec_round(1)`, `-5.5`},
		{`"10.12345" | dec_round(4)`, `10.1235`},
		{`1 | dec_round(2)`, `1.00`},
		{`"545" | dec_round(-1)`, `550`},
		{`null | dec_round(2)`, `null`},
		{`dec_cmp("1.0"; "1.00")`, `0`},
		{`dec_cmp("-5"; "0.000000000000000001")`, `-1`},
		{`dec_cmp("98765432101234.5678"; "98765432101234.5677")`, `1`},
		{`dec_cmp(null; 1)`, `null`},
		{`"1.5e-3" | decimal`, `0.0015`},
		{`decimal("0.06")`, `0.06`},
		{`decimal(null)`, `null`},
		{`"12.30" | decimal | decimal`, `12.30`},
		{`"12.30" | decimal | dec_text`, `"12.30"`},
		{`"-0.00" | dec_text`, `"0.00"`},
		{`null | dec_text`, `null`},
		{`[.data.big, .data.tiny] | dec_sum | dec_text`, `"98765432101234.567800000000000001"`},
		{`"x" + ("7.5" | decimal | dec_text)`, `"x7.5"`},
		{`42 | decimal`, `42`},
		{`4.0 | decimal`, `4`},
	}
	for _, c := range cases {
		out, err := render(t, `{v: (`+c.prog+`)}`, exactData)
		require.NoError(t, err, c.prog)
		assert.Equal(t, `{"v":`+c.want+`}`, out, c.prog)
	}
}

func TestDecimalRefusals(t *testing.T) {
	t.Parallel()
	cases := []struct{ prog, reason string }{
		{`{v: ("12,5" | decimal)}`, "decimal: text is not a number"},
		{`{v: (" 1" | decimal)}`, "decimal: text is not a number"},
		{`{v: (".5" | decimal)}`, "decimal: text is not a number"},
		{`{v: ("1e1234567" | decimal)}`, "decimal: text is not a number"},
		{`{v: ("" | decimal)}`, "decimal: text is not a number"},
		{`{v: ({} | decimal)}`, "decimal: expected a number, decimal text or a decimal value, got object"},
		{`{v: (true | dec_neg)}`, "dec_neg: expected a number, decimal text or a decimal value, got boolean"},
		{`{v: dec_add(0.1; "1")}`, `dec_add: a binary floating-point number with a fraction is not exact; write the number as text, e.g. "0.06", or use decimal on the record's text`},
		{`{v: (1 / 3 | decimal)}`, "decimal: a binary floating-point number with a fraction is not exact"},
		{`{v: ("1" | dec_round(0.5))}`, "dec_round: expected an integer argument, got number"},
		{`{v: ("1" | dec_round(5000))}`, "dec_round: places must lie between -1000 and 1000"},
		{`{v: ({} | dec_sum)}`, "dec_sum: expected an array, got object"},
		{`{v: (["1", "x"] | dec_sum)}`, "dec_sum: text is not a number"},
		{`{v: reduce range(20) as $i ("1.1" | decimal; dec_mul(.; .))}`, "dec_mul: result has more than 1000 digits"},
		// jq's own operators do not apply to decimal values, visibly.
		{`{v: (decimal("1") + decimal("2"))}`, "output: a damaged decimal value (a decimal value was changed as text: + on decimal values joins text, use dec_add)"},
		{`{v: (decimal("1") + decimal("2") | dec_add(.; 1))}`, "dec_add: a damaged decimal value (a decimal value was changed as text: use dec_text to get its text)"},
		{`{v: "total \(.data.scale)"}`, "output: text holds a decimal value (string interpolation, tostring or tojson of a decimal value); use dec_text to make text of it"},
		{`{v: (.data | tojson)}`, "output: text holds a decimal value"},
		{`{(.data.scale): 1}`, "output: an object key holds a decimal value"},
		{`{v: (.data.scale | truncate(3))}`, "truncate: a decimal value is not text; use dec_text first"},
		// A float with a fraction never reaches the output.
		{`{v: 0.5}`, "output: a binary floating-point number that is not an integer is not exact"},
		{`{v: ("14.1" | tonumber)}`, "output: a binary floating-point number that is not an integer is not exact"},
		{`{v: (1e300 * 10)}`, "output: a binary floating-point number that is not an integer is not exact"},
	}
	for _, c := range cases {
		_, err := render(t, c.prog, exactData)
		require.Error(t, err, c.prog)
		assert.Contains(t, err.Error(), "mapping test.yaml: kind car_order: "+c.reason, c.prog)
	}

	// The refused text is named in Detail, not in Error.
	_, err := render(t, `{v: (.data.name | decimal)}`, `{"name": "李四"}`)
	require.Error(t, err)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "mapping test.yaml: kind car_order: decimal: text is not a number", e.Error())
	assert.Equal(t, `mapping test.yaml: kind car_order: decimal: text is not a number: "李四"`, e.Detail())

	// try/catch sees the whole message.
	out := mustRender(t, `{v: (try ("abc" | decimal) catch .)}`, `{}`)
	assert.Equal(t, `{"v":"decimal: text is not a number: \"abc\""}`, out)
}

func TestDataThatHoldsTheDecimalMarkerIsRefused(t *testing.T) {
	t.Parallel()
	for _, data := range []string{
		`{"a": "` + decimalMarker + `12"}`,
		`{"a": ["x", "y` + decimalMarker + `"]}`,
		`{"` + decimalMarker + `": 1}`,
	} {
		_, err := render(t, `{}`, data)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "U+FDEC0, the mapping's decimal marker")
		assert.NotContains(t, err.Error(), decimalMarker)
	}
	_, err := render(t, `{}`, `{"a": 1e`+strings.Repeat("9", 7)+`}`)
	assert.ErrorContains(t, err, "data: a number has more than 1000 digits")
	_, err = render(t, `{}`, `{"a": `+strings.Repeat("9", 1001)+`}`)
	assert.ErrorContains(t, err, "data: an integer has more than 1000 digits")
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	cases := []struct{ prog, want string }{
		{`"abcdef" | truncate(4)`, `"abc…"`},
		{`"abcd" | truncate(4)`, `"abcd"`},
		{`"" | truncate(1)`, `""`},
		{`"北京分贝金服科技有限公司" | truncate(5)`, `"北京分贝…"`},
		{`"北京" | truncate(2)`, `"北京"`},
		{`"abc" | truncate(1)`, `"…"`},
		{`null | truncate(3)`, `null`},
		{`"🚗🚕🚙" | truncate(2)`, `"🚗…"`},
	}
	for _, c := range cases {
		out, err := render(t, `{v: (`+c.prog+`)}`, `{}`)
		require.NoError(t, err, c.prog)
		assert.Equal(t, `{"v":`+c.want+`}`, out, c.prog)
	}
	_, err := render(t, `{v: ("abc" | truncate(0))}`, `{}`)
	assert.ErrorContains(t, err, "truncate: n must be at least 1")
	_, err = render(t, `{v: (1 | truncate(3))}`, `{}`)
	assert.ErrorContains(t, err, "truncate: expected text, got number")
}

func TestValidNumber(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"0", "-0", "1", "-5", "14.1", "0.000000000000000001", "1e3", "1E+3", "1.5e-3", "1e-123456", "98765432101234.5678"} {
		assert.True(t, validNumber(s), s)
	}
	for _, s := range []string{"", "-", "+1", "01", "1.", ".5", "1e", "1e+", "0x10", "1_000", " 1", "1 ", "NaN", "Infinity", "1e1234567", "1\n", "１"} {
		assert.False(t, validNumber(s), s)
	}
}

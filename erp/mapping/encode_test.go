package mapping

import (
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEncodeOutput(t *testing.T) {
	t.Parallel()
	huge, _ := new(big.Int).SetString("-123456789012345678901234567890", 10)
	out, err := encodeOutput(map[string]any{
		"s":   "a\x01\x1f\"\\\t\r\n\xff<>&\u2029é北",
		"n":   json.Number("1.50"),
		"big": huge,
		"f":   -4.0,
		"d":   decimalMarker + "0.000000000000000001",
	})
	require.NoError(t, err)
	assert.Equal(t, `{"big":-123456789012345678901234567890,"d":0.000000000000000001,"f":-4,"n":1.50,`+
		`"s":"a\u0001\u001f\"\\\t\r\n\ufffd<>&\u2029é北"}`, string(out))
	var back map[string]any
	require.NoError(t, json.Unmarshal(out, &back), "the output is valid JSON")

	for _, v := range []any{math.NaN(), math.Inf(1), 0.1, float64(1 << 53), json.Number("1."), int64(1), map[string]any{"a": []any{struct{}{}}}} {
		_, err := encodeOutput(map[string]any{"a": v})
		var oe *outputError
		assert.True(t, errors.As(err, &oe), "%v: %v", v, err)
	}
	_, err = encodeOutput(map[string]any{"a": []any{1, map[string]any{"b c": 0.5}}})
	var oe *outputError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, `at .a[1]["b c"]: 0.5`, oe.detail)
}

func TestDecodeData(t *testing.T) {
	t.Parallel()
	m, err := decodeData(json.RawMessage(`{"i": 3, "neg": -7, "f": 1.0, "e": 2E-2, "b": 99999999999999999999, "s": "1.0", "l": [null, true]}`))
	require.NoError(t, err)
	assert.Equal(t, 3, m["i"])
	assert.Equal(t, -7, m["neg"])
	assert.Equal(t, decimalMarker+"1.0", m["f"])
	assert.Equal(t, decimalMarker+"0.02", m["e"])
	want, _ := new(big.Int).SetString("99999999999999999999", 10)
	assert.Equal(t, want, m["b"])
	assert.Equal(t, "1.0", m["s"])
	assert.Equal(t, []any{nil, true}, m["l"])

	_, err = decodeData(json.RawMessage(`[1]`))
	assert.EqualError(t, err, "not a JSON object")
	_, err = decodeData(json.RawMessage(`{`))
	assert.ErrorContains(t, err, "not JSON")
}

package mapping

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckDefault(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	require.NoError(t, Check(&out, erp.KindTryton, ""))
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	assert.Equal(t, "defaults/tryton.yaml: the default mapping for tryton (embedded in erpbridge)", lines[0])
	assert.Contains(t, lines, "  car_order ok")
	assert.Contains(t, lines, "  reception_order ok")
}

func TestCheckFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	require.NoError(t, os.WriteFile(good, []byte("erp: kingdee\nkinds:\n  car_order: '{}'\n  \"*\": '{}'\n"), 0o600))
	var out bytes.Buffer
	require.NoError(t, Check(&out, erp.KindKingdee, good))
	assert.Equal(t, good+": mapping for kingdee\n  * ok\n  car_order ok\n", out.String())

	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("erp: kingdee\nkinds:\n  car_order: |\n    {a: .x +}\n"), 0o600))
	out.Reset()
	err := Check(&out, erp.KindKingdee, bad)
	assert.EqualError(t, err, "mapping "+bad+`: kind car_order: line 4, column 13: unexpected token "}"`)
	assert.Empty(t, out.String())
}

const carRecordJSON = `{"source":"fenbeitong","kind":"car_order","external_id":"abc","version":3,
	"occurred_at":"2024-05-01T09:40:00+08:00",
	"data":{"price_detail_info":[{"name":"里程费","amount":"98765432101234.5678","type":"distance_fee"}],
	        "price_info":{"total_price":"98765432101234.5678"}}}`

func TestRenderFile(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	require.NoError(t, RenderFile(&out, erp.KindTryton, "", "", []byte(carRecordJSON)))
	s := out.String()
	assert.True(t, strings.HasPrefix(s, "{\n  \"lines\": {\n"), s)
	assert.Contains(t, s, `"unit_price": 98765432101234.5678`)
	assert.Contains(t, s, `"reference": "FBT-CAR-abc"`)
	assert.True(t, strings.HasSuffix(s, "}\n"))

	// kind replaces the record's kind.
	dir := t.TempDir()
	path := filepath.Join(dir, "m.yaml")
	require.NoError(t, os.WriteFile(path, []byte("erp: tryton\nkinds:\n  flight_order: '{k: .kind, n: .number}'\n"), 0o600))
	out.Reset()
	require.NoError(t, RenderFile(&out, erp.KindTryton, path, "flight_order", []byte(carRecordJSON)))
	assert.Equal(t, "{\n  \"k\": \"flight_order\",\n  \"n\": \"FBT-FLT-abc\"\n}\n", out.String())
}

func TestRenderFileErrors(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	err := RenderFile(&out, erp.KindTryton, "", "maintenance_job", []byte(carRecordJSON))
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrNoMapping))
	assert.Equal(t, "mapping defaults/tryton.yaml: kind maintenance_job: no mapping for this kind", err.Error())

	// The person rendering a file sees the detail.
	dir := t.TempDir()
	path := filepath.Join(dir, "m.yaml")
	require.NoError(t, os.WriteFile(path, []byte("erp: tryton\nkinds:\n  car_order: '{a: (.data.price_info.x // \"12,5\" | decimal)}'\n"), 0o600))
	err = RenderFile(&out, erp.KindTryton, path, "", []byte(carRecordJSON))
	assert.EqualError(t, err, "mapping "+path+`: kind car_order: decimal: text is not a number: "12,5"`)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "decimal: text is not a number", e.Reason)

	err = RenderFile(&out, erp.KindTryton, "", "", []byte(`{"erp":{"body":{}}}`))
	assert.ErrorContains(t, err, `mapping render: record JSON (the HTTP contract's body: source, kind, external_id, version, occurred_at, data): json: unknown field "erp"`)
	err = RenderFile(&out, erp.KindTryton, "", "", []byte(carRecordJSON+carRecordJSON))
	assert.EqualError(t, err, "mapping render: record JSON: more than one JSON value")
	err = RenderFile(&out, erp.KindKingdee, filepath.Join(dir, "none.yaml"), "", []byte(carRecordJSON))
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.Empty(t, out.String())
}

package mapping

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/itchyny/gojq"
	"gopkg.in/yaml.v3"
)

// AnyKind is the name of the program that renders every kind the file does
// not list.
const AnyKind = "*"

// MaxRunTime bounds one run of a program, whatever the deadline of Render's
// context.
const MaxRunTime = 10 * time.Second

// MaxOutputBytes bounds the JSON text of one rendered document.
const MaxOutputBytes = 4 << 20

// maxFileBytes bounds a mapping file read by Load.
const maxFileBytes = 1 << 20

//go:embed defaults/*.yaml
var defaults embed.FS

// Set is the compiled mapping of one ERP: one jq program per record kind.
// It is immutable and safe for concurrent use.
type Set struct {
	erp      string
	file     string
	programs map[string]*gojq.Code
	kinds    []string
}

// ERP is the ERP kind the file is for: "kingdee" or "tryton".
func (s *Set) ERP() string { return s.erp }

// File is the file the Set was read from: the path given to Load, or
// "defaults/<erp>.yaml" for a default.
func (s *Set) File() string { return s.file }

// Kinds lists the kinds the file has programs for, sorted; "*" among them
// when the file has it.
func (s *Set) Kinds() []string { return slices.Clone(s.kinds) }

// Has reports whether Render has a program for kind: its own or "*".
func (s *Set) Has(kind string) bool {
	_, ok := s.program(kind)
	return ok
}

func (s *Set) program(kind string) (*gojq.Code, bool) {
	if c, ok := s.programs[kind]; ok {
		return c, true
	}
	c, ok := s.programs[AnyKind]
	return c, ok
}

// Default is the mapping that ships for an ERP kind ("kingdee" or "tryton"),
// embedded from erp/mapping/defaults/<erp>.yaml.
func Default(erpKind string) (*Set, error) {
	if !erp.IsConnector(erpKind) {
		return nil, fmt.Errorf("mapping: no default mapping for ERP kind %q (kingdee | tryton)", erpKind)
	}
	name := "defaults/" + erpKind + ".yaml"
	src, err := defaults.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("mapping %s: %w", name, err)
	}
	return Parse(erpKind, name, src)
}

// Load reads and compiles the mapping file at path for an ERP kind; the
// file's erp: must name that kind. An empty path is Default(erpKind).
func Load(erpKind, path string) (*Set, error) {
	if path == "" {
		return Default(erpKind)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("mapping %s: %w", path, err)
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("mapping %s: %w", path, err)
	}
	if len(src) > maxFileBytes {
		return nil, fmt.Errorf("mapping %s: file larger than %d bytes", path, maxFileBytes)
	}
	return Parse(erpKind, path, src)
}

// Parse compiles the mapping file src, named file in errors, for an ERP
// kind. It refuses a file whose erp: is missing or names another ERP, a file
// with no kinds or with keys other than erp: and kinds:, an empty program, a
// program that does not compile, and one that uses what programs must not
// (env, $ENV, input, inputs, input_filename, debug, stderr, halt,
// halt_error, import, include). Errors name the file, the kind, the line and
// column, and what is wrong (gojq's message for a syntax error).
func Parse(erpKind, file string, src []byte) (*Set, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("mapping %s: %s", file, fmt.Sprintf(format, args...))
	}
	if !erp.IsConnector(erpKind) {
		return nil, fail("ERP kind %q has no mappings (kingdee | tryton)", erpKind)
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fail("the file is empty; it needs erp: and kinds:")
		}
		return nil, fail("%v", err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, fail("%v", err)
		}
		return nil, fail("line %d: a second YAML document; a mapping file holds one", next.Line)
	}
	root := resolve(&doc)
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = resolve(root.Content[0])
	}
	if root.Kind != yaml.MappingNode {
		return nil, fail("line %d: the file must be a YAML mapping with erp: and kinds:", root.Line)
	}
	var erpNode, kindsNode *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i], resolve(root.Content[i+1])
		switch key.Value {
		case "erp":
			if erpNode != nil {
				return nil, fail("line %d: erp: given twice", key.Line)
			}
			erpNode = val
		case "kinds":
			if kindsNode != nil {
				return nil, fail("line %d: kinds: given twice", key.Line)
			}
			kindsNode = val
		default:
			return nil, fail("line %d: unknown key %q (a mapping file has erp: and kinds:)", key.Line, key.Value)
		}
	}
	switch {
	case erpNode == nil:
		return nil, fail("erp: missing; it names the ERP the file is for (kingdee | tryton)")
	case erpNode.Kind != yaml.ScalarNode:
		return nil, fail("line %d: erp: must be kingdee or tryton", erpNode.Line)
	case !erp.IsConnector(erpNode.Value):
		return nil, fail("line %d: erp: %q is not an ERP with mappings (kingdee | tryton)", erpNode.Line, erpNode.Value)
	case erpNode.Value != erpKind:
		return nil, fail("line %d: erp: the file is for %s, not %s", erpNode.Line, erpNode.Value, erpKind)
	case kindsNode == nil:
		return nil, fail("kinds: missing; it maps each record kind to a jq program")
	case kindsNode.Kind != yaml.MappingNode:
		return nil, fail("line %d: kinds: must map each record kind to a jq program", kindsNode.Line)
	case len(kindsNode.Content) == 0:
		return nil, fail("line %d: kinds: no kinds", kindsNode.Line)
	}
	s := &Set{erp: erpKind, file: file, programs: make(map[string]*gojq.Code)}
	lines := strings.Split(string(src), "\n")
	for i := 0; i+1 < len(kindsNode.Content); i += 2 {
		key, val := kindsNode.Content[i], resolve(kindsNode.Content[i+1])
		kind := key.Value
		switch {
		case key.Kind != yaml.ScalarNode || kind == "":
			return nil, fail("line %d: kinds: a kind must be a name", key.Line)
		case s.programs[kind] != nil:
			return nil, fail("kind %s: line %d: given twice", kind, key.Line)
		case val.Kind != yaml.ScalarNode:
			return nil, fail("kind %s: line %d: the program must be text (a jq program, e.g. a block after |)", kind, val.Line)
		}
		prog := val.Value
		if val.Tag == "!!null" {
			prog = ""
		}
		code, err := compileProgram(source{text: prog, node: val, lines: lines})
		if err != nil {
			return nil, fail("kind %s: %v", kind, err)
		}
		s.programs[kind] = code
		s.kinds = append(s.kinds, kind)
	}
	slices.Sort(s.kinds)
	return s, nil
}

// resolve follows a YAML alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// Render runs the program of r's kind (or "*") on r and returns the
// document it gives: exactly one JSON object, compact, with every decimal
// value written as a bare JSON number with exactly its digits. The input of
// the program is {"source", "kind", "external_id", "version", "occurred_at"
// (RFC 3339 text, as the HTTP contract sends it), "number"
// (erp.DocumentNumber(r)), "data"}.
//
// Every error is an *Error. A kind without a program wraps ErrNoMapping; a
// program stopped by ctx or by MaxRunTime wraps ctx's error.
func (s *Set) Render(ctx context.Context, r erp.Record) (json.RawMessage, error) {
	fail := func(reason, detail string, cause error) error {
		return &Error{File: s.file, Kind: r.Kind, Reason: reason, Err: cause, detail: detail}
	}
	code, ok := s.program(r.Kind)
	if !ok {
		return nil, fail(ErrNoMapping.Error(), "", ErrNoMapping)
	}
	if err := r.Validate(); err != nil {
		return nil, fail("record "+r.Label()+": "+err.Error(), "", nil)
	}
	data, err := decodeData(r.Data)
	if err != nil {
		var ie *inputError
		if errors.As(err, &ie) {
			return nil, fail("record "+r.Label()+": data: "+ie.reason, ie.detail, nil)
		}
		return nil, fail("record "+r.Label()+": data: "+err.Error(), "", nil)
	}
	input := map[string]any{
		"source":      r.Source,
		"kind":        r.Kind,
		"external_id": r.ExternalID,
		"version":     intValue(r.Version),
		"occurred_at": r.OccurredAt.Format(time.RFC3339Nano),
		"number":      erp.DocumentNumber(r),
		"data":        data,
	}

	ctx, cancel := context.WithTimeout(ctx, MaxRunTime)
	defer cancel()
	out, n, err := run(ctx, code, input)
	switch {
	case err != nil:
		return nil, s.runError(r.Kind, ctx, err)
	case n == 0:
		return nil, fail("the program gave no value; it must give one JSON object", "", nil)
	case n > 1:
		return nil, fail("the program gave more than one value; it must give one JSON object", "", nil)
	}
	if _, isObject := out.(map[string]any); !isObject {
		return nil, fail("the program gave "+article(typeName(out))+", not a JSON object", "", nil)
	}
	doc, err := encodeOutput(out)
	if err != nil {
		var oe *outputError
		if errors.As(err, &oe) {
			return nil, fail("output: "+oe.reason, oe.detail, nil)
		}
		return nil, fail("output: "+err.Error(), "", nil)
	}
	return doc, nil
}

// run runs code on input and returns its first value and how many values
// it gave, counting up to two. A panic inside gojq becomes a panicError.
func run(ctx context.Context, code *gojq.Code, input any) (first any, n int, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &panicError{value: fmt.Sprint(p)}
		}
	}()
	iter := code.RunWithContext(ctx, input)
	for n < 2 {
		v, ok := iter.Next()
		if !ok {
			break
		}
		if e, isErr := v.(error); isErr {
			return nil, n, e
		}
		if n == 0 {
			first = v
		}
		n++
	}
	return first, n, nil
}

// panicError is a panic inside gojq, which a record must never turn into a
// crash of the worker.
type panicError struct{ value string }

func (e *panicError) Error() string { return "gojq panicked: " + e.value }

// runError is the *Error of a program that failed while it ran.
func (s *Set) runError(kind string, ctx context.Context, err error) *Error {
	e := &Error{File: s.file, Kind: kind}
	var fe *funcError
	var pe *panicError
	var ve gojq.ValueError
	switch {
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		e.Err = ctx.Err()
		e.Reason = "the program was stopped: " + ctx.Err().Error()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			e.Reason += " (it ran longer than its deadline or " + MaxRunTime.String() + ")"
		}
	case errors.As(err, &pe):
		e.Reason = "the program failed: gojq panicked"
		e.detail = pe.value
	case errors.As(err, &fe):
		e.Reason = fe.reason
		e.detail = fe.detail
	case errors.As(err, &ve):
		e.Reason = "the program raised an error with error(...)"
		e.detail = valueText(ve.Value())
	default:
		e.Reason = "the program failed: " + redact(err.Error())
		e.detail = err.Error()
	}
	return e
}

// intValue is an int64 as jq sees it.
func intValue(v int64) any {
	if int64(int(v)) == v {
		return int(v)
	}
	return bigInt(v)
}

func article(typ string) string {
	switch typ {
	case "array", "object":
		return "an " + typ
	case "null", "an unknown type":
		return typ
	}
	return "a " + typ
}

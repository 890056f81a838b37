package mapping

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/erpbridge/erpbridge/erp"
)

// Check compiles the mapping of an ERP kind (the file at path, or the
// default when path is "") and prints which file it read and each kind with
// "ok". A mapping that does not compile is returned as the error, and
// nothing is printed.
func Check(w io.Writer, erpKind, path string) error {
	s, err := Load(erpKind, path)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if path == "" {
		fmt.Fprintf(&b, "%s: the default mapping for %s (embedded in erpbridge)\n", s.File(), s.ERP())
	} else {
		fmt.Fprintf(&b, "%s: mapping for %s\n", s.File(), s.ERP())
	}
	for _, kind := range s.Kinds() {
		fmt.Fprintf(&b, "  %s ok\n", kind)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("mapping check: write: %w", err)
	}
	return nil
}

// RenderFile renders one record with the mapping of an ERP kind (the file at
// path, or the default when path is "") and prints the document, indented,
// numbers exactly as rendered. recordJSON is a record in the HTTP contract's
// shape ({"source","kind","external_id","version","occurred_at","data"});
// kind, when not empty, replaces the record's kind. Nothing is sent
// anywhere. A failure to render is returned with its detail in the message
// (the person running it holds the record anyway); errors.As still finds
// the *Error and errors.Is ErrNoMapping.
func RenderFile(w io.Writer, erpKind, path, kind string, recordJSON []byte) error {
	s, err := Load(erpKind, path)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(recordJSON))
	dec.DisallowUnknownFields()
	var r erp.Record
	if err := dec.Decode(&r); err != nil {
		return fmt.Errorf("mapping render: record JSON (the HTTP contract's body: source, kind, external_id, version, occurred_at, data): %w", err)
	}
	if dec.More() {
		return errors.New("mapping render: record JSON: more than one JSON value")
	}
	if kind != "" {
		r.Kind = kind
	}
	doc, err := s.Render(context.Background(), r)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return &detailed{e}
		}
		return err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, doc, "", "  "); err != nil {
		return fmt.Errorf("mapping render: indent: %w", err)
	}
	b.WriteByte('\n')
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("mapping render: write: %w", err)
	}
	return nil
}

// detailed is an *Error whose message is its Detail.
type detailed struct{ e *Error }

func (d *detailed) Error() string { return d.e.Detail() }
func (d *detailed) Unwrap() error { return d.e }

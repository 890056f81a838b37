package tryton

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// document is a mapping's output: the one Tryton record a record becomes.
type document struct {
	// Model is the document's model, e.g. "sale.sale".
	Model string `json:"model"`
	// Key is the field that holds the record's number; "reference" when empty.
	Key string `json:"key"`
	// Values are the document's fields.
	Values map[string]any `json:"values"`
	// Refs are many2one fields whose record is found by a search (and
	// created when absent and Create is given).
	Refs map[string]ref `json:"refs"`
	// OnChange names fields whose Tryton on_change method fills the fields
	// the mapping leaves out (as the Tryton client does when a person sets
	// that field); OnChangeWith names fields computed by on_change_with.
	OnChange     []string `json:"on_change"`
	OnChangeWith []string `json:"on_change_with"`
	// Lines is the document's one2many of lines, replaced as a whole.
	Lines *lineSet `json:"lines"`
	// Context is added to the user's context for every call of this send.
	Context map[string]any `json:"context"`
}

// ref names a related record by a search instead of a database id.
type ref struct {
	// Model is the related model, e.g. "party.party".
	Model string `json:"model"`
	// Search is a Tryton domain, e.g. [["code", "=", "FBT"]]; the lowest id
	// that matches (active or not) is used.
	Search []any `json:"search"`
	// Create are the values of the record to create when none matches;
	// without it a missing record is a rejection.
	Create map[string]any `json:"create"`
}

// lineSet is a one2many field of the document, written as a whole.
type lineSet struct {
	// Field is the document's one2many field, e.g. "lines".
	Field string `json:"field"`
	// Model is the lines' model; the field's relation when empty.
	Model string `json:"model"`
	// Items are the lines, in order.
	Items []line `json:"items"`
}

// line is one line of a lineSet.
type line struct {
	Values       map[string]any `json:"values"`
	Refs         map[string]ref `json:"refs"`
	OnChange     []string       `json:"on_change"`
	OnChangeWith []string       `json:"on_change_with"`
}

// parseDocument reads a mapping's output strictly: unknown keys are errors
// (a typo would otherwise silently drop a field), numbers stay exact.
func parseDocument(raw []byte) (*document, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var d document
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("mapping output is not a Tryton document: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("mapping output has data after the document")
	}
	if err := d.check(); err != nil {
		return nil, fmt.Errorf("mapping output: %w", err)
	}
	if d.Key == "" {
		d.Key = "reference"
	}
	return &d, nil
}

func (d *document) check() error {
	if strings.TrimSpace(d.Model) == "" {
		return errors.New(`"model" must name the document's model, e.g. "sale.sale"`)
	}
	if err := checkParts("", d.Values, d.Refs); err != nil {
		return err
	}
	if d.Lines != nil {
		if d.Lines.Field == "" {
			return errors.New(`"lines" needs "field", the document's one2many field`)
		}
		if _, ok := d.Values[d.Lines.Field]; ok {
			return fmt.Errorf("field %q is given both in \"values\" and as \"lines\"", d.Lines.Field)
		}
		for i, l := range d.Lines.Items {
			if err := checkParts(fmt.Sprintf("line %d: ", i+1), l.Values, l.Refs); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkParts(where string, values map[string]any, refs map[string]ref) error {
	for name, r := range refs {
		if _, ok := values[name]; ok {
			return fmt.Errorf("%sfield %q is given both in \"values\" and in \"refs\"", where, name)
		}
		if strings.TrimSpace(r.Model) == "" {
			return fmt.Errorf("%sref %q needs \"model\"", where, name)
		}
		if len(r.Search) == 0 {
			return fmt.Errorf("%sref %q needs a non-empty \"search\" domain", where, name)
		}
	}
	return nil
}

package kingdee

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"
)

// document is a mapping's output for one record: see the package doc.
type document struct {
	FormID      string                     `json:"formid"`
	Model       map[string]json.RawMessage `json:"model"`
	Submit      bool                       `json:"submit"`
	Audit       bool                       `json:"audit"`
	StateField  string                     `json:"state_field"`
	SaveOptions map[string]json.RawMessage `json:"save_options"`
	Skip        *string                    `json:"skip"`
}

var (
	formIDRE   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,79}$`)
	fieldKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,79}$`)
)

// Field keys the connector owns.
const (
	keyID     = "FID"
	keyNumber = "FBillNo"
	keyStatus = "FDocumentStatus"
)

// parseDocument checks a mapping's output and returns it with FBillNo set
// to number. Its errors describe the output's shape, never its values
// (which hold record content), except the bill number, which holds vendor
// ids only.
func parseDocument(out json.RawMessage, number string) (*document, error) {
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	var d document
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("not an object of formid, model, submit, audit, state_field, save_options or skip: %s", shapeError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the object")
	}
	if d.Skip != nil {
		if strings.TrimSpace(*d.Skip) == "" {
			return nil, errors.New("skip: must say why the record is not sent")
		}
		if d.FormID != "" || d.Model != nil || d.Submit || d.Audit || d.StateField != "" || d.SaveOptions != nil {
			return nil, errors.New("skip: must be the only key")
		}
		return &d, nil
	}
	switch {
	case !formIDRE.MatchString(d.FormID):
		return nil, errors.New(`formid: must be a Kingdee form id such as "AP_Payable"`)
	case d.Model == nil:
		return nil, errors.New("model: must be an object of the form's fields")
	case d.StateField != "" && !fieldKeyRE.MatchString(d.StateField):
		return nil, errors.New("state_field: must be a field key such as \"FAP_Remark\"")
	}
	for _, k := range []string{keyID, keyNumber, keyStatus} {
		if strings.EqualFold(d.StateField, k) {
			return nil, fmt.Errorf("state_field: %s is the connector's own; name a text field of the bill header", k)
		}
	}
	for k, v := range d.Model {
		switch {
		case strings.EqualFold(k, keyID):
			return nil, fmt.Errorf("model: must not set %s: the connector sets it to update the record's bill", k)
		case strings.EqualFold(k, keyStatus):
			return nil, fmt.Errorf("model: must not set %s: use submit or audit", k)
		case strings.EqualFold(k, keyNumber):
			var n string
			if json.Unmarshal(v, &n) != nil || n != number {
				return nil, fmt.Errorf("model: %s must be left out (the connector sets it to %s)", k, number)
			}
			delete(d.Model, k)
		case d.StateField != "" && strings.EqualFold(k, d.StateField):
			return nil, fmt.Errorf("model: must not set %s: it is the state_field the connector writes", k)
		}
	}
	for k := range d.SaveOptions {
		if strings.EqualFold(k, "Model") {
			return nil, errors.New("save_options: must not hold Model; the form's fields go in model")
		}
	}
	d.Model[keyNumber] = quote(number)
	if d.Audit {
		d.Submit = true // Kingdee audits submitted bills only
	}
	return &d, nil
}

// shapeError is a decoding error without the offending value.
func shapeError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		want := "another type"
		switch te.Type.Kind() {
		case reflect.Map:
			want = "an object"
		case reflect.String, reflect.Pointer:
			want = "text"
		case reflect.Bool:
			want = "true or false"
		}
		return fmt.Sprintf("%s: must be %s, not a JSON %s", orNone(te.Field), want, te.Value)
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "json: unknown field ") {
		return "unknown key " + strings.TrimPrefix(msg, "json: unknown field ")
	}
	return msg
}

// quote is s as a JSON string.
func quote(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

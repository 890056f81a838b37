package fenbeitong

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxDepth bounds how deeply a push may nest objects and arrays. Real pushes
// nest five levels; the bound keeps hostile input from exhausting the stack.
const maxDepth = 64

// normaliseJSON rewrites body, which must be one JSON object and nothing
// else, with every object key trimmed of surrounding white space (the
// vendor's sample has "departure_city_id "). Key order, number text and
// every value are kept; insignificant white space is dropped. A key that
// appears twice after trimming keeps both occurrences, so a later reader
// sees the last, as encoding/json does for any duplicate key.
func normaliseJSON(body []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	var out bytes.Buffer
	out.Grow(len(body))
	if err := copyContainer(dec, &out, '{', 1); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return out.Bytes(), nil
}

// copyValue copies the next JSON value from dec to out.
func copyValue(dec *json.Decoder, out *bytes.Buffer, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	switch v := tok.(type) {
	case json.Delim:
		return copyContainer(dec, out, v, depth+1)
	case string:
		return appendString(out, v)
	case json.Number:
		out.WriteString(string(v))
	case bool:
		out.WriteString(fmt.Sprint(v))
	case nil:
		out.WriteString("null")
	default:
		return fmt.Errorf("not JSON: unexpected token %T", tok)
	}
	return nil
}

// copyContainer copies the rest of an object or array whose opening
// delimiter open has been read, trimming object keys.
func copyContainer(dec *json.Decoder, out *bytes.Buffer, open json.Delim, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("nested deeper than %d levels", maxDepth)
	}
	if open != '{' && open != '[' {
		return fmt.Errorf("not JSON: unexpected %q", rune(open))
	}
	out.WriteByte(byte(open))
	for first := true; dec.More(); first = false {
		if !first {
			out.WriteByte(',')
		}
		if open == '{' {
			tok, err := dec.Token()
			if err != nil {
				return fmt.Errorf("not JSON: %w", err)
			}
			key, ok := tok.(string)
			if !ok {
				return errors.New("not JSON: object key is not a string")
			}
			if err := appendString(out, strings.TrimSpace(key)); err != nil {
				return err
			}
			out.WriteByte(':')
		}
		if err := copyValue(dec, out, depth); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return fmt.Errorf("not JSON: %w", err)
	}
	if open == '{' {
		out.WriteByte('}')
	} else {
		out.WriteByte(']')
	}
	return nil
}

// appendString writes s as a JSON string without HTML escaping.
func appendString(out *bytes.Buffer, s string) error {
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("encode string: %w", err)
	}
	out.Truncate(out.Len() - 1) // Encode ends with a newline
	return nil
}

// canonicalJSON re-encodes normalised JSON with object keys sorted, no
// insignificant white space, strings decoded and re-escaped the same way, and
// numbers kept as written. Two bodies that differ only in key order, white
// space around tokens or keys, or string escapes give the same bytes.
func canonicalJSON(normalised []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(normalised))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), nil
}

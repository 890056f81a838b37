package mapping

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/itchyny/gojq"
	"gopkg.in/yaml.v3"
)

// forbidden says why a program must not use name, for the jq functions
// and variables that reach the environment (secrets), read inputs, write to
// standard error or halt; ok is false for every other name.
func forbidden(name string) (why string, ok bool) {
	switch name {
	case "env", "$ENV":
		return "the environment is not available to mappings", true
	case "input", "inputs", "input_filename":
		return "a mapping reads only the record, not further inputs", true
	case "debug", "stderr":
		return "mappings cannot write to standard error", true
	case "halt", "halt_error":
		return "a mapping ends by giving its document; use error(...) to refuse a record", true
	}
	return "", false
}

// source is where a program sits in its file, to turn an offset in the
// program into a line and column of the file.
type source struct {
	text  string     // the program
	node  *yaml.Node // its YAML scalar
	lines []string   // the file's lines
}

// position names the place of byte offset off of the program: the file's
// line and column where the program's text maps onto the file one to one
// (a literal block "|" or a one-line scalar), else the line and column in
// the program.
func (s source) position(off int) string {
	// An error at the end (unexpected EOF) points just after the last code.
	off = min(max(off, 0), len(strings.TrimRight(s.text, " \t\r\n")))
	line := 1 + strings.Count(s.text[:off], "\n")
	lineStart := strings.LastIndexByte(s.text[:off], '\n') + 1
	col := 1 + utf8.RuneCountInString(s.text[lineStart:off])
	switch {
	case s.node.Style&yaml.LiteralStyle != 0:
		fileLine := s.node.Line + line
		return fmt.Sprintf("line %d, column %d", fileLine, s.blockIndent()+col)
	case !strings.Contains(s.text, "\n") && s.node.Style&(yaml.FoldedStyle) == 0:
		col += s.node.Column - 1
		if s.node.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			col++
		}
		return fmt.Sprintf("line %d, column %d", s.node.Line, col)
	default:
		return fmt.Sprintf("program line %d, column %d", line, col)
	}
}

// blockIndent is the indentation of a literal block's content: that of its
// first line that is not blank.
func (s source) blockIndent() int {
	for i := s.node.Line; i < len(s.lines); i++ { // s.node.Line is the "|" line; lines are 0-based
		l := s.lines[i]
		if strings.TrimSpace(l) == "" {
			continue
		}
		return len(l) - len(strings.TrimLeft(l, " "))
	}
	return 0
}

// compileProgram parses and compiles one kind's program, refusing the
// forbidden functions, imports, and empty programs. Its error holds the
// position and gojq's message; the caller adds file and kind.
func compileProgram(src source) (*gojq.Code, error) {
	if !hasCode(src.text) {
		return nil, fmt.Errorf("line %d: the program is empty", src.node.Line)
	}
	q, err := gojq.Parse(src.text)
	if err != nil {
		var pe *gojq.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s: %w", src.position(pe.Offset-len(pe.Token)), err)
		}
		return nil, fmt.Errorf("line %d: %w", src.node.Line, err)
	}
	if len(q.Imports) > 0 {
		word := "import"
		if q.Imports[0].IncludePath != "" {
			word = "include"
		}
		return nil, fmt.Errorf("%s: %s is not available: a mapping is one self-contained program", src.at(word), word)
	}
	if name, ok := firstForbidden(q); ok {
		why, _ := forbidden(name)
		return nil, fmt.Errorf("%s: %s is not available: %s", src.at(name), name, why)
	}
	code, err := gojq.Compile(q, compilerOptions()...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src.at(undefinedName(err.Error())), err)
	}
	return code, nil
}

// at is the position of the first use of name in the program, or the
// program's first line when it cannot be found.
func (s source) at(name string) string {
	if name != "" {
		if off, ok := findName(s.text, name); ok {
			return s.position(off)
		}
	}
	return s.position(0)
}

// undefinedName is the name in gojq's "function not defined: f/1" and
// "variable not defined: $x" messages, or "".
func undefinedName(msg string) string {
	for _, prefix := range []string{"function not defined: ", "variable not defined: "} {
		if rest, ok := strings.CutPrefix(msg, prefix); ok {
			name, _, _ := strings.Cut(rest, "/")
			return name
		}
	}
	return ""
}

// firstForbidden finds a call of a forbidden function, or a use of $ENV, in
// the parsed program.
func firstForbidden(q *gojq.Query) (string, bool) {
	var found string
	var walk func(v reflect.Value) bool
	walk = func(v reflect.Value) bool {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			return !v.IsNil() && walk(v.Elem())
		case reflect.Slice:
			for i := range v.Len() {
				if walk(v.Index(i)) {
					return true
				}
			}
		case reflect.Struct:
			switch x := v.Interface().(type) {
			case gojq.Func:
				if _, bad := forbidden(x.Name); bad {
					found = x.Name
					return true
				}
			case gojq.ObjectKeyVal:
				if _, bad := forbidden(x.Key); bad && strings.HasPrefix(x.Key, "$") {
					found = x.Key
					return true
				}
			}
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() && walk(v.Field(i)) {
					return true
				}
			}
		}
		return false
	}
	walk(reflect.ValueOf(q))
	return found, found != ""
}

// hasCode reports whether a program holds anything but white space and
// comments.
func hasCode(prog string) bool {
	found := false
	scanCode(prog, func(int, string) bool {
		found = true
		return false
	})
	return found
}

// findName is the byte offset of the first use of name (a function or a
// $variable) in the code of a program: not inside a string or a comment, not
// a field (.name), a format (@name) or an object key (name: ...).
func findName(prog, name string) (int, bool) {
	at, ok := -1, false
	scanCode(prog, func(off int, token string) bool {
		if token != name {
			return true
		}
		before := strings.TrimRight(prog[:off], " \t\r\n")
		if strings.HasSuffix(before, ".") || strings.HasSuffix(before, "@") {
			return true
		}
		after := strings.TrimLeft(prog[off+len(token):], " \t\r\n")
		if strings.HasPrefix(after, ":") && !strings.HasPrefix(after, "::") && !strings.HasPrefix(token, "$") {
			return true
		}
		at, ok = off, true
		return false
	})
	return at, ok
}

// scanCode walks the code of a jq program and calls visit with the offset
// of each token: an identifier (with module prefixes, lib::f), a
// $variable, a number, or one other character. It skips white space,
// comments and the text of strings, but not the code interpolated into
// them ("\(...)"); a string's opening quote is a token. visit returning
// false stops the walk.
func scanCode(prog string, visit func(off int, token string) bool) {
	// depth holds, for each string interpolation the walk is in, the number
	// of parentheses open inside it.
	var depth []int
	inString := false
	for i := 0; i < len(prog); i++ {
		c := prog[i]
		if inString {
			switch c {
			case '\\':
				if i+1 < len(prog) && prog[i+1] == '(' {
					depth = append(depth, 0)
					inString = false
				}
				i++
			case '"':
				inString = false
			}
			continue
		}
		token := prog[i : i+1]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			continue
		case c == '#':
			for i < len(prog) && prog[i] != '\n' {
				i++
			}
			continue
		case c == '"':
			inString = true
		case c == '(' && len(depth) > 0:
			depth[len(depth)-1]++
		case c == ')' && len(depth) > 0:
			if depth[len(depth)-1] == 0 {
				depth = depth[:len(depth)-1]
				inString = true
			} else {
				depth[len(depth)-1]--
			}
		case isDigit(c):
			j := i + 1
			for j < len(prog) && (isIdentByte(prog[j]) || prog[j] == '.') {
				j++
			}
			token = prog[i:j]
		case c == '$' || isIdentByte(c):
			j := i + 1
			for j < len(prog) {
				if isIdentByte(prog[j]) {
					j++
				} else if strings.HasPrefix(prog[j:], "::") && j+2 < len(prog) && isIdentByte(prog[j+2]) {
					j += 2
				} else {
					break
				}
			}
			token = prog[i:j]
		}
		if !visit(i, token) {
			return
		}
		i += len(token) - 1
	}
}

func isIdentByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

package testenv

import "testing"

// The module line is found whatever the line endings, and only for this
// module.
func TestModuleLine(t *testing.T) {
	t.Parallel()
	for mod, want := range map[string]bool{
		"module github.com/erpbridge/erpbridge\n\ngo 1.26\n":       true,
		"module github.com/erpbridge/erpbridge\r\n\r\ngo 1.26\r\n": true,
		"// x\nmodule  github.com/erpbridge/erpbridge":             true,
		"module github.com/erpbridge/erpbridge2\n":                 false,
		"module example.com/other\n":                               false,
		"// module github.com/erpbridge/erpbridge\n":               false,
	} {
		if got := moduleLine.MatchString(mod); got != want {
			t.Errorf("moduleLine in %q = %v, want %v", mod, got, want)
		}
	}
}

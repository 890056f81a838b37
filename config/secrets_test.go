package config_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/config"
)

// AUTOX3_APP_SECRET and FENBEITONG_TOKEN are lists, newest first: spaces
// around entries are trimmed and empty entries dropped, from the variable
// or its _FILE alike.
func TestSecretLists(t *testing.T) {
	cases := []struct {
		name          string
		env           map[string]string
		autox3, token []string
	}{
		{"unset", nil, nil, nil},
		{"one each", map[string]string{"AUTOX3_APP_SECRET": "app", "FENBEITONG_TOKEN": "tok"}, []string{"app"}, []string{"tok"}},
		{"rotation", map[string]string{"AUTOX3_APP_SECRET": " new , old ", "FENBEITONG_TOKEN": "new-tok,,old-tok,"},
			[]string{"new", "old"}, []string{"new-tok", "old-tok"}},
		{"inner spaces kept", map[string]string{"AUTOX3_APP_SECRET": "a b, c"}, []string{"a b", "c"}, nil},
		{"from files", map[string]string{
			"AUTOX3_APP_SECRET_FILE": secretFile(t, "new-app, old-app\n"),
			"FENBEITONG_TOKEN_FILE":  secretFile(t, "new-tok,old-tok,third\r\n"),
		}, []string{"new-app", "old-app"}, []string{"new-tok", "old-tok", "third"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := fromEnv(t, c.env)
			if got := cfg.Vendors.AutoX3AppSecrets(); !reflect.DeepEqual(got, c.autox3) {
				t.Errorf("AutoX3AppSecrets = %q, want %q", got, c.autox3)
			}
			if got := cfg.Vendors.FenbeitongTokens(); !reflect.DeepEqual(got, c.token) {
				t.Errorf("FenbeitongTokens = %q, want %q", got, c.token)
			}
		})
	}
}

// A list that names no secret, or a secret with a line break in it (one
// secret per line in a file), is refused at start, naming the variable and
// the entry's position but never a secret.
func TestSecretListRefusals(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"only commas", map[string]string{"AUTOX3_APP_SECRET": " , ,"}, "AUTOX3_APP_SECRET lists no secret (only commas and spaces)"},
		{"only commas, token", map[string]string{"FENBEITONG_TOKEN": ","}, "FENBEITONG_TOKEN lists no secret"},
		{"one per line in a file", map[string]string{"AUTOX3_APP_SECRET_FILE": secretFile(t, "hunter2-new\nhunter2-old\n")},
			"AUTOX3_APP_SECRET entry 1 holds a line break or another control character: separate secrets with commas"},
		{"control character", map[string]string{"FENBEITONG_TOKEN": "ok,hunter2\x00"}, "FENBEITONG_TOKEN entry 2 holds a line break"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := config.FromEnv(env(c.env))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to say %q", err, c.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("the error quotes a secret: %v", err)
			}
		})
	}
}

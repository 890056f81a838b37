package app

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/config"
)

// healthcheckTimeout bounds one check, below Docker's default 30s.
const healthcheckTimeout = 5 * time.Second

// runHealthcheck GETs target and exits 0 on a 2xx answer, 1 otherwise, so it
// can be a distroless image's HEALTHCHECK (there is no curl or shell).
// target is a URL, or a path on this machine: on ADMIN_ADDR when that is set
// (where /readyz and /metrics are then served), else on HTTP_ADDR. The
// default is /readyz.
func runHealthcheck(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	target := "/readyz"
	if len(args) > 0 {
		target = args[0]
	}
	if strings.HasPrefix(target, "/") {
		cfg, err := config.FromEnv(getenv)
		if err != nil {
			fmt.Fprintf(stderr, "erpbridge healthcheck: %v\n", err)
			return 1
		}
		addr := cfg.HTTP.Addr
		if cfg.HTTP.AdminAddr != "" {
			addr = cfg.HTTP.AdminAddr
		}
		target = "http://" + config.Dialable(addr) + target
	}
	client := &http.Client{Timeout: healthcheckTimeout}
	resp, err := client.Get(target)
	if err != nil {
		fmt.Fprintf(stderr, "erpbridge healthcheck: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Fprintf(stdout, "%s %s\n", resp.Status, strings.TrimSpace(string(body)))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return 1
	}
	return 0
}

// Command erpbridge lands vendor webhooks (AutoX3, Fenbeitong) in the ERP
// through Temporal workflows. Run `erpbridge help` for its commands.
package main

import (
	"os"

	"github.com/erpbridge/erpbridge/internal/app"
)

func main() {
	os.Exit(app.Main(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

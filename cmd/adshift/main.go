// Command adshift plans and applies Active Directory domain migrations
// described in HCL files. See the README for a tour.
package main

import (
	"os"
)

// Set by the release build (-ldflags "-X main.version=…").
var (
	version = "0.1.0-dev"
	commit  = ""
	date    = ""
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

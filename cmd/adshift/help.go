package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
)

// runHelp is adshift help [COMMAND [SUBCOMMAND]]: the general usage, or a
// command's own -h.
func runHelp(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stdout)
		return exitOK
	}
	if _, ok := commands[args[0]]; !ok && args[0] != "help" {
		fmt.Fprintf(stderr, "Error: no help for %q: there is no such command%s\n\n", args[0], didYouMean(args[0], visibleCommands()))
		usage(stderr)
		return exitError
	}
	if args[0] == "help" {
		fmt.Fprintf(stdout, "Usage: adshift help [COMMAND [SUBCOMMAND]]\n\n%s.\n", synopses["help"])
		return exitOK
	}
	return run(append(append([]string{}, args...), "-h"), stdin, stdout, stderr)
}

// didYouMean returns ` Did you mean "x"?` for the closest of names to
// got, or "" when none is close.
func didYouMean(got string, names []string) string {
	best, bestDist := "", 3
	for _, n := range names {
		if d := levenshtein.Distance(got, n, nil); d < bestDist {
			best, bestDist = n, d
		}
	}
	if best == "" {
		// A unique prefix: "val" for validate.
		for _, n := range names {
			if len(got) >= 2 && strings.HasPrefix(n, got) {
				if best != "" {
					return ""
				}
				best = n
			}
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(". Did you mean %q?", best)
}

// extraArgs reports arguments beyond the max a command takes, as a
// diagnostic; it returns nil when there are none.
func extraArgs(fs *flag.FlagSet, max int, what string) hcl.Diagnostics {
	if fs.NArg() <= max {
		return nil
	}
	stray := fs.Args()[max:]
	detail := fmt.Sprintf("adshift %s takes %s. Run adshift help %s for its usage.", fs.Name(), what, strings.Fields(fs.Name())[0])
	for _, a := range stray {
		if strings.HasPrefix(a, "-") {
			detail = fmt.Sprintf("Options go before arguments: %s came after %q. ", a, fs.Arg(0)) + detail
			break
		}
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Unexpected argument",
		Detail:   fmt.Sprintf("%q is not expected here. %s", stray[0], detail),
	}}
}

// oneArg checks that a command got exactly one argument, reporting a
// missing one with the usage line and extra ones as extraArgs does.
func (m *meta) oneArg(fs *flag.FlagSet, usageLine, what string) bool {
	if fs.NArg() == 0 {
		fmt.Fprintf(m.stderr, "Usage: adshift %s\n", usageLine)
		return false
	}
	if d := extraArgs(fs, 1, "one argument, "+what); d != nil {
		m.view.Diagnostics(d)
		return false
	}
	return true
}

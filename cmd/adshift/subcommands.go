package main

import (
	"fmt"
	"io"

	"github.com/adshift/adshift/config"
)

// subcommand runs one subcommand of a command group (state, workspace);
// its usage line is in usages under "GROUP NAME".
type subcommand func(m *meta, args []string) int

// usages are the subcommands' usage lines (apart from the subcommand maps,
// which the subcommands read them from: one map would be an
// initialization cycle).
var usages = map[string]string{
	"state list":       "state list [ADDRESS-PREFIX...]",
	"state show":       "state show ADDRESS",
	"state pull":       "state pull",
	"state push":       "state push [options] FILE",
	"state rm":         "state rm [options] ADDRESS...",
	"state mv":         "state mv [options] SOURCE DESTINATION",
	"workspace list":   "workspace list",
	"workspace show":   "workspace show",
	"workspace new":    "workspace new NAME",
	"workspace select": "workspace select NAME",
	"workspace delete": "workspace delete [options] NAME",
}

// groupUsage lists a group's subcommands: their usage lines, the group's
// synopsis, and each subcommand's synopsis.
func groupUsage(w io.Writer, group string, subs map[string]subcommand) {
	for i, name := range config.SortedNames(subs) {
		prefix := "Usage: adshift "
		if i > 0 {
			prefix = "       adshift "
		}
		fmt.Fprintf(w, "%s%s\n", prefix, usages[group+" "+name])
	}
	fmt.Fprintf(w, "\n%s.\n\nSubcommands:\n", synopses[group])
	for _, name := range config.SortedNames(subs) {
		fmt.Fprintf(w, "  %-6s  %s\n", name, synopses[group+" "+name])
	}
}

// runGroup runs the subcommand args[0] of group; -h lists them, and an
// unknown one is an error with a suggestion.
func runGroup(m *meta, group string, subs map[string]subcommand, args []string) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		groupUsage(m.stdout, group, subs)
		return exitOK
	}
	if len(args) == 0 {
		groupUsage(m.stderr, group, subs)
		return exitError
	}
	sub, ok := subs[args[0]]
	if !ok {
		fmt.Fprintf(m.stderr, "Error: unknown %s subcommand %q%s\n\n", group, args[0], didYouMean(args[0], config.SortedNames(subs)))
		groupUsage(m.stderr, group, subs)
		return exitError
	}
	return sub(m, args[1:])
}

// Package config loads an adshift configuration: every *.hcl file of one
// directory, decoded into plain Go structs that keep their source ranges, and
// checked for everything that can be known without a provider: block and
// argument names, literal types, allowed values, references between blocks,
// variables and locals.
//
// Expressions that depend on directory data (template attributes over
// source.*, device filters) stay hcl.Expression; the planner evaluates them
// per object with a Scope built here. config never touches the network,
// providers or state.
//
// Every problem is an hcl.Diagnostic with a Summary, a Detail that says how
// to fix it, and a Subject range. Decoding goes on after an error so a user
// sees all problems at once.
package config

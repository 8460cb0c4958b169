// Package planner turns a configuration, the discovered directories and
// state into a plan, and carries a plan out.
//
// Plan reads both sides of every workflow through providers (concurrently),
// matches source objects to target objects by state identity and then by the
// workflow's ordered match rules (ambiguous and unmatched objects are
// reported, never guessed), stages target objects by evaluating each
// template once per object against that object only, diffs them against the
// target (create, attribute-level update, move, delete only when asked),
// plans the OUs new objects need and group memberships as add/remove deltas,
// and checks each cutover device's readiness from directory data.
//
// Apply walks a plan's changes in dependency order (OUs, users, groups,
// memberships, devices) with parallelism bounded in exactly one place, and
// records each completed change in state before the next is counted.
//
// The planner never prints: it reports progress through Hooks, which views
// implement.
package planner

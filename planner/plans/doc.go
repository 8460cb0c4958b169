// Package plans holds the plan as plain data: what adshift will create,
// change, move or delete in a target directory, which objects matched, and
// which devices a cutover will move and what blocks each one. The planner
// produces a Plan, views render it, the plan-file codec saves and loads it,
// and apply carries it out; none of them depend on each other through it.
package plans

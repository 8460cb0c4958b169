//go:build race

package reacl

// raceEnabled: the race detector adds allocations of its own, so
// allocation bounds are checked only without it.
const raceEnabled = true

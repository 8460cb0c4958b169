//go:build !race

package reacl

const raceEnabled = false

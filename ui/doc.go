// Package ui renders what the planner produces — plans, diagnostics,
// progress events, state — for people (text, optionally coloured with
// fatih/color) and for machines (JSON documents and JSON lines carrying a
// format_version). It decides nothing: it only shows what it is given.
package ui

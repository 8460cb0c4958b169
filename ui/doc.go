// Package ui renders what the planner produces — plans, diagnostics,
// progress events, state — for people (text, optionally coloured with
// fatih/color), for change boards (a Markdown review that fits a merge
// request comment, and a self-contained HTML review page: html.go with
// review.css and review.js embedded) and for machines (JSON documents and
// JSON lines in the published format of docs/json-format.md, whose types
// are in jsonformat.go and whose schemas are docs/schema/*.json). It
// decides nothing: it only shows what it is given.
package ui

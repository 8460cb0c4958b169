// Package ldifcheck is a small, strict LDIF (RFC 2849) reader used only by
// the bench tests to check what bench/ldifwrite and bench/estate produce:
// it unfolds lines, decodes base64 values, skips comments and a
// "changetype: add" line, and enforces the physical line width.
//
// It is deliberately independent of providers/ldif (the product's reader),
// so a bug shared by writer and product reader cannot hide here.
package ldifcheck

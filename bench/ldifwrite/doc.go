// Package ldifwrite writes LDIF (RFC 2849) the way Active Directory tools
// export it: records streamed one at a time, values that are not safe strings
// (non-ASCII, leading space, colon or less-than, trailing space, control
// characters) base64-encoded with "::", binary attributes such as objectGUID
// always base64, and physical lines folded at 76 columns.
//
// It owns only the encoding. What goes into an estate is decided by
// bench/estate; reading LDIF is the job of providers/ldif.
package ldifwrite

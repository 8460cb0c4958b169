// Package wire speaks the part of LDAPv3 (RFC 4511) that directory
// discovery needs — simple bind, StartTLS, and searches with controls such
// as paged results (RFC 2696) — and decodes search results in place.
//
// go-ldap decodes every BER element of a response into its own heap object
// before handing out an entry; for a bulk read of a directory that is most
// of the client's CPU. Here an entry's DN, attribute names and values are
// slices of one reused message buffer, valid during the callback that
// receives them, so reading a directory allocates only what the caller
// keeps. Requests are sent one at a time on a connection.
//
// The package knows nothing of Active Directory and does not import
// go-ldap: providers/ad compiles filters and maps result codes to messages.
// A malformed or hostile response is an error naming what was wrong, never
// a panic and never an unbounded allocation (MaxMessageSize).
package wire

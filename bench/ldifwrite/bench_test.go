package ldifwrite_test

import (
	"io"
	"testing"

	"github.com/adshift/adshift/bench/ldifwrite"
)

// BenchmarkWriter writes user-sized records: plain values, a base64 value,
// binary GUID/SID and a value long enough to fold.
func BenchmarkWriter(b *testing.B) {
	guid := make([]byte, 16)
	sid := make([]byte, 28)
	long := "CN=Some Rather Long Group Name For Folding,OU=Engineering,OU=Groups,OU=Corp,DC=source,DC=test"
	w := ldifwrite.NewWriter(io.Discard, ldifwrite.Options{})
	b.ReportAllocs()
	for b.Loop() {
		w.Begin("CN=Smith\\, John,OU=Finance,OU=London,OU=Staff,OU=Corp,DC=source,DC=test")
		w.Attr("objectClass", "top", "person", "organizationalPerson", "user")
		w.Attr("cn", "Smith, John")
		w.Attr("displayName", "Zoë Ågren")
		w.Attr("department", "Finance")
		w.Binary("objectGUID", guid)
		w.Binary("objectSid", sid)
		w.Attr("memberOf", long)
		w.End()
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
}

// Package reacl reads, writes and translates Windows security descriptors:
// SIDs (MS-DTYP 2.4.2), the self-relative binary SECURITY_DESCRIPTOR
// (2.4.6, what GetNamedSecurityInfo returns and what AD keeps in
// nTSecurityDescriptor) and SDDL (2.5.1). It is the core of ReACL: after a
// device moves to the target domain, the same people must keep the same
// access through their target-domain SIDs.
//
// The package is pure: no I/O, no logging, no imports from adshift. The
// device agent reads descriptors through the platform API, hands the bytes
// here, and writes back what it gets.
package reacl

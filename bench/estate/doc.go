// Package estate generates synthetic Active Directory estates as LDIF: the
// small hand-curated quickstart estate (examples/quickstart) and scaled,
// seeded benchmark estates of any size, each as a source domain and a
// target domain that already holds part of the source.
//
// Output is deterministic: the same options give byte-identical files, so
// committed estates can be checked against their generator. Entries are
// written in ldifde's shape (dn first, objectClass multi-valued, objectGUID
// and objectSid base64 in Microsoft's binary layout, uSNChanged,
// whenCreated) through bench/ldifwrite, streamed: no estate is held in
// memory, every object is derived from its index on demand.
//
// The package only generates data. Reading it is the job of providers/ldif;
// the benchmark configuration and the command line live in bench/genestate.
package estate

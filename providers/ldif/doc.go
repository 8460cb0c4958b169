// Package ldif reads and writes LDIF (RFC 2849) and implements adshift's
// embedded default provider, which keeps a directory as an LDIF snapshot
// file: an export written by "ldifde -f" or "ldapsearch -LLL" can be
// planned against offline, and applying to it writes an LDIF change file
// that ldapmodify can import into the real directory.
//
// # Format
//
// Reader streams records one at a time (bufio; never the whole file). It
// accepts "version: 1", comments (also folded), folded lines, base64 values
// ("::"), attribute options kept as written ("member;range=0-1499",
// "userCertificate;binary"), multi-valued attributes (also when an
// attribute reappears further down a record), CRLF line ends, any number
// of blank lines between records, and change records
// (changetype add, delete, modify with add/replace/delete/increment and
// "-", modrdn and moddn, control lines). ldifde writes "changetype: add" on
// every exported entry; Record.IsEntry treats such records as entries.
// URL values (":<") are refused unless ReaderOptions.AllowFileURLs is set;
// then only file:///absolute and file:relative URLs (relative to BaseDir)
// naming regular files are read, bounded by MaxLineBytes. The provider
// allows them for snapshots, relative to the snapshot's directory. Every
// error is an *Error naming file:line and saying what to do.
//
// Encoding: UTF-8, with or without a byte order mark, and UTF-16LE or
// UTF-16BE with one, which is what "ldifde -u" writes; UTF-16 is decoded
// to UTF-8 as it streams (encoding.go), so line numbers, limits and errors
// are those of the text. Anything else is an error at its line that names
// it and says how to convert or re-export: UTF-32 (by its byte order
// mark), UTF-16 or UTF-32 without one (by the NUL bytes beside the ASCII
// that starts every LDIF file), damaged UTF-16 (a lone surrogate, an odd
// length), a line that is not valid UTF-8 (a legacy code page such as
// Windows-1252), and a NUL byte in a line (RFC 2849 text cannot hold one;
// binary values are base64). A snapshot folded after Apply is UTF-8.
//
// Writer base64-encodes every value that is not a SAFE-STRING (leading
// space, ':' or '<', trailing space, non-ASCII, NUL, CR, LF), folds lines
// at 76 columns and ends records with a blank line. Its output is checked
// with OpenLDAP's own parser ("ldapmodify -n") in the tests.
//
// objectGUID, objectSid and sIDHistory are binary in LDIF; DecodeIdentity
// gives their string forms (package adid: GUIDs as AD tools show them,
// SIDs as MS-DTYP writes them) and accepts values already in string form
// (GUIDs also in braces); EncodeIdentity goes back.
//
// # Provider
//
// New returns the provider. Its configuration is "file" (the snapshot,
// required) and "changes_file" (default: the snapshot name with ".ldif"
// replaced by ".changes.ldif"); relative paths are relative to the working
// directory, which the host sets to the configuration directory.
//
// Configure is cheap: it checks that the snapshot is a readable regular
// file whose first record is an entry with a valid DN, and reports
// problems as diagnostics on "file". It loads the snapshot only when a
// journal of a killed apply is waiting (see below). Discover, when no
// snapshot is loaded in the process (the plan path), reads the file in one
// streaming pass and hands batches to the host as entries are read; the
// Reader keeps only the values of attributes Discover reports (plus
// objectClass, objectGUID, objectSid and uSNChanged), checks the others
// without keeping them (base64 and file URLs fail as when loading), keeps
// values in shared blocks, and Discover scopes and finds duplicate entries
// by DN key, without a parse tree per entry. Objects and errors are those
// of the loaded path (TestDiscover_streamMatchesLoaded,
// TestDiscover_streamErrors, FuzzDiscover); errors further down the file
// come out of Discover, naming file:line, possibly after some batches were
// emitted. An entry without uSNChanged, whose token hashes all of it, is
// read again in full from the file, and filtering stops for the rest of
// such an export. A journal found by Discover is replayed by loading, as by
// Configure. Apply loads the snapshot when it first needs it, and Discover
// walks the loaded snapshot from then on.
//
// Discover classifies entries by objectClass (computer before user, since
// computers are users; foreignSecurityPrincipal, group, contact, user or
// inetOrgPerson, organizationalUnit; anything else is skipped), keeps the
// subtree of BaseDN, within any IncludeOUs and outside every ExcludeOUs,
// comparing DNs case-insensitively with package dn. OUs in scope are always
// returned. Attribute names are lower-cased; ";range=" and ";binary"
// options are dropped so ranged values merge. Token is uSNChanged, or a
// hash of the content when the export has none.
//
// Apply changes the in-memory snapshot and makes every change durable
// before its Result is emitted:
//
//  1. Changes waiting on the channel are taken as one batch (group commit).
//     Each is validated and applied in memory; LDAP semantics hold (adding a
//     present value or deleting a missing one is an error) except for
//     "member", where both are no-ops, so membership changes are idempotent.
//  2. The batch's records for ldapmodify are appended to the changes file
//     (with a "version: 1" header when the file is new, and a comment with
//     the time once per Apply call), and the file is fsynced.
//  3. The batch's exact effects (with the generated objectGUID, objectSid,
//     uSNChanged) are appended to <file>.journal, followed by a marker line
//     carrying the changes file's size, and the journal is fsynced. The
//     journal's first line, synced before anything else, names the
//     snapshot generation and the changes file's size at the start.
//  4. The Results are emitted.
//
// When the input channel closes, the snapshot is folded: written to a
// temporary file in the same directory (first line "# adshift-ldif
// generation N"), fsynced, renamed over the snapshot, the directory
// fsynced, and the journal removed. When Configure (or the first use)
// finds a journal, a previous apply was killed: the batches up to the last
// complete marker are replayed, the changes file is cut back to the size
// that marker recorded (dropping a batch that never committed and whose
// results were never reported), and the result is folded. A journal whose
// generation is older than the snapshot's is the leftover of a completed
// fold and is removed without replay. So a killed apply loses no change
// that was reported and duplicates none, in the snapshot or in the changes
// file (TestApply_killed SIGKILLs a provider process midway;
// TestRecover_tornJournal cuts the journal at every byte).
//
// Created objects get a random objectGUID; users, groups and computers get
// an objectSid made of the domain SID (the domain root's objectSid, else
// the prefix shared by most existing principals, else one derived from the
// naming context) and the next free RID (at least 1104). uSNCreated and
// uSNChanged come from a counter above the highest USN in the snapshot.
// The changes file never carries these directory-maintained attributes.
//
// Password attributes (unicodePwd, userPassword, ...) are write-only, as in
// AD: they go to the changes file, which ldapmodify needs and which is
// created with mode 0600, but never into the snapshot, the journal or a
// message.
//
// Moving an OU moves its subtree. As in AD, link values (member, memberOf,
// manager, managedBy, directReports, seeAlso) follow a moved object and
// disappear with a deleted one; the changes file carries no records for
// that, since AD maintains links itself. TestLab_importChanges (with
// ADSHIFT_LAB=1) imports a changes file into the lab's Samba DC with
// ldapmodify, exports the result with ldapsearch and compares it with the
// snapshot.
//
// Test knob: the environment variable ADSHIFT_LDIF_APPLY_DELAY (a Go
// duration such as "200ms") makes Apply sleep before each change and
// commit changes one at a time, so that CLI tests can SIGKILL an apply
// midway. It is for tests only.
//
// # Performance and fuzzing
//
// Measured on the shared 2-core machine while the whole team was building
// (load average 9-20, so wall times mostly measured the neighbours; CPU
// time, including GC, is reported): parsing an ldifde-style export of
// 100,000 users runs at 170,000-245,000 entries per CPU-second
// (BenchmarkReader; 121,000 entries/s wall at load 9); loading and
// discovering all of it cost 1.8-2.3 CPU-seconds, about half of it
// loading, a quarter GC (BenchmarkConfigureDiscover, before Discover
// streamed; streamed, 0.8 CPU-seconds and a third of the allocations). BenchmarkPlanEstate runs Configure and Discover as adshift
// plan does on the 100,000-object estate of bench/genestate (118 MB,
// ldifde shape, the planner's 19 attributes, OU=Corp without the kiosks):
// with the snapshot loaded by Configure this cost 2.6-2.9 CPU-seconds,
// 4.64 million allocations and 539 MB allocated per run, and the host got
// its first objects after 2.0-2.3 CPU-seconds; streamed, 1.0-1.2
// CPU-seconds, 0.92 million allocations, 220 MB, first objects after
// 0.015-0.023 CPU-seconds (both measured back to back at load 5-7; the
// loaded path measured 2.1-2.4 at a quieter moment); 10,000 creates in one
// Apply, with journal, changes file and fold, cost about 0.35
// CPU-seconds (BenchmarkApplyCreate). An fsync on this disk takes ~1.4 ms;
// Apply needs two per batch, and batches take every change already
// waiting (up to 256).
//
// FuzzReader (parse; errors must be *Error; whatever parses must survive
// Writer and Reader again unchanged) ran for 25 minutes with -parallel 1
// (2,446,231 executions, 363 new corpus entries, kept in
// testdata/fuzz/FuzzReader) and found nothing. FuzzConfigure (arbitrary
// snapshot and journal files: no panic; a load survives fold and reload
// unchanged) ran for 6 minutes (7,556 executions, each with file I/O and
// fsyncs; 64 corpus entries) and found nothing. FuzzDiscover (any snapshot
// Configure accepts: streamed and loaded Discover give the same objects or
// the same *Error, under four scopes) ran 13,705 coverage-guided
// executions (103 corpus entries kept) and 70,392 unguided ones and found
// nothing.
package ldif

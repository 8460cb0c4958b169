// Command genestate writes synthetic Active Directory estates as LDIF.
//
//	go run ./bench/genestate -objects 100000 -out DIR
//
// writes DIR/source.ldif, DIR/target.ldif and DIR/main.hcl, a benchmark
// configuration that plans a migration between them (bench/plan.sh times
// `adshift plan` on it).
//
//	go run ./bench/genestate -quickstart -out examples/quickstart
//
// regenerates the quickstart estate (source.ldif and target.ldif only).
// Output is deterministic; files are replaced atomically.
package main

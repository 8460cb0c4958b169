// Package providers holds the contract between adshift's planner and its
// providers (the Provider interface and the plain Go types that cross it),
// and the plugin transport that carries that contract between processes
// over hashicorp/go-plugin and gRPC.
//
// Providers receive already-evaluated values (cty), never HCL bodies; the
// protobuf types stay in providers/proto and one conversion file.
package providers

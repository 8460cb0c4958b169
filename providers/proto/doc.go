// Package proto holds the adshift provider protocol (provider.proto,
// package adshift.provider.v1) and the code protoc generates from it.
//
// Only providers/convert.go turns these types into the Go types of package
// providers; nothing else in adshift should import this package.
package proto

//go:generate protoc --proto_path=. --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative provider.proto

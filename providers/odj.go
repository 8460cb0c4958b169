package providers

import (
	"context"
	"errors"
)

// ErrUnsupported is wrapped by the error of an optional call the provider
// does not implement (a plugin answering Unimplemented).
var ErrUnsupported = errors.New("not supported by the provider")

// OfflineJoinProvisioner is implemented by directory providers that can
// provision offline domain join blobs (the ad provider). It is optional: a
// caller checks for it with a type assertion. The machine password is made
// and used inside the provider and leaves it only inside the blob file it
// writes: no request, result or error carries it.
//
// Over the plugin transport the host's client always has the method; a
// plugin that does not implement it answers with an error wrapping
// ErrUnsupported. The blob file is written by the plugin process.
type OfflineJoinProvisioner interface {
	// ProvisionOfflineJoin pre-stages (or, with Reuse, takes over) the
	// computer account, sets a fresh random machine password, and writes
	// the ODJ blob file. Call it after Configure.
	ProvisionOfflineJoin(ctx context.Context, req OfflineJoinRequest) (OfflineJoinResult, error)
}

// OfflineJoinRequest says which computer to provision and where the blob goes.
type OfflineJoinRequest struct {
	// Computer is the computer's NetBIOS name (sAMAccountName without "$"),
	// at most 15 characters.
	Computer string
	// OU is the DN of the container a new account is created in.
	OU string
	// Dir is the directory the blob file is written into; it is created
	// (owner-only) when missing.
	Dir string
	// FileName is the blob file's name; empty means Computer + ".odj".
	FileName string
	// Reuse allows taking over an existing account of that name (its
	// password is reset, so a device already joined with it loses its
	// trust). Without it an existing account is an error.
	Reuse bool
}

// OfflineJoinResult describes the account and the file written. It holds
// no secret.
type OfflineJoinResult struct {
	// DN, GUID and SID identify the computer account.
	DN, GUID, SID string
	// Created is false when an existing account was reused.
	Created bool
	// Path is the blob file written (mode 0600).
	Path string
	// DC is the host name of the domain controller written into the blob.
	DC string
}

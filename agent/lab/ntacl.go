package lab

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// NTACLXattr is the extended attribute in which Samba's file server keeps
// a file's Windows security descriptor.
const NTACLXattr = "security.NTACL"

// ErrInvalidNTACL reports a security.NTACL value that is not an NDR
// xattr_NTACL this package reads.
var ErrInvalidNTACL = errors.New("invalid security.NTACL")

// NTACL is a decoded security.NTACL value: Samba's NDR xattr_NTACL
// (librpc/idl/xattr.idl), a version number and a union:
//
//	1  security_descriptor *sd            (ntvfs, samba-tool --use-ntvfs)
//	2  security_descriptor_hash_v2 *:     sd*, hash[16] (never used)
//	3  security_descriptor_hash_v3 *:     sd*, hash_type u16, hash[64]
//	4  security_descriptor_hash_v4 *:     sd*, hash_type u16, hash[64],
//	   description (UTF-8, NUL-terminated), NTTIME, sys_acl_hash[64]
//
// Unique pointers are a 4-byte non-zero referent; the descriptor they
// point to is deferred to the end of the blob, 4-aligned, and its four
// component offsets count from the start of the blob, not of the
// descriptor (NDR relative pointers without a relative base).
//
// The hashes of versions 3 and 4 are not hashes of the stored
// descriptor: smbd's vfs_acl_common hashes the descriptor it maps from
// the file's POSIX owner, mode and ACL (hash) and the POSIX ACL blob
// itself (sys_acl_hash), and trusts the stored descriptor while those
// still match, i.e. while nobody changed the POSIX side behind Samba's
// back. Replacing the stored descriptor leaves the POSIX side alone, so
// the hashes stay valid and Encode keeps them, with the description and
// timestamp, byte for byte: that is what Samba itself would store, and
// recomputing them from the new descriptor would make smbd distrust it.
type NTACL struct {
	// Version is 1 to 4.
	Version uint16
	// SD is the self-relative security descriptor, its offsets counted
	// from its own start (as reacl reads it).
	SD []byte
	// head is the blob before the descriptor (version, union and hash
	// fields), kept verbatim.
	head []byte
}

// NTACL versions this package writes for new items: version 1, what
// samba-tool ntacl set --use-ntvfs --xattr-backend=native stores.
const newNTACLVersion = 1

// NewNTACL returns a version 1 NTACL holding the self-relative
// descriptor sd (not copied).
func NewNTACL(sd []byte) *NTACL {
	// version, union level, referent of the descriptor pointer.
	head := []byte{newNTACLVersion, 0, newNTACLVersion, 0, 0, 0, 2, 0}
	return &NTACL{Version: newNTACLVersion, SD: sd, head: head}
}

// sdHeader is the fixed part of a self-relative descriptor: revision,
// Sbz1, control, then the owner, group, SACL and DACL offsets.
const sdHeader = 20

// DecodeNTACL decodes a security.NTACL value. It checks the NDR framing
// strictly (known version, union level equal to it, non-null pointers,
// zero padding, a NUL-terminated description, descriptor offsets inside
// the blob); the descriptor's own contents are left to reacl, which
// parses it anyway. The returned SD shares no memory with b.
func DecodeNTACL(b []byte) (*NTACL, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("%w: %d bytes, too short for a header", ErrInvalidNTACL, len(b))
	}
	version := binary.LittleEndian.Uint16(b)
	if level := binary.LittleEndian.Uint16(b[2:]); level != version {
		return nil, fmt.Errorf("%w: version %d but union level %d", ErrInvalidNTACL, version, level)
	}
	if binary.LittleEndian.Uint32(b[4:]) == 0 {
		return nil, fmt.Errorf("%w: version %d holds no descriptor (null pointer)", ErrInvalidNTACL, version)
	}
	var sdAt int
	switch version {
	case 1:
		sdAt = 8
	case 2, 3, 4:
		// The hash structure: the descriptor pointer first.
		if len(b) < 12 {
			return nil, fmt.Errorf("%w: version %d: %d bytes, too short", ErrInvalidNTACL, version, len(b))
		}
		if binary.LittleEndian.Uint32(b[8:]) == 0 {
			return nil, fmt.Errorf("%w: version %d holds no descriptor (null pointer)", ErrInvalidNTACL, version)
		}
		var err error
		if sdAt, err = hashEnd(b, version); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: unknown version %d (want 1 to 4)", ErrInvalidNTACL, version)
	}
	if len(b)-sdAt < sdHeader {
		return nil, fmt.Errorf("%w: version %d: descriptor of %d bytes at offset %d, need at least %d",
			ErrInvalidNTACL, version, max(len(b)-sdAt, 0), sdAt, sdHeader)
	}
	sd := append([]byte(nil), b[sdAt:]...)
	for i := range 4 {
		at := 4 + 4*i
		o := binary.LittleEndian.Uint32(sd[at:])
		if o == 0 {
			continue
		}
		if uint64(o) < uint64(sdAt+sdHeader) || uint64(o) >= uint64(len(b)) {
			return nil, fmt.Errorf("%w: version %d: %s offset %d outside the descriptor (bytes %d to %d)",
				ErrInvalidNTACL, version, sdComponent[i], o, sdAt+sdHeader, len(b))
		}
		binary.LittleEndian.PutUint32(sd[at:], o-uint32(sdAt))
	}
	return &NTACL{Version: version, SD: sd, head: append([]byte(nil), b[:sdAt]...)}, nil
}

var sdComponent = [4]string{"owner", "group", "SACL", "DACL"}

// hashEnd checks the hash structure of versions 2 to 4 (from offset 12,
// after its descriptor pointer) and returns where the descriptor starts.
func hashEnd(b []byte, version uint16) (int, error) {
	short := func(what string) error {
		return fmt.Errorf("%w: version %d: %d bytes end inside the %s", ErrInvalidNTACL, version, len(b), what)
	}
	p := 12
	switch version {
	case 2:
		p += 16 // hash[16]
	case 3, 4:
		p += 2 + 64 // hash_type, hash[64]
	}
	if len(b) < p {
		return 0, short("hash")
	}
	if version == 4 {
		nul := -1
		for i := p; i < len(b); i++ {
			if b[i] == 0 {
				nul = i
				break
			}
		}
		if nul < 0 {
			return 0, short("description")
		}
		p = nul + 1
		var err error
		if p, err = pad4(b, p, version); err != nil {
			return 0, err
		}
		p += 8 + 64 // NTTIME, sys_acl_hash[64]
		if len(b) < p {
			return 0, short("timestamp and system ACL hash")
		}
	}
	return pad4(b, p, version)
}

// pad4 checks NDR alignment padding from p to the next multiple of 4 (it
// must be present and zero) and returns the aligned offset.
func pad4(b []byte, p int, version uint16) (int, error) {
	for ; p%4 != 0; p++ {
		if p >= len(b) {
			return 0, fmt.Errorf("%w: version %d: %d bytes end inside alignment padding", ErrInvalidNTACL, version, len(b))
		}
		if b[p] != 0 {
			return 0, fmt.Errorf("%w: version %d: non-zero padding byte at offset %d", ErrInvalidNTACL, version, p)
		}
	}
	return p, nil
}

// Encode returns the xattr value: the version and hash fields as decoded
// (or version 1's for NewNTACL), then SD with its offsets counted from the
// start of the blob. Decoding a value and encoding it unchanged gives
// the same bytes. A zero NTACL with Version 1 encodes as NewNTACL would.
// It fails when SD is shorter than a descriptor header, or for another
// version not made by DecodeNTACL (its hash fields are unknown).
func (n *NTACL) Encode() ([]byte, error) {
	return n.AppendEncode(nil)
}

// AppendEncode appends the encoded value to dst (see Encode).
func (n *NTACL) AppendEncode(dst []byte) ([]byte, error) {
	if len(n.SD) < sdHeader {
		return dst, fmt.Errorf("encode NTACL: descriptor of %d bytes, need at least %d", len(n.SD), sdHeader)
	}
	head := n.head
	if head == nil {
		if n.Version != newNTACLVersion {
			return dst, fmt.Errorf("encode NTACL: version %d without its hash fields (decode a value or use NewNTACL)", n.Version)
		}
		head = NewNTACL(nil).head
	}
	base := len(head)
	start := len(dst)
	dst = append(dst, head...)
	dst = append(dst, n.SD...)
	for i := range 4 {
		at := start + base + 4 + 4*i
		if o := binary.LittleEndian.Uint32(dst[at:]); o != 0 {
			binary.LittleEndian.PutUint32(dst[at:], o+uint32(base))
		}
	}
	return dst, nil
}

// WithSD returns a copy of n holding sd instead, in the same version with
// the same hash fields (see the type's doc for why they stay).
func (n *NTACL) WithSD(sd []byte) *NTACL {
	return &NTACL{Version: n.Version, SD: sd, head: n.head}
}

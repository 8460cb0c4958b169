package odj

import (
	"github.com/adshift/adshift/adid"
)

//go:generate stringer -type=Format -linecomment

// Format is an ODJ_BLOB's ulODJFormat: what its bytes hold.
type Format uint32

// The blob formats of ODJ_PROVISION_DATA.
const (
	// FormatWin7 is an ODJ_WIN7BLOB (Windows 7 and later read it).
	FormatWin7 Format = 1 // Windows 7 blob
	// FormatWin8 is an OP_PACKAGE: a collection of provider parts
	// (Windows 8 and later).
	FormatWin8 Format = 2 // Windows 8 package
)

// Part types of an OP_PACKAGE part collection (the provider GUIDs of the
// ODJ IDL).
var (
	// PartJoinProvider holds an ODJ_WIN7BLOB.
	PartJoinProvider = mustGUID("631c7621-5289-4321-bc9e-80f843f868c3")
	// PartJoinProvider2 holds an OP_JOINPROV2_PART (carried as raw bytes).
	PartJoinProvider2 = mustGUID("57bfc56b-52f9-480c-adcb-91b3f8a82317")
	// PartJoinProvider3 holds an OP_JOINPROV3_PART: the account's RID and SID.
	PartJoinProvider3 = mustGUID("fc0ccf25-7ffa-474a-8611-69ffe269645f")
	// PartCertProvider holds an OP_CERT_PART (carried as raw bytes).
	PartCertProvider = mustGUID("9c0971e9-832f-4873-8e87-ef1419d4781e")
	// PartPolicyProvider holds an OP_POLICY_PART (carried as raw bytes).
	PartPolicyProvider = mustGUID("68fb602a-0c09-48ce-b75f-07b7bd58f7ec")
)

// PartEssential is the OP_PACKAGE_PART flag OPSPI_PACKAGE_PART_ESSENTIAL:
// the join fails if the device cannot apply the part.
const PartEssential uint32 = 1

// DefaultOptions is the ODJ_WIN7BLOB Options value Windows Server 2019 and
// Samba write (the documentation says 0).
const DefaultOptions uint32 = 6

// DefaultReserved is what Windows expects in ODJ_WIN7BLOB's four bytes
// after the machine password (Samba's "_pad"); zero is refused by Windows.
const DefaultReserved uint32 = 0xffffffff

// DC flags of DOMAIN_CONTROLLER_INFO (netr_DsR_DcFlags) that a writable
// domain controller of a single-domain forest carries.
const (
	DCFlagPDC              uint32 = 0x00000001
	DCFlagGC               uint32 = 0x00000004
	DCFlagLDAP             uint32 = 0x00000008
	DCFlagDS               uint32 = 0x00000010
	DCFlagKDC              uint32 = 0x00000020
	DCFlagTimeServ         uint32 = 0x00000040
	DCFlagClosest          uint32 = 0x00000080
	DCFlagWritable         uint32 = 0x00000100
	DCFlagGoodTimeServ     uint32 = 0x00000200
	DCFlagFullSecretDomain uint32 = 0x00001000
	DCFlagDNSController    uint32 = 0x20000000
	DCFlagDNSDomain        uint32 = 0x40000000
	DCFlagDNSForestRoot    uint32 = 0x80000000
)

// AddressTypeInet is DOMAIN_CONTROLLER_INFO's DcAddressType for an IP
// address (DS_INET_ADDRESS).
const AddressTypeInet uint32 = 1

// ProvisionData is ODJ_PROVISION_DATA: what djoin /savefile and net
// offlinejoin provision write, base64 encoded (see ReadFile). Version is
// always 1 on the wire.
type ProvisionData struct {
	Blobs []Blob
}

// Blob is one ODJ_BLOB. Exactly one of Win7, Package and Raw is set,
// according to Format: Win7 for FormatWin7, Package for FormatWin8, Raw
// (the blob's bytes, carried intact) for any other format.
type Blob struct {
	Format  Format
	Win7    *Win7Blob
	Package *Package
	Raw     []byte
}

// Win7Blob is ODJ_WIN7BLOB: the account, its password and the domain and
// domain controller facts a device needs to join offline.
type Win7Blob struct {
	// Domain is the domain's DNS name (lpDomain).
	Domain string
	// MachineName is the computer's name without the trailing "$".
	MachineName string
	// MachinePassword is the account's password; it never prints.
	MachinePassword Secret
	// Reserved is the 32-bit value after the password; see DefaultReserved.
	Reserved uint32
	// DNSDomain is ODJ_POLICY_DNS_DOMAIN_INFO.
	DNSDomain DNSDomainInfo
	// DC is DOMAIN_CONTROLLER_INFOW (netr_DsRGetDCNameInfo).
	DC DCInfo
	// Options; see DefaultOptions.
	Options uint32
}

// DNSDomainInfo is ODJ_POLICY_DNS_DOMAIN_INFO (LSA's
// POLICY_DNS_DOMAIN_INFO). A zero SID is written as a null pointer.
type DNSDomainInfo struct {
	NetBIOSName string
	DNSName     string
	ForestName  string
	GUID        adid.GUID
	SID         adid.SID
}

// DCInfo is DOMAIN_CONTROLLER_INFOW, as DsGetDcName returns it. Empty
// strings are written as null pointers.
type DCInfo struct {
	// UNC is the DC's name with a leading "\\" ("\\dc1.target.test").
	UNC string
	// Address is the DC's address with a leading "\\" ("\\127.0.0.3").
	Address     string
	AddressType uint32
	DomainGUID  adid.GUID
	DomainName  string
	ForestName  string
	Flags       uint32
	DCSiteName  string
	// ClientSiteName is the site of the joining computer.
	ClientSiteName string
}

// Package is OP_PACKAGE, the Windows 8 format: provider parts in a part
// collection. When EncryptionType is not the zero GUID the collection is
// encrypted and kept in Wrapped as it was read; otherwise it is decoded
// into Parts and CollectionExtension and Wrapped is nil.
type Package struct {
	EncryptionType    adid.GUID
	EncryptionContext []byte
	Parts             []Part
	// CollectionExtension is the part collection's Extension blob.
	CollectionExtension []byte
	// Wrapped is an encrypted WrappedPartCollection, carried intact.
	Wrapped []byte
	// DecryptedSize is cbDecryptedPartCollection (0 when not encrypted).
	DecryptedSize uint32
	Extension     []byte
}

// Part is one OP_PACKAGE_PART. Win7 is set for PartJoinProvider, JoinProv3
// for PartJoinProvider3; any other type keeps its serialized bytes in Data,
// intact, byte for byte (nil Data is a null pointer).
type Part struct {
	Type      adid.GUID
	Flags     uint32
	Win7      *Win7Blob
	JoinProv3 *JoinProv3
	Data      []byte
	Extension []byte
}

// JoinProv3 is OP_JOINPROV3_PART: the computer account's RID and its SID
// in string form.
type JoinProv3 struct {
	RID uint32
	SID string
}

func mustGUID(s string) adid.GUID {
	g, err := adid.ParseGUID(s)
	if err != nil {
		panic(err)
	}
	return g
}

package odj

import (
	"errors"
	"fmt"
	"strings"
)

// Join is what New needs to provision one computer: the account, its fresh
// password and the facts of the domain and of the DC that provisioned it.
type Join struct {
	// MachineName is the computer's name (sAMAccountName without "$").
	MachineName string
	// Password is the machine password just set on the account.
	Password Secret
	// RID is the last sub-authority of the account's objectSid.
	RID uint32
	// Domain holds the domain's NetBIOS, DNS and forest names, GUID and SID.
	Domain DNSDomainInfo
	// DC is the domain controller the device will first talk to.
	DC DCInfo
}

// New returns the ProvisionData Windows Server 2019 and Samba write for j:
// an ODJ_WIN7BLOB and an OP_PACKAGE holding the same blob (essential part)
// and an OP_JOINPROV3_PART with the account's RID and SID.
func New(j Join) (*ProvisionData, error) {
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"machine name", j.MachineName}, {"NetBIOS domain name", j.Domain.NetBIOSName},
		{"DNS domain name", j.Domain.DNSName}, {"forest name", j.Domain.ForestName}, {"DC name", j.DC.UNC},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if j.Password.IsZero() {
		missing = append(missing, "machine password")
	}
	if j.Domain.SID.IsZero() {
		missing = append(missing, "domain SID")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("provision data: missing %s", strings.Join(missing, ", "))
	}
	if strings.HasSuffix(j.MachineName, "$") {
		return nil, fmt.Errorf("provision data: machine name %q: give it without the trailing $", j.MachineName)
	}
	sid, err := j.Domain.SID.Child(j.RID)
	if err != nil {
		return nil, fmt.Errorf("provision data: account SID: %w", err)
	}
	w7 := &Win7Blob{
		Domain:          j.Domain.DNSName,
		MachineName:     j.MachineName,
		MachinePassword: j.Password,
		Reserved:        DefaultReserved,
		DNSDomain:       j.Domain,
		DC:              j.DC,
		Options:         DefaultOptions,
	}
	pkg := &Package{Parts: []Part{
		{Type: PartJoinProvider, Flags: PartEssential, Win7: w7},
		{Type: PartJoinProvider3, JoinProv3: &JoinProv3{RID: j.RID, SID: sid.String()}},
	}}
	return &ProvisionData{Blobs: []Blob{
		{Format: FormatWin7, Win7: w7},
		{Format: FormatWin8, Package: pkg},
	}}, nil
}

// ErrNoWin7Blob reports provision data without an ODJ_WIN7BLOB, neither as
// a blob nor as a join provider part of an unencrypted package.
var ErrNoWin7Blob = errors.New("no ODJ_WIN7BLOB in the provision data")

// Win7 returns the first ODJ_WIN7BLOB, looking in the blobs in order and
// inside unencrypted packages, as the join code does.
func (p *ProvisionData) Win7() (*Win7Blob, error) {
	for _, b := range p.Blobs {
		if b.Win7 != nil {
			return b.Win7, nil
		}
		if b.Package != nil {
			for _, pt := range b.Package.Parts {
				if pt.Win7 != nil {
					return pt.Win7, nil
				}
			}
		}
	}
	return nil, ErrNoWin7Blob
}

// JoinProv3 returns the first OP_JOINPROV3_PART, or nil when there is none.
func (p *ProvisionData) JoinProv3() *JoinProv3 {
	for _, b := range p.Blobs {
		if b.Package != nil {
			for _, pt := range b.Package.Parts {
				if pt.JoinProv3 != nil {
					return pt.JoinProv3
				}
			}
		}
	}
	return nil
}

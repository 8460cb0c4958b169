package ui

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/adshift/adshift/odj"
	"github.com/adshift/adshift/providers"
)

// odjNode is one line of an offline domain join blob's description: a
// key with a value, or a key with children. The same tree renders as text
// and as JSON, so both show the same fields.
type odjNode struct {
	key  string
	val  any // string, number or bool; nil for a parent
	kids []odjNode
}

func leaf(key string, val any) odjNode { return odjNode{key: key, val: val} }

// rawText is a value shown as it is; a plain string value is quoted.
type rawText string

func rawf(format string, args ...any) rawText { return rawText(fmt.Sprintf(format, args...)) }

// dcFlagNames name DOMAIN_CONTROLLER_INFO's flags as DsGetDcName's
// documentation does.
var dcFlagNames = []struct {
	bit  uint32
	name string
}{
	{odj.DCFlagPDC, "PDC"}, {odj.DCFlagGC, "GC"}, {odj.DCFlagLDAP, "LDAP"}, {odj.DCFlagDS, "DS"},
	{odj.DCFlagKDC, "KDC"}, {odj.DCFlagTimeServ, "TIMESERV"}, {odj.DCFlagClosest, "CLOSEST"},
	{odj.DCFlagWritable, "WRITABLE"}, {odj.DCFlagGoodTimeServ, "GOOD_TIMESERV"},
	{odj.DCFlagFullSecretDomain, "FULL_SECRET_DOMAIN_6"}, {odj.DCFlagDNSController, "DNS_CONTROLLER"},
	{odj.DCFlagDNSDomain, "DNS_DOMAIN"}, {odj.DCFlagDNSForestRoot, "DNS_FOREST_ROOT"},
}

func dcFlags(f uint32) string {
	var names []string
	for _, n := range dcFlagNames {
		if f&n.bit != 0 {
			names = append(names, n.name)
			f &^= n.bit
		}
	}
	if f != 0 {
		names = append(names, fmt.Sprintf("%#x", f))
	}
	return strings.Join(names, ", ")
}

// win7Nodes describes an ODJ_WIN7BLOB: every field, the password only by
// its length.
func win7Nodes(w *odj.Win7Blob) []odjNode {
	d, dc := w.DNSDomain, w.DC
	return []odjNode{
		leaf("domain", w.Domain),
		leaf("machine_name", w.MachineName),
		leaf("machine_password", rawf("(sensitive, %d UTF-16 units)", w.MachinePassword.Len())),
		leaf("reserved", rawf("%#08x", w.Reserved)),
		leaf("options", rawf("%#08x", w.Options)),
		{key: "dns_domain", kids: []odjNode{
			leaf("netbios_name", d.NetBIOSName), leaf("dns_name", d.DNSName), leaf("forest_name", d.ForestName),
			leaf("guid", d.GUID.String()), leaf("sid", d.SID.String()),
		}},
		{key: "dc", kids: []odjNode{
			leaf("unc", dc.UNC), leaf("address", dc.Address), leaf("address_type", dc.AddressType),
			leaf("domain_guid", dc.DomainGUID.String()), leaf("domain_name", dc.DomainName), leaf("forest_name", dc.ForestName),
			leaf("flags", rawf("%#08x (%s)", dc.Flags, dcFlags(dc.Flags))),
			leaf("dc_site_name", dc.DCSiteName), leaf("client_site_name", dc.ClientSiteName),
		}},
	}
}

var partNames = map[string]string{
	odj.PartJoinProvider.String():   "join provider (Windows 7 blob)",
	odj.PartJoinProvider2.String():  "join provider 2",
	odj.PartJoinProvider3.String():  "join provider 3 (account)",
	odj.PartCertProvider.String():   "certificate provider",
	odj.PartPolicyProvider.String(): "policy provider",
}

func bytesLeaf(key string, b []byte) odjNode {
	if b == nil {
		return leaf(key, rawText("none"))
	}
	return leaf(key, rawf("%d bytes", len(b)))
}

// odjTree describes provision data, blob by blob and part by part.
func odjTree(p *odj.ProvisionData) []odjNode {
	var out []odjNode
	for i, b := range p.Blobs {
		n := odjNode{key: fmt.Sprintf("blob %d", i+1)}
		switch {
		case b.Win7 != nil:
			n.kids = append([]odjNode{leaf("format", rawf("%s (%d)", b.Format, b.Format))}, win7Nodes(b.Win7)...)
		case b.Package != nil:
			pk := b.Package
			n.kids = []odjNode{leaf("format", rawf("%s (%d)", b.Format, b.Format)), leaf("encryption_type", pk.EncryptionType.String()),
				bytesLeaf("encryption_context", pk.EncryptionContext)}
			if pk.Wrapped != nil {
				n.kids = append(n.kids, leaf("encrypted_parts", rawf("%d bytes (decrypted %d)", len(pk.Wrapped), pk.DecryptedSize)))
			}
			for j, pt := range pk.Parts {
				pn := odjNode{key: fmt.Sprintf("part %d", j+1), kids: []odjNode{leaf("type", pt.Type.String())}}
				if name := partNames[pt.Type.String()]; name != "" {
					pn.kids = append(pn.kids, leaf("provider", rawText(name)))
				}
				pn.kids = append(pn.kids, leaf("essential", pt.Flags&odj.PartEssential != 0))
				if pt.Flags&^odj.PartEssential != 0 {
					pn.kids = append(pn.kids, leaf("flags", rawf("%#08x", pt.Flags)))
				}
				switch {
				case pt.Win7 != nil:
					pn.kids = append(pn.kids, win7Nodes(pt.Win7)...)
				case pt.JoinProv3 != nil:
					pn.kids = append(pn.kids, leaf("rid", pt.JoinProv3.RID), leaf("sid", pt.JoinProv3.SID))
				default:
					pn.kids = append(pn.kids, bytesLeaf("data", pt.Data))
				}
				if pt.Extension != nil {
					pn.kids = append(pn.kids, bytesLeaf("extension", pt.Extension))
				}
				n.kids = append(n.kids, pn)
			}
			if pk.CollectionExtension != nil {
				n.kids = append(n.kids, bytesLeaf("collection_extension", pk.CollectionExtension))
			}
			if pk.Extension != nil {
				n.kids = append(n.kids, bytesLeaf("extension", pk.Extension))
			}
		default:
			n.kids = []odjNode{leaf("format", rawf("unknown (%d)", uint32(b.Format))), bytesLeaf("data", b.Raw)}
		}
		out = append(out, n)
	}
	return out
}

func writeNodes(w io.Writer, nodes []odjNode, indent string) {
	width := 0
	for _, n := range nodes {
		if n.kids == nil {
			width = max(width, len(n.key))
		}
	}
	for _, n := range nodes {
		if n.kids != nil {
			fmt.Fprintf(w, "%s%s {\n", indent, n.key)
			writeNodes(w, n.kids, indent+"  ")
			fmt.Fprintf(w, "%s}\n", indent)
			continue
		}
		v := n.val
		if s, ok := v.(string); ok {
			v = string(appendQuoted(nil, s))
		}
		fmt.Fprintf(w, "%s%-*s = %v\n", indent, width, n.key, v)
	}
}

// nodesJSON turns nodes into a JSON object; numbered children ("part 1",
// "part 2") become one array ("parts").
func nodesJSON(nodes []odjNode) map[string]any {
	m := make(map[string]any, len(nodes))
	for _, n := range nodes {
		if n.kids == nil {
			m[n.key] = n.val
			continue
		}
		if word, _, numbered := strings.Cut(n.key, " "); numbered {
			list, _ := m[word+"s"].([]any)
			m[word+"s"] = append(list, nodesJSON(n.kids))
			continue
		}
		m[n.key] = nodesJSON(n.kids)
	}
	return m
}

// ODJInspect prints every field of an offline domain join blob except the
// machine password, which shows only as its length.
func (v *View) ODJInspect(name string, p *odj.ProvisionData) {
	v.mu.Lock()
	defer v.mu.Unlock()
	bw := bufio.NewWriter(v.Out)
	defer bw.Flush()
	fmt.Fprintf(bw, "# %s: offline domain join provision data, %d blobs\n", name, len(p.Blobs))
	writeNodes(bw, odjTree(p), "")
}

// ODJDocument writes the inspect -json document: the same fields as
// ODJInspect, keyed "odj".
func ODJDocument(w io.Writer, name string, p *odj.ProvisionData) error {
	doc := nodesJSON(odjTree(p))
	doc["file"] = name
	if doc["blobs"] == nil {
		doc["blobs"] = []any{}
	}
	return document(w, map[string]any{"format_version": JSONFormatVersion, "odj": doc})
}

// ODJProvisioned reports a provisioned computer and its blob file.
func (v *View) ODJProvisioned(computer string, r providers.OfflineJoinResult) {
	v.mu.Lock()
	defer v.mu.Unlock()
	pal := v.palette()
	verb := "created"
	if !r.Created {
		verb = "reused, password reset"
	}
	fmt.Fprintf(v.Out, "%s offline domain join blob for %s written to %s\n", pal.add("+"), pal.bold(computer), r.Path)
	fmt.Fprintf(v.Out, "  account = %s (%s)\n  sid     = %q\n  guid    = %q\n  dc      = %q\n", string(appendQuoted(nil, r.DN)), verb, r.SID, r.GUID, r.DC)
	fmt.Fprintf(v.Out, "\nThe file holds the machine password: keep it readable only by those who join the device.\n")
}

// ODJProvisioned emits an odj_provisioned event (no secret: the result
// holds none).
func (j *JSON) ODJProvisioned(computer string, r providers.OfflineJoinResult) {
	j.emit("info", "odj_provisioned", fmt.Sprintf("%s: offline domain join blob written to %s", computer, r.Path), map[string]any{"odj": map[string]any{
		"computer": computer, "dn": r.DN, "guid": r.GUID, "sid": r.SID, "created": r.Created, "path": r.Path, "dc": r.DC,
	}})
}

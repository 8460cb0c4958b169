package odj

import (
	"fmt"
	"unicode/utf8"

	"github.com/adshift/adshift/adid"
)

// MaxSize bounds the NDR bytes Decode accepts (and ReadFile the file): a
// provisioning blob is a few kilobytes; certificate parts can add some.
const MaxSize = 16 << 20

// Decode parses ODJ_PROVISION_DATA in the serialized form djoin and Samba
// write (the type serialization of a pointer to ODJ_PROVISION_DATA, what
// ndrdump calls ODJ_PROVISION_DATA_serialized_ptr). It never panics and
// allocates at most a small multiple of len(b); any error wraps
// ErrMalformed and says where.
func Decode(b []byte) (*ProvisionData, error) {
	if len(b) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes exceed the %d-byte limit", ErrMalformed, len(b), MaxSize)
	}
	r, err := serializedReader(b)
	if err != nil {
		return nil, fmt.Errorf("provision data: %w", err)
	}
	p, err := decodeProvision(r)
	if err != nil {
		return nil, fmt.Errorf("provision data: %w", err)
	}
	if err := r.done(); err != nil {
		return nil, fmt.Errorf("provision data: %w", err)
	}
	return p, nil
}

func decodeProvision(r *reader) (*ProvisionData, error) {
	if ok, err := r.ptr(); err != nil || !ok {
		return nil, orNull(r, err, "null ODJ_PROVISION_DATA pointer")
	}
	version, err := r.u32()
	if err != nil {
		return nil, err
	}
	if version != 1 {
		return nil, r.errorf("version %d, want 1", version)
	}
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	has, err := r.ptr()
	if err != nil {
		return nil, err
	}
	if !has {
		if n != 0 {
			return nil, r.errorf("%d blobs announced behind a null pointer", n)
		}
		return &ProvisionData{}, nil
	}
	if err := arrayCount(r, n, 12); err != nil {
		return nil, err
	}
	p := &ProvisionData{Blobs: make([]Blob, n)}
	sizes := make([]uint32, n)
	present := make([]bool, n)
	for i := range p.Blobs {
		f, err := r.u32()
		if err != nil {
			return nil, err
		}
		p.Blobs[i].Format = Format(f)
		if sizes[i], err = r.u32(); err != nil {
			return nil, err
		}
		if present[i], err = r.ptr(); err != nil {
			return nil, err
		}
	}
	for i := range p.Blobs {
		if !present[i] {
			return nil, r.errorf("blob %d: null pointer", i)
		}
		data, err := r.bytesConf(sizes[i])
		if err != nil {
			return nil, fmt.Errorf("blob %d: %w", i, err)
		}
		if err := p.Blobs[i].decode(data); err != nil {
			return nil, fmt.Errorf("blob %d (format %d): %w", i, p.Blobs[i].Format, err)
		}
	}
	return p, nil
}

// arrayCount reads a conformant array's count and checks it against the
// announced number of elements and the bytes left (each at least min
// bytes), before anything is allocated for it.
func arrayCount(r *reader, want uint32, min int) error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	if n != want {
		return r.errorf("array of %d elements where its count field says %d", n, want)
	}
	if uint64(n)*uint64(min) > uint64(len(r.b)-r.off) {
		return r.errorf("%d elements of at least %d bytes announced, %d bytes left", n, min, len(r.b)-r.off)
	}
	return nil
}

func orNull(r *reader, err error, what string) error {
	if err != nil {
		return err
	}
	return r.errorf("%s", what)
}

func (b *Blob) decode(data []byte) error {
	switch b.Format {
	case FormatWin7:
		w, err := decodeWin7Serialized(data)
		b.Win7 = w
		return err
	case FormatWin8:
		r, err := serializedReader(data)
		if err != nil {
			return err
		}
		if ok, err := r.ptr(); err != nil || !ok {
			return orNull(r, err, "null OP_PACKAGE pointer")
		}
		pkg, err := decodePackage(r)
		if err != nil {
			return fmt.Errorf("package: %w", err)
		}
		b.Package = pkg
		return r.done()
	default:
		b.Raw = data
		return nil
	}
}

func decodeWin7Serialized(data []byte) (*Win7Blob, error) {
	r, err := serializedReader(data)
	if err != nil {
		return nil, err
	}
	w, err := decodeWin7(r)
	if err != nil {
		return nil, fmt.Errorf("win7 blob: %w", err)
	}
	return w, r.done()
}

// maxLSABytes is the longest LSA string: its maximum length, 2 bytes more
// for the terminator, must fit in 16 bits.
const maxLSABytes = 0xfffc

// lsaString is the scalar part of an LSA UNICODE_STRING.
type lsaString struct {
	length, size uint16
	present      bool
}

func (r *reader) lsaScalars() (lsaString, error) {
	var s lsaString
	var err error
	if s.length, err = r.u16(); err != nil {
		return s, err
	}
	if s.size, err = r.u16(); err != nil {
		return s, err
	}
	s.present, err = r.ptr()
	return s, err
}

func (r *reader) lsaBuffer(s lsaString) (string, error) {
	if !s.present {
		if s.length != 0 {
			return "", r.errorf("string of %d bytes behind a null pointer", s.length)
		}
		return "", nil
	}
	if s.length%2 != 0 || s.size%2 != 0 || s.length > s.size || s.length > maxLSABytes {
		return "", r.errorf("string length %d and maximum length %d are not those of a UTF-16 string", s.length, s.size)
	}
	maxCount, err := r.u32()
	if err != nil {
		return "", err
	}
	offset, err := r.u32()
	if err != nil {
		return "", err
	}
	count, err := r.u32()
	if err != nil {
		return "", err
	}
	if maxCount != uint32(s.size/2) || offset != 0 || count != uint32(s.length/2) {
		return "", r.errorf("string array counts (%d, %d, %d) disagree with its lengths (%d, %d)", maxCount, offset, count, s.size, s.length)
	}
	u, err := r.units(count)
	if err != nil {
		return "", err
	}
	for _, c := range u {
		if c == 0 {
			return "", r.errorf("string holds a zero unit")
		}
	}
	return r.text(u)
}

func decodeWin7(r *reader) (*Win7Blob, error) {
	w := &Win7Blob{}
	var strs [3]bool
	for i := range strs {
		ok, err := r.ptr()
		if err != nil {
			return nil, err
		}
		strs[i] = ok
	}
	var err error
	if w.Reserved, err = r.u32(); err != nil {
		return nil, err
	}
	var names [3]lsaString
	for i := range names {
		if names[i], err = r.lsaScalars(); err != nil {
			return nil, err
		}
	}
	if w.DNSDomain.GUID, err = r.guid(); err != nil {
		return nil, err
	}
	hasSID, err := r.ptr()
	if err != nil {
		return nil, err
	}
	dc, err := decodeDCScalars(r, &w.DC)
	if err != nil {
		return nil, err
	}
	if w.Options, err = r.u32(); err != nil {
		return nil, err
	}
	// Deferred referents, in member order.
	for i, dst := range []*string{&w.Domain, &w.MachineName} {
		if !strs[i] {
			continue
		}
		if *dst, err = r.str(); err != nil {
			return nil, fmt.Errorf("%s: %w", []string{"domain", "machine name"}[i], err)
		}
	}
	if strs[2] {
		u, err := r.wstring()
		if err != nil {
			return nil, fmt.Errorf("machine password: %w", err)
		}
		w.MachinePassword = Secret{units: u}
	}
	for i, dst := range []*string{&w.DNSDomain.NetBIOSName, &w.DNSDomain.DNSName, &w.DNSDomain.ForestName} {
		if *dst, err = r.lsaBuffer(names[i]); err != nil {
			return nil, fmt.Errorf("DNS domain info: %s: %w", []string{"NetBIOS name", "DNS name", "forest name"}[i], err)
		}
	}
	if hasSID {
		if w.DNSDomain.SID, err = r.sid(); err != nil {
			return nil, fmt.Errorf("DNS domain info: SID: %w", err)
		}
	}
	if err := dc.deferred(r, &w.DC); err != nil {
		return nil, fmt.Errorf("DC info: %w", err)
	}
	return w, nil
}

// dcPointers records which strings of a DOMAIN_CONTROLLER_INFO are present.
type dcPointers [6]bool

func dcStrings(d *DCInfo) [6]*string {
	return [6]*string{&d.UNC, &d.Address, &d.DomainName, &d.ForestName, &d.DCSiteName, &d.ClientSiteName}
}

var dcStringNames = [6]string{"UNC name", "address", "domain name", "forest name", "DC site name", "client site name"}

func decodeDCScalars(r *reader, d *DCInfo) (dcPointers, error) {
	var p dcPointers
	var err error
	read := func(i int) {
		if err == nil {
			p[i], err = r.ptr()
		}
	}
	read(0)
	read(1)
	if err == nil {
		d.AddressType, err = r.u32()
	}
	if err == nil {
		d.DomainGUID, err = r.guid()
	}
	read(2)
	read(3)
	if err == nil {
		d.Flags, err = r.u32()
	}
	read(4)
	read(5)
	return p, err
}

func (p dcPointers) deferred(r *reader, d *DCInfo) error {
	for i, dst := range dcStrings(d) {
		if !p[i] {
			continue
		}
		s, err := r.str()
		if err != nil {
			return fmt.Errorf("%s: %w", dcStringNames[i], err)
		}
		*dst = s
	}
	return nil
}

// sid reads a dom_sid2: a conformance count, then the binary SID, whose
// sub-authority count must match it.
func (r *reader) sid() (adid.SID, error) {
	n, err := r.u32()
	if err != nil {
		return adid.SID{}, err
	}
	if n > adid.MaxSubAuthorities {
		return adid.SID{}, r.errorf("SID with %d sub-authorities", n)
	}
	b, err := r.raw(8 + 4*n)
	if err != nil {
		return adid.SID{}, err
	}
	if uint32(b[1]) != n {
		return adid.SID{}, r.errorf("SID says %d sub-authorities, its array %d", b[1], n)
	}
	var s adid.SID
	if err := s.UnmarshalBinary(b); err != nil {
		return adid.SID{}, r.errorf("%v", err)
	}
	if s.IsZero() {
		return adid.SID{}, r.errorf("SID of revision 0 without sub-authorities")
	}
	return s, nil
}

func decodePackage(r *reader) (*Package, error) {
	p := &Package{}
	var err error
	if p.EncryptionType, err = r.guid(); err != nil {
		return nil, err
	}
	ctx, err := r.opBlobScalars()
	if err != nil {
		return nil, err
	}
	wrapped, err := r.opBlobScalars()
	if err != nil {
		return nil, err
	}
	if p.DecryptedSize, err = r.u32(); err != nil {
		return nil, err
	}
	ext, err := r.opBlobScalars()
	if err != nil {
		return nil, err
	}
	if p.EncryptionContext, err = r.opBlob(ctx); err != nil {
		return nil, fmt.Errorf("encryption context: %w", err)
	}
	w, err := r.opBlob(wrapped)
	if err != nil {
		return nil, fmt.Errorf("wrapped part collection: %w", err)
	}
	if p.EncryptionType != (adid.GUID{}) {
		p.Wrapped = w
	} else if w != nil {
		if err := p.decodeCollection(w); err != nil {
			return nil, fmt.Errorf("part collection: %w", err)
		}
	} else {
		return nil, r.errorf("unencrypted package without a part collection")
	}
	if p.Extension, err = r.opBlob(ext); err != nil {
		return nil, fmt.Errorf("extension: %w", err)
	}
	return p, nil
}

// opBlob is the scalar part of an OP_BLOB.
type opBlob struct {
	size    uint32
	present bool
}

func (r *reader) opBlobScalars() (opBlob, error) {
	var b opBlob
	var err error
	if b.size, err = r.u32(); err != nil {
		return b, err
	}
	b.present, err = r.ptr()
	return b, err
}

// opBlob reads an OP_BLOB's bytes; nil for a null pointer, which must come
// with a zero size.
func (r *reader) opBlob(b opBlob) ([]byte, error) {
	if !b.present {
		if b.size != 0 {
			return nil, r.errorf("%d bytes announced behind a null pointer", b.size)
		}
		return nil, nil
	}
	return r.bytesConf(b.size)
}

func (p *Package) decodeCollection(data []byte) error {
	r, err := serializedReader(data)
	if err != nil {
		return err
	}
	if ok, err := r.ptr(); err != nil || !ok {
		return orNull(r, err, "null OP_PACKAGE_PART_COLLECTION pointer")
	}
	n, err := r.u32()
	if err != nil {
		return err
	}
	hasParts, err := r.ptr()
	if err != nil {
		return err
	}
	ext, err := r.opBlobScalars()
	if err != nil {
		return err
	}
	if !hasParts && n != 0 {
		return r.errorf("%d parts announced behind a null pointer", n)
	}
	if hasParts {
		if err := arrayCount(r, n, 36); err != nil {
			return err
		}
		p.Parts = make([]Part, n)
		scal := make([]struct{ data, ext opBlob }, n)
		for i := range p.Parts {
			pt := &p.Parts[i]
			if pt.Type, err = r.guid(); err != nil {
				return err
			}
			if pt.Flags, err = r.u32(); err != nil {
				return err
			}
			if scal[i].data, err = r.opBlobScalars(); err != nil {
				return err
			}
			if scal[i].ext, err = r.opBlobScalars(); err != nil {
				return err
			}
		}
		for i := range p.Parts {
			pt := &p.Parts[i]
			if pt.Data, err = r.opBlob(scal[i].data); err != nil {
				return fmt.Errorf("part %d (%s): %w", i, pt.Type, err)
			}
			if err := pt.decode(); err != nil {
				return fmt.Errorf("part %d (%s): %w", i, pt.Type, err)
			}
			if pt.Extension, err = r.opBlob(scal[i].ext); err != nil {
				return fmt.Errorf("part %d (%s) extension: %w", i, pt.Type, err)
			}
		}
	}
	if p.CollectionExtension, err = r.opBlob(ext); err != nil {
		return fmt.Errorf("extension: %w", err)
	}
	return r.done()
}

// decode turns the raw Data of a known part type into its structure.
func (pt *Part) decode() error {
	if pt.Data == nil {
		return nil
	}
	switch pt.Type {
	case PartJoinProvider:
		w, err := decodeWin7Serialized(pt.Data)
		if err != nil {
			return err
		}
		pt.Win7, pt.Data = w, nil
	case PartJoinProvider3:
		r, err := serializedReader(pt.Data)
		if err != nil {
			return err
		}
		if ok, err := r.ptr(); err != nil || !ok {
			return orNull(r, err, "null OP_JOINPROV3_PART pointer")
		}
		j := &JoinProv3{}
		if j.RID, err = r.u32(); err != nil {
			return err
		}
		has, err := r.ptr()
		if err != nil {
			return err
		}
		if has {
			if j.SID, err = r.str(); err != nil {
				return fmt.Errorf("SID: %w", err)
			}
		}
		if err := r.done(); err != nil {
			return err
		}
		pt.JoinProv3, pt.Data = j, nil
	}
	return nil
}

// Encode returns p in the serialized form Decode reads. It fails for
// strings that cannot be written (invalid UTF-8, a zero character, an LSA
// string over 32,767 characters) and for a Blob or Part whose fields do
// not match its format or type.
func (p *ProvisionData) Encode() ([]byte, error) {
	w := newWriter()
	w.ptr(true)
	w.u32(1)
	w.u32(uint32(len(p.Blobs)))
	w.ptr(len(p.Blobs) > 0)
	if len(p.Blobs) == 0 {
		return serialized(w.b), nil
	}
	datas := make([][]byte, len(p.Blobs))
	for i := range p.Blobs {
		d, err := p.Blobs[i].encode()
		if err != nil {
			return nil, fmt.Errorf("blob %d: %w", i, err)
		}
		datas[i] = d
	}
	w.u32(uint32(len(p.Blobs)))
	for i, b := range p.Blobs {
		w.u32(uint32(b.Format))
		w.u32(uint32(len(datas[i])))
		w.ptr(true)
	}
	for _, d := range datas {
		w.bytesConf(d)
	}
	return serialized(w.b), nil
}

func (b *Blob) encode() ([]byte, error) {
	switch {
	case b.Format == FormatWin7 && b.Win7 != nil && b.Package == nil && b.Raw == nil:
		return b.Win7.serialize()
	case b.Format == FormatWin8 && b.Package != nil && b.Win7 == nil && b.Raw == nil:
		w := newWriter()
		w.ptr(true)
		if err := b.Package.encode(w); err != nil {
			return nil, fmt.Errorf("package: %w", err)
		}
		return serialized(w.b), nil
	case b.Format != FormatWin7 && b.Format != FormatWin8 && b.Win7 == nil && b.Package == nil:
		return b.Raw, nil
	}
	return nil, fmt.Errorf("format %d does not match the fields set", b.Format)
}

func checkText(what, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s is not valid UTF-8", what)
	}
	for _, c := range s {
		if c == 0 {
			return fmt.Errorf("%s holds a zero character", what)
		}
	}
	return nil
}

// strPtr writes a [string] pointer's scalar for s: null when s is empty.
func (w *writer) strPtr(s string) { w.ptr(s != "") }

func (w *writer) strDeferred(what, s string) error {
	if s == "" {
		return nil
	}
	if err := checkText(what, s); err != nil {
		return err
	}
	w.wstring(utf16Units(s))
	return nil
}

func (w *writer) lsaScalars(what, s string) error {
	if err := checkText(what, s); err != nil {
		return err
	}
	n := len(utf16Units(s))
	if 2*n > maxLSABytes {
		return fmt.Errorf("%s of %d UTF-16 units is too long", what, n)
	}
	if n == 0 {
		w.u16(0)
		w.u16(0)
		w.ptr(false)
		return nil
	}
	w.u16(uint16(2 * n))
	w.u16(uint16(2 * (n + 1)))
	w.ptr(true)
	return nil
}

func (w *writer) lsaBuffer(s string) {
	if s == "" {
		return
	}
	u := utf16Units(s)
	w.u32(uint32(len(u) + 1))
	w.u32(0)
	w.u32(uint32(len(u)))
	for _, c := range u {
		w.u16(c)
	}
}

func (w7 *Win7Blob) serialize() ([]byte, error) {
	w := newWriter()
	if err := w7.encode(w); err != nil {
		return nil, fmt.Errorf("win7 blob: %w", err)
	}
	return serialized(w.b), nil
}

func (w7 *Win7Blob) encode(w *writer) error {
	for _, u := range w7.MachinePassword.units {
		if u == 0 {
			return fmt.Errorf("machine password holds a zero unit")
		}
	}
	w.strPtr(w7.Domain)
	w.strPtr(w7.MachineName)
	w.ptr(!w7.MachinePassword.IsZero())
	w.u32(w7.Reserved)
	d := &w7.DNSDomain
	for i, s := range []string{d.NetBIOSName, d.DNSName, d.ForestName} {
		if err := w.lsaScalars([]string{"NetBIOS name", "DNS name", "forest name"}[i], s); err != nil {
			return err
		}
	}
	w.guid(d.GUID)
	w.ptr(!d.SID.IsZero())
	dc := &w7.DC
	w.strPtr(dc.UNC)
	w.strPtr(dc.Address)
	w.u32(dc.AddressType)
	w.guid(dc.DomainGUID)
	w.strPtr(dc.DomainName)
	w.strPtr(dc.ForestName)
	w.u32(dc.Flags)
	w.strPtr(dc.DCSiteName)
	w.strPtr(dc.ClientSiteName)
	w.u32(w7.Options)

	if err := w.strDeferred("domain", w7.Domain); err != nil {
		return err
	}
	if err := w.strDeferred("machine name", w7.MachineName); err != nil {
		return err
	}
	if !w7.MachinePassword.IsZero() {
		w.wstring(w7.MachinePassword.units)
	}
	w.lsaBuffer(d.NetBIOSName)
	w.lsaBuffer(d.DNSName)
	w.lsaBuffer(d.ForestName)
	if !d.SID.IsZero() {
		w.u32(uint32(len(d.SID.SubAuthorities())))
		w.b, _ = d.SID.AppendBinary(w.b)
	}
	for i, s := range dcStrings(dc) {
		if err := w.strDeferred("DC "+dcStringNames[i], *s); err != nil {
			return err
		}
	}
	return nil
}

func (w *writer) opBlobScalars(b []byte) {
	w.u32(uint32(len(b)))
	w.ptr(b != nil)
}

func (w *writer) opBlob(b []byte) {
	if b != nil {
		w.bytesConf(b)
	}
}

func (p *Package) encode(w *writer) error {
	wrapped := p.Wrapped
	if p.EncryptionType == (adid.GUID{}) {
		if p.Wrapped != nil {
			return fmt.Errorf("an unencrypted package has Parts, not Wrapped")
		}
		c, err := p.encodeCollection()
		if err != nil {
			return err
		}
		wrapped = c
	} else if len(p.Parts) > 0 || p.CollectionExtension != nil {
		return fmt.Errorf("an encrypted package carries Wrapped, not Parts")
	}
	w.guid(p.EncryptionType)
	w.opBlobScalars(p.EncryptionContext)
	w.opBlobScalars(wrapped)
	w.u32(p.DecryptedSize)
	w.opBlobScalars(p.Extension)
	w.opBlob(p.EncryptionContext)
	w.opBlob(wrapped)
	w.opBlob(p.Extension)
	return nil
}

func (p *Package) encodeCollection() ([]byte, error) {
	datas := make([][]byte, len(p.Parts))
	for i := range p.Parts {
		d, err := p.Parts[i].encode()
		if err != nil {
			return nil, fmt.Errorf("part %d (%s): %w", i, p.Parts[i].Type, err)
		}
		datas[i] = d
	}
	w := newWriter()
	w.ptr(true)
	w.u32(uint32(len(p.Parts)))
	w.ptr(p.Parts != nil)
	w.opBlobScalars(p.CollectionExtension)
	if p.Parts != nil {
		w.u32(uint32(len(p.Parts)))
		for i, pt := range p.Parts {
			w.guid(pt.Type)
			w.u32(pt.Flags)
			w.opBlobScalars(datas[i])
			w.opBlobScalars(pt.Extension)
		}
		for i, pt := range p.Parts {
			w.opBlob(datas[i])
			w.opBlob(pt.Extension)
		}
	}
	w.opBlob(p.CollectionExtension)
	return serialized(w.b), nil
}

func (pt *Part) encode() ([]byte, error) {
	switch {
	case pt.Win7 != nil && pt.JoinProv3 == nil && pt.Data == nil && pt.Type == PartJoinProvider:
		return pt.Win7.serialize()
	case pt.JoinProv3 != nil && pt.Win7 == nil && pt.Data == nil && pt.Type == PartJoinProvider3:
		w := newWriter()
		w.ptr(true)
		w.u32(pt.JoinProv3.RID)
		w.strPtr(pt.JoinProv3.SID)
		if err := w.strDeferred("SID", pt.JoinProv3.SID); err != nil {
			return nil, err
		}
		return serialized(w.b), nil
	case pt.Win7 == nil && pt.JoinProv3 == nil:
		if pt.Data != nil && (pt.Type == PartJoinProvider || pt.Type == PartJoinProvider3) {
			return nil, fmt.Errorf("a known part type is written from its structure, not Data")
		}
		return pt.Data, nil
	}
	return nil, fmt.Errorf("part type %s does not match the fields set", pt.Type)
}

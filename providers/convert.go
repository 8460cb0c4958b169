package providers

// This file is the only place where the protobuf types of providers/proto
// meet the Go types of this package. Functions named ...ToProto build wire
// messages; functions named ...FromProto check and decode them, returning
// an error (never panicking) for a message that breaks the protocol.

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/adshift/adshift/providers/proto"
)

// knownKinds are the object kinds protocol version 1 carries.
var knownKinds = map[Kind]bool{
	KindOU:               true,
	KindUser:             true,
	KindGroup:            true,
	KindComputer:         true,
	KindContact:          true,
	KindForeignPrincipal: true,
	KindTrust:            true,
}

// kindFromProto checks a kind from the wire. It returns the package's
// constant, so decoded objects share one string per kind.
func kindFromProto(s string) (Kind, error) {
	switch Kind(s) {
	case KindOU:
		return KindOU, nil
	case KindUser:
		return KindUser, nil
	case KindGroup:
		return KindGroup, nil
	case KindComputer:
		return KindComputer, nil
	case KindContact:
		return KindContact, nil
	case KindForeignPrincipal:
		return KindForeignPrincipal, nil
	case KindTrust:
		return KindTrust, nil
	}
	return "", fmt.Errorf("unknown object kind %q", s)
}

func kindsToProto(ks []Kind) []string {
	if len(ks) == 0 {
		return nil
	}
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = string(k)
	}
	return out
}

func kindsFromProto(ss []string) ([]Kind, error) {
	if len(ss) == 0 {
		return nil, nil
	}
	out := make([]Kind, len(ss))
	for i, s := range ss {
		k, err := kindFromProto(s)
		if err != nil {
			return nil, err
		}
		out[i] = k
	}
	return out, nil
}

// nilIfEmpty makes an empty repeated field decode as nil, so a round trip
// keeps the Go zero value.
func nilIfEmpty(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	return ss
}

// validText makes human text safe for a proto3 string field, which must be
// UTF-8 (a provider may quote a server's message verbatim).
func validText(s string) string {
	return strings.ToValidUTF8(s, "\uFFFD")
}

// ---- schema ----

func schemaToProto(s *Schema) (*proto.Schema, error) {
	if s == nil {
		return nil, fmt.Errorf("provider returned no schema")
	}
	blk, err := blockToProto(s.Config)
	if err != nil {
		return nil, fmt.Errorf("config schema: %w", err)
	}
	return &proto.Schema{
		Name:    s.Name,
		Version: s.Version,
		Config:  blk,
		Kinds:   kindsToProto(s.Kinds),
		Pid:     int64(s.PID),
	}, nil
}

func schemaFromProto(p *proto.Schema) (*Schema, error) {
	if p == nil {
		return nil, fmt.Errorf("response carries no schema")
	}
	blk, err := blockFromProto(p.Config)
	if err != nil {
		return nil, fmt.Errorf("config schema: %w", err)
	}
	kinds, err := kindsFromProto(p.Kinds)
	if err != nil {
		return nil, fmt.Errorf("schema kinds: %w", err)
	}
	return &Schema{
		Name:    p.Name,
		Version: p.Version,
		Config:  blk,
		Kinds:   kinds,
		PID:     int(p.Pid),
	}, nil
}

func blockToProto(b Block) (*proto.Schema_Block, error) {
	out := &proto.Schema_Block{}
	for _, a := range b.Attributes {
		if a.Type == cty.NilType {
			return nil, fmt.Errorf("attribute %q has no type", a.Name)
		}
		ty, err := ctyjson.MarshalType(a.Type)
		if err != nil {
			return nil, fmt.Errorf("attribute %q type: %w", a.Name, err)
		}
		out.Attributes = append(out.Attributes, &proto.Schema_Attribute{
			Name:        a.Name,
			Type:        ty,
			Required:    a.Required,
			Sensitive:   a.Sensitive,
			Description: validText(a.Description),
		})
	}
	for _, nb := range b.Blocks {
		inner, err := blockToProto(nb.Block)
		if err != nil {
			return nil, fmt.Errorf("block %q: %w", nb.Name, err)
		}
		out.Blocks = append(out.Blocks, &proto.Schema_NestedBlock{
			Name:     nb.Name,
			Block:    inner,
			Required: nb.Required,
		})
	}
	return out, nil
}

func blockFromProto(p *proto.Schema_Block) (Block, error) {
	var out Block
	if p == nil {
		return out, nil
	}
	seen := make(map[string]bool, len(p.Attributes)+len(p.Blocks))
	for _, a := range p.Attributes {
		if a == nil || a.Name == "" {
			return Block{}, fmt.Errorf("attribute without a name")
		}
		if seen[a.Name] {
			return Block{}, fmt.Errorf("attribute %q declared twice", a.Name)
		}
		seen[a.Name] = true
		ty, err := ctyjson.UnmarshalType(a.Type)
		if err != nil {
			return Block{}, fmt.Errorf("attribute %q type: %w", a.Name, err)
		}
		out.Attributes = append(out.Attributes, Attribute{
			Name:        a.Name,
			Type:        ty,
			Required:    a.Required,
			Sensitive:   a.Sensitive,
			Description: a.Description,
		})
	}
	for _, nb := range p.Blocks {
		if nb == nil || nb.Name == "" {
			return Block{}, fmt.Errorf("nested block without a name")
		}
		if seen[nb.Name] {
			return Block{}, fmt.Errorf("block %q declared twice", nb.Name)
		}
		seen[nb.Name] = true
		inner, err := blockFromProto(nb.Block)
		if err != nil {
			return Block{}, fmt.Errorf("block %q: %w", nb.Name, err)
		}
		out.Blocks = append(out.Blocks, NestedBlock{Name: nb.Name, Block: inner, Required: nb.Required})
	}
	return out, nil
}

// ---- configuration values ----

// dynamicValueToProto encodes v with its type. Marks (sensitivity) are
// dropped: the contract hands the provider unmarked values. cty.NilVal
// encodes as an empty message.
func dynamicValueToProto(v cty.Value) (*proto.DynamicValue, error) {
	if v == cty.NilVal {
		return &proto.DynamicValue{}, nil
	}
	v, _ = v.UnmarkDeep()
	if !v.IsWhollyKnown() {
		return nil, fmt.Errorf("value is not wholly known")
	}
	ty := v.Type()
	tj, err := ctyjson.MarshalType(ty)
	if err != nil {
		return nil, fmt.Errorf("encode type: %w", err)
	}
	vj, err := ctyjson.Marshal(v, ty)
	if err != nil {
		return nil, fmt.Errorf("encode value: %w", err)
	}
	return &proto.DynamicValue{Json: vj, Type: tj}, nil
}

func dynamicValueFromProto(p *proto.DynamicValue) (cty.Value, error) {
	if p == nil || (len(p.Json) == 0 && len(p.Type) == 0) {
		return cty.NilVal, nil
	}
	ty, err := ctyjson.UnmarshalType(p.Type)
	if err != nil {
		return cty.NilVal, fmt.Errorf("decode type: %w", err)
	}
	v, err := ctyjson.Unmarshal(p.Json, ty)
	if err != nil {
		return cty.NilVal, fmt.Errorf("decode value: %w", err)
	}
	return v, nil
}

// ---- diagnostics ----

func pathToProto(path cty.Path) (*proto.AttributePath, error) {
	if len(path) == 0 {
		return nil, nil
	}
	out := &proto.AttributePath{Steps: make([]*proto.AttributePath_Step, 0, len(path))}
	for i, step := range path {
		ps := &proto.AttributePath_Step{}
		switch s := step.(type) {
		case cty.GetAttrStep:
			ps.Selector = &proto.AttributePath_Step_AttributeName{AttributeName: s.Name}
		case cty.IndexStep:
			key := s.Key
			switch {
			case key.IsNull() || !key.IsKnown():
				return nil, fmt.Errorf("path step %d: index key is null or unknown", i)
			case key.Type() == cty.String:
				ps.Selector = &proto.AttributePath_Step_ElementKeyString{ElementKeyString: key.AsString()}
			case key.Type() == cty.Number:
				n, acc := key.AsBigFloat().Int64()
				if acc != big.Exact {
					return nil, fmt.Errorf("path step %d: index key %s is not a whole number", i, key.AsBigFloat().String())
				}
				ps.Selector = &proto.AttributePath_Step_ElementKeyInt{ElementKeyInt: n}
			default:
				return nil, fmt.Errorf("path step %d: index key of type %s", i, key.Type().FriendlyName())
			}
		default:
			return nil, fmt.Errorf("path step %d: unsupported step %T", i, step)
		}
		out.Steps = append(out.Steps, ps)
	}
	return out, nil
}

func pathFromProto(p *proto.AttributePath) (cty.Path, error) {
	if p == nil || len(p.Steps) == 0 {
		return nil, nil
	}
	out := make(cty.Path, 0, len(p.Steps))
	for i, s := range p.Steps {
		switch sel := s.GetSelector().(type) {
		case *proto.AttributePath_Step_AttributeName:
			out = append(out, cty.GetAttrStep{Name: sel.AttributeName})
		case *proto.AttributePath_Step_ElementKeyString:
			out = append(out, cty.IndexStep{Key: cty.StringVal(sel.ElementKeyString)})
		case *proto.AttributePath_Step_ElementKeyInt:
			out = append(out, cty.IndexStep{Key: cty.NumberIntVal(sel.ElementKeyInt)})
		default:
			return nil, fmt.Errorf("path step %d is empty", i)
		}
	}
	return out, nil
}

func diagnosticsToProto(ds Diagnostics) ([]*proto.Diagnostic, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	out := make([]*proto.Diagnostic, 0, len(ds))
	for i, d := range ds {
		var sev proto.Diagnostic_Severity
		switch d.Severity {
		case SeverityError:
			sev = proto.Diagnostic_SEVERITY_ERROR
		case SeverityWarning:
			sev = proto.Diagnostic_SEVERITY_WARNING
		default:
			return nil, fmt.Errorf("diagnostic %d: unknown severity %d", i, d.Severity)
		}
		path, err := pathToProto(d.Attribute)
		if err != nil {
			return nil, fmt.Errorf("diagnostic %d (%q): %w", i, d.Summary, err)
		}
		out = append(out, &proto.Diagnostic{
			Severity:  sev,
			Summary:   validText(d.Summary),
			Detail:    validText(d.Detail),
			Attribute: path,
		})
	}
	return out, nil
}

func diagnosticsFromProto(ps []*proto.Diagnostic) (Diagnostics, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	out := make(Diagnostics, 0, len(ps))
	for i, p := range ps {
		var sev Severity
		switch p.GetSeverity() {
		case proto.Diagnostic_SEVERITY_ERROR:
			sev = SeverityError
		case proto.Diagnostic_SEVERITY_WARNING:
			sev = SeverityWarning
		default:
			return nil, fmt.Errorf("diagnostic %d: invalid severity %d", i, p.GetSeverity())
		}
		path, err := pathFromProto(p.GetAttribute())
		if err != nil {
			return nil, fmt.Errorf("diagnostic %d: %w", i, err)
		}
		out = append(out, Diagnostic{Severity: sev, Summary: p.GetSummary(), Detail: p.GetDetail(), Attribute: path})
	}
	return out, nil
}

// ---- discovery ----

func scopeToProto(s Scope) *proto.Scope {
	return &proto.Scope{
		BaseDn:        s.BaseDN,
		IncludeOus:    s.IncludeOUs,
		ExcludeOus:    s.ExcludeOUs,
		Kinds:         kindsToProto(s.Kinds),
		Attributes:    s.Attributes,
		AllAttributes: s.Attributes == nil,
		Cache:         s.Cache,
		FullRefresh:   s.FullRefresh,
	}
}

func scopeFromProto(p *proto.Scope) (Scope, error) {
	if p == nil {
		return Scope{}, fmt.Errorf("request carries no scope")
	}
	kinds, err := kindsFromProto(p.Kinds)
	if err != nil {
		return Scope{}, fmt.Errorf("scope kinds: %w", err)
	}
	s := Scope{
		BaseDN:      p.BaseDn,
		IncludeOUs:  nilIfEmpty(p.IncludeOus),
		ExcludeOUs:  nilIfEmpty(p.ExcludeOus),
		Kinds:       kinds,
		Cache:       p.Cache,
		FullRefresh: p.FullRefresh,
	}
	if !p.AllAttributes {
		s.Attributes = p.Attributes
		if s.Attributes == nil {
			s.Attributes = []string{}
		}
	}
	return s, nil
}

// batchEncoder builds Discover batches, packing objects in columns (see
// the Batch message) with the batch's attribute name table.
type batchEncoder struct {
	batch *proto.Discover_Batch
	names map[string]uint32
	size  int // approximate encoded size of batch
}

func newBatchEncoder() *batchEncoder {
	return &batchEncoder{batch: &proto.Discover_Batch{}, names: map[string]uint32{}}
}

// len is the number of objects in the batch.
func (e *batchEncoder) len() int { return len(e.batch.AttrCounts) }

// add appends o to the batch.
func (e *batchEncoder) add(o *Object) {
	b := e.batch
	for _, s := range [...]string{string(o.Kind), o.DN, o.GUID, o.SID, o.Token} {
		b.Identity = append(b.Identity, s...)
		b.IdentityLengths = append(b.IdentityLengths, uint32(len(s)))
		e.size += 2 + len(s)
	}
	b.AttrCounts = append(b.AttrCounts, uint32(len(o.Attrs)))
	for name, vs := range o.Attrs {
		n, ok := e.names[name]
		if !ok {
			n = uint32(len(b.AttributeNames))
			e.names[name] = n
			b.AttributeNames = append(b.AttributeNames, name)
			e.size += 2 + len(name)
		}
		b.AttrNames = append(b.AttrNames, n)
		b.AttrValueCounts = append(b.AttrValueCounts, uint32(len(vs)))
		for _, v := range vs {
			b.ValueLengths = append(b.ValueLengths, uint32(len(v)))
			b.Values = append(b.Values, v...)
			e.size += 2 + len(v)
		}
		e.size += 4
	}
}

// take returns the batch built so far and starts a new one, sized like it
// unless it was oversized (one huge object).
func (e *batchEncoder) take() *proto.Discover_Batch {
	b := e.batch
	e.batch = &proto.Discover_Batch{}
	if e.size <= 2*batchBytes {
		e.batch.Identity = make([]byte, 0, cap(b.Identity))
		e.batch.IdentityLengths = make([]uint32, 0, cap(b.IdentityLengths))
		e.batch.AttrCounts = make([]uint32, 0, cap(b.AttrCounts))
		e.batch.AttrNames = make([]uint32, 0, cap(b.AttrNames))
		e.batch.AttrValueCounts = make([]uint32, 0, cap(b.AttrValueCounts))
		e.batch.ValueLengths = make([]uint32, 0, cap(b.ValueLengths))
		e.batch.Values = make([]byte, 0, cap(b.Values))
	}
	clear(e.names)
	e.size = 0
	return b
}

// sum adds up a length column; int cannot overflow for a message that fits
// in memory.
func sum(xs []uint32) int {
	n := 0
	for _, x := range xs {
		n += int(x)
	}
	return n
}

// batchFromProto checks and decodes a Discover batch. The strings of all
// objects are cut from two strings (identity and values), and their value
// slices from one array, so decoding allocates little more than the
// attribute maps; an object kept alive keeps its batch's text alive.
func batchFromProto(b *proto.Discover_Batch) ([]Object, error) {
	if len(b.IdentityLengths)%5 != 0 {
		return nil, fmt.Errorf("batch has %d identity lengths, not five per object", len(b.IdentityLengths))
	}
	n := len(b.IdentityLengths) / 5
	switch {
	case len(b.AttrCounts) != n:
		return nil, fmt.Errorf("batch has %d objects but %d attribute counts", n, len(b.AttrCounts))
	case sum(b.IdentityLengths) != len(b.Identity):
		return nil, fmt.Errorf("identity lengths add up to %d bytes but %d are given", sum(b.IdentityLengths), len(b.Identity))
	case sum(b.AttrCounts) != len(b.AttrNames):
		return nil, fmt.Errorf("attribute counts add up to %d but %d attribute names are given", sum(b.AttrCounts), len(b.AttrNames))
	case len(b.AttrValueCounts) != len(b.AttrNames):
		return nil, fmt.Errorf("%d attribute names but %d value counts", len(b.AttrNames), len(b.AttrValueCounts))
	case sum(b.AttrValueCounts) != len(b.ValueLengths):
		return nil, fmt.Errorf("value counts add up to %d but %d value lengths are given", sum(b.AttrValueCounts), len(b.ValueLengths))
	case sum(b.ValueLengths) != len(b.Values):
		return nil, fmt.Errorf("value lengths add up to %d bytes but %d are given", sum(b.ValueLengths), len(b.Values))
	}
	names := b.AttributeNames
	for i, name := range names {
		if name == "" {
			return nil, fmt.Errorf("attribute name %d of the batch is empty", i)
		}
	}

	ident, blob := string(b.Identity), string(b.Values)
	vals := make([]string, len(b.ValueLengths))
	objs := make([]Object, n)
	ioff, voff := 0, 0 // byte offsets in ident and blob
	li := 0            // index in ValueLengths and vals
	ai := 0            // index in AttrNames and AttrValueCounts
	var id [5]string
	for i := range objs {
		for j := range id {
			l := int(b.IdentityLengths[5*i+j])
			id[j] = ident[ioff : ioff+l]
			ioff += l
		}
		k, err := kindFromProto(id[0])
		if err != nil {
			return nil, fmt.Errorf("object %q: %w", id[1], err)
		}
		if id[1] == "" {
			return nil, fmt.Errorf("%s object without a DN", k)
		}
		o := &objs[i]
		*o = Object{Kind: k, DN: id[1], GUID: id[2], SID: id[3], Token: id[4]}
		na := int(b.AttrCounts[i])
		if na == 0 {
			continue
		}
		o.Attrs = make(map[string][]string, na)
		for _, ni := range b.AttrNames[ai : ai+na] {
			if int(ni) >= len(names) {
				return nil, fmt.Errorf("object %q: attribute name index %d outside the batch's %d names", o.DN, ni, len(names))
			}
			nv := int(b.AttrValueCounts[ai])
			ai++
			vs := vals[li : li+nv : li+nv]
			for j := range vs {
				l := int(b.ValueLengths[li+j])
				vs[j] = blob[voff : voff+l]
				voff += l
			}
			li += nv
			o.Attrs[names[ni]] = vs
		}
		if len(o.Attrs) != na {
			return nil, fmt.Errorf("object %q: an attribute is given twice", o.DN)
		}
	}
	return objs, nil
}

// ---- apply ----

var opsToProto = map[Op]proto.Apply_Op{
	OpCreate: proto.Apply_OP_CREATE,
	OpUpdate: proto.Apply_OP_UPDATE,
	OpMove:   proto.Apply_OP_MOVE,
	OpDelete: proto.Apply_OP_DELETE,
}

var attrOpsToProto = map[AttrOp]proto.Apply_AttrOp{
	AttrReplace: proto.Apply_ATTR_OP_REPLACE,
	AttrAdd:     proto.Apply_ATTR_OP_ADD,
	AttrDelete:  proto.Apply_ATTR_OP_DELETE,
}

func changeToProto(c Change) (*proto.Apply_Change, error) {
	op, ok := opsToProto[c.Op]
	if !ok {
		return nil, fmt.Errorf("change %d: unknown operation %q", c.ID, c.Op)
	}
	if !knownKinds[c.Kind] {
		return nil, fmt.Errorf("change %d: unknown object kind %q", c.ID, c.Kind)
	}
	p := &proto.Apply_Change{
		Id:    c.ID,
		Op:    op,
		Kind:  string(c.Kind),
		Dn:    c.DN,
		NewDn: c.NewDN,
		Guid:  c.GUID,
		Token: c.Token,
	}
	for _, a := range c.Attrs {
		aop, ok := attrOpsToProto[a.Op]
		if !ok {
			// The values are left out on purpose: they may be a password.
			return nil, fmt.Errorf("change %d: attribute %q: unknown operation %q", c.ID, a.Name, a.Op)
		}
		vs := make([][]byte, len(a.Values))
		for i, v := range a.Values {
			vs[i] = []byte(v)
		}
		p.Attrs = append(p.Attrs, &proto.Apply_AttrChange{Name: a.Name, Op: aop, Values: vs})
	}
	return p, nil
}

func changeFromProto(p *proto.Apply_Change) (Change, error) {
	var op Op
	for g, w := range opsToProto {
		if w == p.GetOp() {
			op = g
		}
	}
	if op == "" {
		return Change{}, fmt.Errorf("change %d: invalid operation %d", p.GetId(), p.GetOp())
	}
	k, err := kindFromProto(p.GetKind())
	if err != nil {
		return Change{}, fmt.Errorf("change %d: %w", p.GetId(), err)
	}
	c := Change{ID: p.Id, Op: op, Kind: k, DN: p.Dn, NewDN: p.NewDn, GUID: p.Guid, Token: p.Token}
	for _, a := range p.Attrs {
		var aop AttrOp
		for g, w := range attrOpsToProto {
			if w == a.GetOp() {
				aop = g
			}
		}
		if aop == "" {
			return Change{}, fmt.Errorf("change %d: attribute %q: invalid operation %d", p.Id, a.GetName(), a.GetOp())
		}
		var vs []string
		if len(a.Values) > 0 {
			vs = make([]string, len(a.Values))
			for i, v := range a.Values {
				vs[i] = string(v)
			}
		}
		c.Attrs = append(c.Attrs, AttrChange{Name: a.Name, Op: aop, Values: vs})
	}
	return c, nil
}

func resultToProto(r Result) *proto.Apply_Result {
	return &proto.Apply_Result{
		Id:    r.ID,
		Dn:    r.DN,
		Guid:  r.GUID,
		Sid:   r.SID,
		Token: r.Token,
		Error: validText(r.Error),
	}
}

func resultFromProto(p *proto.Apply_Result) Result {
	return Result{ID: p.Id, DN: p.Dn, GUID: p.Guid, SID: p.Sid, Token: p.Token, Error: p.Error}
}

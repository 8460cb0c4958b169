package providers

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/adshift/adshift/providers/proto"
)

func TestConvert_schemaRoundTrip(t *testing.T) {
	tests := map[string]*Schema{
		"fake":  func() *Schema { s := fakeSchema; s.PID = 42; return &s }(),
		"empty": {Name: "empty"},
		"nested and complex types": {
			Name: "deep",
			Config: Block{
				Attributes: []Attribute{
					{Name: "servers", Type: cty.List(cty.String), Required: true},
					{Name: "opts", Type: cty.Object(map[string]cty.Type{"a": cty.Bool, "b": cty.Set(cty.Number)})},
					{Name: "any", Type: cty.DynamicPseudoType},
				},
				Blocks: []NestedBlock{{Name: "outer", Required: true, Block: Block{
					Blocks: []NestedBlock{{Name: "inner", Block: Block{Attributes: []Attribute{{Name: "x", Type: cty.Tuple([]cty.Type{cty.String, cty.Number})}}}}},
				}}},
			},
			Kinds: []Kind{KindForeignPrincipal, KindContact},
		},
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := schemaToProto(want)
			if err != nil {
				t.Fatal(err)
			}
			got, err := schemaFromProto(p)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, ctyCmp); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConvert_dynamicValueRoundTrip(t *testing.T) {
	tests := map[string]cty.Value{
		"nil":        cty.NilVal,
		"null":       cty.NullVal(fakeConfigType),
		"string":     cty.StringVal("x"),
		"big number": cty.MustParseNumberVal("123456789012345678901234567890.5"),
		"fake config": fakeConfig(map[string]cty.Value{
			"objects": cty.NumberIntVal(3),
			"ous":     cty.ListValEmpty(cty.String),
			"labels":  cty.MapVal(map[string]cty.Value{"a": cty.StringVal("b")}),
			"tls":     cty.ObjectVal(map[string]cty.Value{"ca_file": cty.NullVal(cty.String)}),
		}),
		"dynamic inside": cty.ObjectVal(map[string]cty.Value{
			"t": cty.TupleVal([]cty.Value{cty.True, cty.SetVal([]cty.Value{cty.NumberIntVal(1)})}),
		}),
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := dynamicValueToProto(want)
			if err != nil {
				t.Fatal(err)
			}
			got, err := dynamicValueFromProto(p)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, ctyCmp); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("marks are dropped", func(t *testing.T) {
		v := cty.ObjectVal(map[string]cty.Value{"password": cty.StringVal("hunter2").Mark("sensitive")})
		p, err := dynamicValueToProto(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := dynamicValueFromProto(p)
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := v.UnmarkDeep(); !got.RawEquals(want) {
			t.Errorf("got %#v, want %#v", got, want)
		}
	})
	t.Run("unknown is refused", func(t *testing.T) {
		if _, err := dynamicValueToProto(cty.ObjectVal(map[string]cty.Value{"a": cty.UnknownVal(cty.String)})); err == nil {
			t.Error("no error for an unknown value")
		}
	})
}

func TestConvert_pathRoundTrip(t *testing.T) {
	tests := map[string]cty.Path{
		"none":   nil,
		"attr":   cty.GetAttrPath("a"),
		"deep":   cty.GetAttrPath("tls").GetAttr("ca_file"),
		"list":   cty.GetAttrPath("ous").IndexInt(3),
		"map":    cty.GetAttrPath("labels").IndexString("env"),
		"mixed":  cty.GetAttrPath("a").IndexInt(0).GetAttr("b").IndexString("").IndexInt(-1),
		"bareix": cty.IndexIntPath(7),
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := pathToProto(want)
			if err != nil {
				t.Fatal(err)
			}
			got, err := pathFromProto(p)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, ctyCmp); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
	bad := map[string]cty.Path{
		"fractional index": cty.Path{cty.IndexStep{Key: cty.NumberFloatVal(1.5)}},
		"bool index":       cty.Path{cty.IndexStep{Key: cty.True}},
		"null index":       cty.Path{cty.IndexStep{Key: cty.NullVal(cty.String)}},
	}
	for name, path := range bad {
		t.Run(name, func(t *testing.T) {
			if _, err := pathToProto(path); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestConvert_scopeRoundTrip(t *testing.T) {
	tests := map[string]Scope{
		"zero":          {},
		"all":           {BaseDN: "DC=a", IncludeOUs: []string{"OU=x,DC=a"}, ExcludeOUs: []string{"OU=y,OU=x,DC=a"}, Kinds: []Kind{KindUser}, Attributes: []string{"mail", "cn"}},
		"identity only": {BaseDN: "DC=a", Attributes: []string{}},
		"cached":        {BaseDN: "DC=a", Cache: "/s/adshift.state.discovery/source.cache", FullRefresh: true},
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := scopeFromProto(scopeToProto(want))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConvert_batchRoundTrip(t *testing.T) {
	objs := []Object{
		{Kind: KindOU, DN: "OU=a"},
		{Kind: KindUser, DN: "CN=u", GUID: "g", SID: "S-1-5-21-1", Token: "9", Attrs: map[string][]string{
			"cn":             {"u"},
			"member":         {},
			"objectclass":    {"top", "person", "user"},
			"thumbnailphoto": {"\xff\xd8\xff\x00binary"},
			"empty":          {""},
		}},
		{Kind: KindGroup, DN: "CN=g,\xffnot-utf8", Attrs: map[string][]string{"cn": {"g"}, "member": {"CN=u", "CN=v"}}},
		{Kind: KindForeignPrincipal, DN: "CN=S-1-5-21-9"},
	}
	enc := newBatchEncoder()
	for i := range objs {
		enc.add(&objs[i])
	}
	if enc.len() != len(objs) {
		t.Errorf("encoder holds %d objects, want %d", enc.len(), len(objs))
	}
	b := enc.take()
	if got := len(b.AttributeNames); got != 5 {
		t.Errorf("name table has %d names, want 5 (shared across objects)", got)
	}
	got, err := batchFromProto(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(objs, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if enc.len() != 0 {
		t.Errorf("take did not reset the encoder")
	}
	if next := enc.take(); len(next.Identity) != 0 || len(next.AttributeNames) != 0 {
		t.Errorf("take did not reset the encoder: %v", next)
	}
	empty, err := batchFromProto(&proto.Discover_Batch{})
	if err != nil || len(empty) != 0 {
		t.Errorf("empty batch: %v, %v", empty, err)
	}
}

// packedBatch is a valid batch of two objects, for mutation.
func packedBatch() *proto.Discover_Batch {
	return &proto.Discover_Batch{
		AttributeNames:  []string{"cn", "mail"},
		Identity:        []byte("userCN=uguserCN=v"),
		IdentityLengths: []uint32{4, 4, 1, 0, 0, 4, 4, 0, 0, 0},
		AttrCounts:      []uint32{2, 0},
		AttrNames:       []uint32{0, 1},
		AttrValueCounts: []uint32{1, 2},
		ValueLengths:    []uint32{1, 3, 3},
		Values:          []byte("uabcdef"),
	}
}

func TestConvert_invalidBatches(t *testing.T) {
	got, err := batchFromProto(packedBatch())
	if err != nil {
		t.Fatalf("the good batch fails: %v", err)
	}
	want := []Object{
		{Kind: KindUser, DN: "CN=u", GUID: "g", Attrs: map[string][]string{"cn": {"u"}, "mail": {"abc", "def"}}},
		{Kind: KindUser, DN: "CN=v"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("the good batch (-want +got):\n%s", diff)
	}
	tests := []struct {
		name    string
		mutate  func(b *proto.Discover_Batch)
		wantErr string
	}{
		{"unknown kind", func(b *proto.Discover_Batch) {
			b.Identity = []byte("printerCN=uguserCN=v")
			b.IdentityLengths[0] = 7
		}, `object "CN=u": unknown object kind "printer"`},
		{"empty kind", func(b *proto.Discover_Batch) {
			b.Identity = b.Identity[4:]
			b.IdentityLengths[0] = 0
		}, `object "CN=u": unknown object kind ""`},
		{"no DN", func(b *proto.Discover_Batch) {
			b.Identity = []byte("userguserCN=v")
			b.IdentityLengths[1] = 0
		}, `user object without a DN`},
		{"identity not in fives", func(b *proto.Discover_Batch) { b.IdentityLengths = b.IdentityLengths[:9] }, `batch has 9 identity lengths, not five per object`},
		{"identity too short", func(b *proto.Discover_Batch) { b.Identity = b.Identity[:10] }, `identity lengths add up to 17 bytes but 10 are given`},
		{"attribute counts per object", func(b *proto.Discover_Batch) { b.AttrCounts = []uint32{2} }, `batch has 2 objects but 1 attribute counts`},
		{"attribute counts sum", func(b *proto.Discover_Batch) { b.AttrCounts = []uint32{1, 0} }, `attribute counts add up to 1 but 2 attribute names are given`},
		{"empty name", func(b *proto.Discover_Batch) { b.AttributeNames[1] = "" }, `attribute name 1 of the batch is empty`},
		{"name index out of range", func(b *proto.Discover_Batch) { b.AttrNames[1] = 7 }, `object "CN=u": attribute name index 7 outside the batch's 2 names`},
		{"value counts mismatch", func(b *proto.Discover_Batch) { b.AttrValueCounts = []uint32{1} }, `2 attribute names but 1 value counts`},
		{"too few lengths", func(b *proto.Discover_Batch) { b.ValueLengths = []uint32{1, 3} }, `value counts add up to 3 but 2 value lengths are given`},
		{"lengths overflow values", func(b *proto.Discover_Batch) { b.ValueLengths[2] = 4 }, `value lengths add up to 8 bytes but 7 are given`},
		{"huge length", func(b *proto.Discover_Batch) { b.ValueLengths[2] = 1<<32 - 1 }, `value lengths add up to`},
		{"duplicate attribute", func(b *proto.Discover_Batch) { b.AttrNames[1] = 0 }, `object "CN=u": an attribute is given twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := packedBatch()
			tt.mutate(b)
			_, err := batchFromProto(b)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestConvert_changeRoundTrip(t *testing.T) {
	tests := map[string]Change{
		"create": {ID: 1, Op: OpCreate, Kind: KindUser, DN: "CN=a", Attrs: []AttrChange{
			{Name: "cn", Op: AttrReplace, Values: []string{"a"}},
			{Name: "unicodePwd", Op: AttrReplace, Values: []string{"\"\x00p\x00\"\x00"}},
		}},
		"update": {ID: 1 << 40, Op: OpUpdate, Kind: KindGroup, DN: "CN=g", GUID: "x", Token: "5", Attrs: []AttrChange{
			{Name: "member", Op: AttrAdd, Values: []string{"CN=a", "CN=b"}},
			{Name: "member", Op: AttrDelete},
		}},
		"move":   {ID: 3, Op: OpMove, Kind: KindComputer, DN: "CN=w,OU=a", NewDN: "CN=w,OU=b"},
		"delete": {ID: -4, Op: OpDelete, Kind: KindForeignPrincipal, DN: "CN=S-1-5-21-1"},
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := changeToProto(want)
			if err != nil {
				t.Fatal(err)
			}
			got, err := changeFromProto(p)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
	invalid := map[string]*proto.Apply_Change{
		"no op":        {Id: 1, Kind: "user", Dn: "CN=a"},
		"unknown op":   {Id: 1, Op: 99, Kind: "user", Dn: "CN=a"},
		"unknown kind": {Id: 1, Op: proto.Apply_OP_CREATE, Kind: "printer", Dn: "CN=a"},
		"no attr op":   {Id: 1, Op: proto.Apply_OP_CREATE, Kind: "user", Dn: "CN=a", Attrs: []*proto.Apply_AttrChange{{Name: "cn"}}},
		"bad attr op":  {Id: 1, Op: proto.Apply_OP_CREATE, Kind: "user", Dn: "CN=a", Attrs: []*proto.Apply_AttrChange{{Name: "cn", Op: 9}}},
	}
	for name, p := range invalid {
		t.Run(name, func(t *testing.T) {
			if _, err := changeFromProto(p); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestConvert_resultRoundTrip(t *testing.T) {
	want := Result{ID: 7, DN: "CN=a", GUID: "g", SID: "S-1", Token: "t", Error: "cannot write: busy"}
	if diff := cmp.Diff(want, resultFromProto(resultToProto(want))); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	// Human text is made valid UTF-8 so the message can be sent.
	got := resultFromProto(resultToProto(Result{ID: 1, Error: "bad \xff byte"}))
	if got.Error != "bad \uFFFD byte" {
		t.Errorf("error text %q", got.Error)
	}
}

func TestConvert_diagnosticsRoundTrip(t *testing.T) {
	want := Diagnostics{
		{Severity: SeverityError, Summary: "Invalid OU", Detail: "Use an OU DN.", Attribute: cty.GetAttrPath("ous").IndexInt(1)},
		{Severity: SeverityWarning, Summary: "No TLS"},
	}
	p, err := diagnosticsToProto(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := diagnosticsFromProto(p)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, ctyCmp); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if _, err := diagnosticsToProto(Diagnostics{{Severity: 7}}); err == nil {
		t.Error("no error for an unknown severity")
	}
	for name, d := range map[string]*proto.Diagnostic{
		"no severity": {Summary: "x"},
		"empty step":  {Severity: proto.Diagnostic_SEVERITY_ERROR, Attribute: &proto.AttributePath{Steps: []*proto.AttributePath_Step{{}}}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := diagnosticsFromProto([]*proto.Diagnostic{d}); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestConvert_invalidSchema(t *testing.T) {
	tests := map[string]*proto.Schema{
		"nil":           nil,
		"bad type":      {Config: &proto.Schema_Block{Attributes: []*proto.Schema_Attribute{{Name: "a", Type: []byte(`"nonsense"`)}}}},
		"no type":       {Config: &proto.Schema_Block{Attributes: []*proto.Schema_Attribute{{Name: "a"}}}},
		"unnamed":       {Config: &proto.Schema_Block{Attributes: []*proto.Schema_Attribute{{Type: []byte(`"string"`)}}}},
		"duplicate":     {Config: &proto.Schema_Block{Attributes: []*proto.Schema_Attribute{{Name: "a", Type: []byte(`"string"`)}}, Blocks: []*proto.Schema_NestedBlock{{Name: "a"}}}},
		"unknown kind":  {Kinds: []string{"printer"}},
		"unnamed block": {Config: &proto.Schema_Block{Blocks: []*proto.Schema_NestedBlock{{}}}},
	}
	for name, p := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := schemaFromProto(p); err == nil {
				t.Error("no error")
			}
		})
	}
}

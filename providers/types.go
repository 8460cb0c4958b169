package providers

import (
	"fmt"

	"github.com/zclconf/go-cty/cty"
)

// Kind is the kind of a directory object. The planner speaks in these, never
// in LDAP objectClass values.
type Kind string

// The object kinds a directory provider may serve.
const (
	KindOU       Kind = "ou"
	KindUser     Kind = "user"
	KindGroup    Kind = "group"
	KindComputer Kind = "computer"
	KindContact  Kind = "contact"
	// KindForeignPrincipal is a foreignSecurityPrincipal: a member of a group
	// that lives in another (trusted) domain.
	KindForeignPrincipal Kind = "foreign_principal"
	// KindTrust is a trustedDomain object: a trust of the domain with
	// another one (attributes trustpartner, flatname, trustdirection,
	// trusttype, trustattributes). Trusts live under CN=System of the
	// domain, outside any OU scope: a provider that lists KindTrust in its
	// Schema reads them under the scope's base DN whatever its OUs.
	KindTrust Kind = "trust"
)

// Trust directions (trustDirection, MS-ADTS 6.1.6.7.12), as seen from the
// domain that holds the trustedDomain object.
const (
	TrustInbound       = 1 // the other domain trusts this one
	TrustOutbound      = 2 // this domain trusts the other one
	TrustBidirectional = 3
)

// Object is one directory entry as discovered.
//
// Attrs is keyed by the lower-cased LDAP attribute name (LDAP names are
// case-insensitive); each value is a string (binary values as raw bytes in
// the string, except objectGUID, objectSid and sIDHistory, which providers
// decode to their string forms). DN, GUID and SID are also kept out of Attrs
// so callers never parse them again. An empty GUID or SID means the directory
// has none for the object.
type Object struct {
	Kind Kind
	DN   string
	// GUID is objectGUID in its canonical string form as AD tools show it:
	// lower-case hex, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", the first three
	// groups byte-swapped from the wire order (Microsoft GUID layout).
	GUID string
	// SID is objectSid in "S-1-5-21-…" form.
	SID string
	// Token changes whenever the object changes (AD's uSNChanged, or a
	// content hash). A saved plan records it; Apply refuses to change an
	// object whose token no longer matches.
	Token string
	Attrs map[string][]string
}

// Get returns the first value of the attribute name (lower-case) or "".
func (o *Object) Get(name string) string {
	if v := o.Attrs[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Scope says what Discover reads.
type Scope struct {
	// BaseDN is the naming context searched, e.g. "DC=source,DC=test".
	BaseDN string
	// IncludeOUs are the subtrees in scope; empty means the whole BaseDN.
	IncludeOUs []string
	// ExcludeOUs are subtrees removed from the included ones.
	ExcludeOUs []string
	// Kinds are the object kinds wanted. OUs are always returned as they
	// are needed to plan the tree; an empty list means every kind.
	Kinds []Kind
	// Attributes are the lower-cased attribute names wanted beyond the
	// identity (DN, GUID, SID, token); nil means all attributes.
	Attributes []string
	// Cache, when not empty, is a file where the provider may keep what it
	// read of this scope, so that the next Discover with the same scope
	// reads only what changed since and merges it (the ad provider does, by
	// uSNChanged). The host owns the path (one per environment and state
	// workspace) and the provider the content, which holds attribute values
	// but never secrets. Discover's result is the same with or without it;
	// a provider that keeps no cache ignores it.
	Cache string
	// FullRefresh asks for a full read although Cache could serve an
	// incremental one; the cache is rewritten from the full read.
	FullRefresh bool
}

// Op is what a Change does.
type Op string

// The operations a provider applies.
const (
	OpCreate Op = "create"
	OpUpdate Op = "update"
	OpMove   Op = "move"
	OpDelete Op = "delete"
)

// AttrOp says how an AttrChange alters an attribute.
type AttrOp string

// Attribute operations, as LDAP modify knows them.
const (
	AttrReplace AttrOp = "replace" // set exactly Values (empty Values removes the attribute)
	AttrAdd     AttrOp = "add"     // add Values to the existing ones
	AttrDelete  AttrOp = "delete"  // remove Values (all values when Values is empty)
)

// AttrChange is one attribute-level delta.
type AttrChange struct {
	Name   string // attribute name as the template spells it, e.g. "displayName"
	Op     AttrOp
	Values []string
}

// Change is one write against the target. The planner assigns ID and sends
// a Change only when everything it depends on has completed.
type Change struct {
	ID   int64
	Op   Op
	Kind Kind
	// DN is the object's DN: the new DN for OpCreate, the current DN for the
	// other operations.
	DN string
	// NewDN is the destination of an OpMove.
	NewDN string
	// GUID is the target object's objectGUID when it exists (not OpCreate).
	GUID string
	// Token is the change token the plan saw for the target object; when
	// non-empty the provider must refuse the change if the object's current
	// token differs (the plan is stale for that object).
	Token string
	// Attrs are the values of a new object (OpCreate, all AttrReplace) or
	// the deltas of an OpUpdate (group membership travels as AttrAdd and
	// AttrDelete of "member").
	Attrs []AttrChange
}

// Result reports one completed (or failed) Change.
type Result struct {
	ID int64
	// DN, GUID, SID and Token describe the object after the change (for
	// OpDelete only DN and GUID are meaningful).
	DN    string
	GUID  string
	SID   string
	Token string
	// Error is non-empty when the change was not applied; it says why in a
	// sentence a user can act on.
	Error string
}

// Schema describes a provider.
type Schema struct {
	// Name is the provider's type name, e.g. "ldif" or "ad".
	Name string
	// Version is the provider's version string.
	Version string
	// Config is the schema of the provider-owned part of an environment
	// block (everything beyond the core attributes the host decodes itself).
	Config Block
	// Kinds are the object kinds the provider can discover and write.
	Kinds []Kind
	// PID is the process ID the provider runs in, so the host can tell (and
	// tests can check) that it crossed a process boundary.
	PID int
}

// Block is the schema of an HCL body: attributes and nested single blocks.
type Block struct {
	Attributes []Attribute
	Blocks     []NestedBlock
}

// Attribute is one configuration attribute.
type Attribute struct {
	Name        string
	Type        cty.Type
	Required    bool
	Sensitive   bool
	Description string
}

// NestedBlock is a nested block that may appear at most once.
type NestedBlock struct {
	Name     string
	Block    Block
	Required bool
}

// ImpliedType is the cty object type a value of this block has: one
// attribute per Attribute and one object attribute per NestedBlock (null
// when the block is absent).
func (b Block) ImpliedType() cty.Type {
	atys := make(map[string]cty.Type, len(b.Attributes)+len(b.Blocks))
	for _, a := range b.Attributes {
		atys[a.Name] = a.Type
	}
	for _, nb := range b.Blocks {
		atys[nb.Name] = nb.Block.ImpliedType()
	}
	return cty.Object(atys)
}

// Severity of a Diagnostic.
type Severity int

// Diagnostic severities.
const (
	SeverityError Severity = iota
	SeverityWarning
)

// Diagnostic is a user-facing problem a provider reports about its
// configuration. Attribute points at the attribute concerned, so the host
// can show the file and line.
type Diagnostic struct {
	Severity  Severity
	Summary   string
	Detail    string
	Attribute cty.Path
}

// Diagnostics is a list of Diagnostic.
type Diagnostics []Diagnostic

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Err returns the diagnostics' errors as one error, or nil.
func (ds Diagnostics) Err() error {
	for _, d := range ds {
		if d.Severity == SeverityError {
			return fmt.Errorf("%s: %s", d.Summary, d.Detail)
		}
	}
	return nil
}

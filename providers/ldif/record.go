package ldif

import "strings"

// Change types of a Record, as written after "changetype:".
const (
	ChangeAdd    = "add"
	ChangeDelete = "delete"
	ChangeModify = "modify"
	ChangeModRDN = "modrdn"
	ChangeModDN  = "moddn"
)

// Modification operations of a modify record.
const (
	ModAdd       = "add"
	ModDelete    = "delete"
	ModReplace   = "replace"
	ModIncrement = "increment"
)

// Attr is one attribute of an entry: its description as written (options
// such as ";binary" or ";range=0-1499" kept) and its values in file order.
// Values are raw bytes held in strings (base64 values decoded).
type Attr struct {
	Name   string
	Values []string
}

// Mod is one modification of a modify record. An empty Attr.Values with
// ModDelete removes the whole attribute; with ModReplace it removes it too.
type Mod struct {
	Op   string
	Attr Attr
}

// Record is one LDIF record: a content entry (ChangeType "") or a change
// record. ldifde writes "changetype: add" on every exported entry, so a
// record with ChangeType "add" is also an entry; IsEntry says so.
type Record struct {
	DN string
	// Line is the line number of the "dn:" line (1-based), for messages.
	Line int
	// ChangeType is "", add, delete, modify, modrdn or moddn.
	ChangeType string
	// Controls are the raw values of "control:" lines, which the reader
	// keeps and the provider ignores.
	Controls []string
	// Attrs holds the attributes of an entry or an add record.
	Attrs []Attr
	// Mods holds the modifications of a modify record.
	Mods []Mod
	// NewRDN, DeleteOldRDN and NewSuperior describe a modrdn/moddn record;
	// NewSuperior is empty when the entry stays under its parent.
	NewRDN       string
	DeleteOldRDN bool
	NewSuperior  string
}

// IsEntry reports whether r describes a whole entry (a content record or
// an add record).
func (r *Record) IsEntry() bool {
	return r.ChangeType == "" || r.ChangeType == ChangeAdd
}

// Get returns the values of the attribute named name (case-insensitive,
// options must match too), or nil.
func (r *Record) Get(name string) []string {
	for i := range r.Attrs {
		if strings.EqualFold(r.Attrs[i].Name, name) {
			return r.Attrs[i].Values
		}
	}
	return nil
}

// BaseName returns an attribute description without its options:
// "member;range=0-1499" gives "member".
func BaseName(desc string) string {
	if i := strings.IndexByte(desc, ';'); i >= 0 {
		return desc[:i]
	}
	return desc
}

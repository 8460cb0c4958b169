package ldif

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/adshift/adshift/adid"
	"github.com/adshift/adshift/dn"
	"github.com/adshift/adshift/providers"
)

// Version is the provider's version string.
const Version = "0.1.0"

// ApplyDelayEnv names the test knob: a Go duration slept before each change
// in Apply, so tests can kill an apply midway.
const ApplyDelayEnv = "ADSHIFT_LDIF_APPLY_DELAY"

// batchSize is the number of objects Discover hands to emit at a time.
const batchSize = 1000

// Provider serves a directory kept as an LDIF snapshot file. It is safe for
// concurrent use: Discover and Apply calls are serialised internally.
type Provider struct {
	log hclog.Logger

	applyMu sync.Mutex // one Apply at a time
	mu      sync.Mutex // guards the fields below
	file    string
	changes string
	st      *store
	stamp   fileStamp

	// skipFold leaves snapshot and journal as a killed apply would (tests).
	skipFold bool
}

type fileStamp struct {
	mod  time.Time
	size int64
}

var _ providers.Provider = (*Provider)(nil)

// New returns an unconfigured provider; logger may be nil.
func New(logger hclog.Logger) *Provider {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &Provider{log: logger.Named("ldif")}
}

// GetSchema implements providers.Provider.
func (p *Provider) GetSchema(ctx context.Context) (*providers.Schema, error) {
	return &providers.Schema{
		Name:    "ldif",
		Version: Version,
		Config: providers.Block{Attributes: []providers.Attribute{
			{Name: "file", Type: cty.String, Required: true,
				Description: "Path of the LDIF snapshot (an ldifde -f or ldapsearch -LLL export). Relative paths are relative to the configuration directory."},
			{Name: "changes_file", Type: cty.String,
				Description: "Where applied changes are appended as LDIF change records for ldapmodify; default <file without .ldif>.changes.ldif."},
		}},
		Kinds: []providers.Kind{providers.KindOU, providers.KindUser, providers.KindGroup, providers.KindComputer,
			providers.KindContact, providers.KindForeignPrincipal, providers.KindTrust},
		PID: os.Getpid(),
	}, nil
}

// DefaultChangesFile returns the changes file used when changes_file is
// not set: the snapshot path with ".ldif" replaced by ".changes.ldif".
func DefaultChangesFile(file string) string {
	if ext := filepath.Ext(file); strings.EqualFold(ext, ".ldif") {
		file = file[:len(file)-len(ext)]
	}
	return file + ".changes.ldif"
}

func stringAttr(config cty.Value, name string) (string, bool) {
	if config.IsNull() || !config.IsKnown() || !config.Type().IsObjectType() || !config.Type().HasAttribute(name) {
		return "", false
	}
	v := config.GetAttr(name)
	if v.IsNull() || !v.IsKnown() || !v.Type().Equals(cty.String) {
		return "", false
	}
	return v.AsString(), true
}

// Configure implements providers.Provider. It checks that the snapshot is
// a readable LDIF file whose first record is a valid entry; the rest is
// read by Discover (streamed) or on the first Apply (loaded). When a killed
// apply left a journal behind, it loads the snapshot now, replaying and
// folding the journal.
func (p *Provider) Configure(ctx context.Context, config cty.Value) (providers.Diagnostics, error) {
	var diags providers.Diagnostics
	file, ok := stringAttr(config, "file")
	if !ok || file == "" {
		return append(diags, providers.Diagnostic{
			Severity: providers.SeverityError, Summary: "Missing LDIF file",
			Detail:    `Set "file" to the path of an LDIF export of the directory, e.g. one written by "ldifde -f source.ldif" or "ldapsearch -LLL".`,
			Attribute: cty.GetAttrPath("file"),
		}), nil
	}
	changes, ok := stringAttr(config, "changes_file")
	if !ok || changes == "" {
		changes = DefaultChangesFile(file)
	}
	if st, err := os.Stat(file); err != nil || !st.Mode().IsRegular() {
		detail := fmt.Sprintf("The LDIF snapshot %q does not exist or is not a regular file. Export the directory with \"ldifde -f %s\" (or ldapsearch -LLL > %s), or create an empty file for an empty directory. Relative paths are relative to the configuration directory.", file, filepath.Base(file), filepath.Base(file))
		return append(diags, providers.Diagnostic{Severity: providers.SeverityError, Summary: "LDIF file not found", Detail: detail, Attribute: cty.GetAttrPath("file")}), nil
	}
	p.applyMu.Lock() // never swap the snapshot under a running Apply
	defer p.applyMu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.file, p.changes, p.st = file, changes, nil
	if !journalExists(file) {
		if err := checkHead(file, filepath.Base(file), filepath.Dir(file)); err != nil {
			return append(diags, loadDiagnostic(err)), nil
		}
		p.log.Debug("checked snapshot", "file", file)
		return diags, nil
	}
	if err := p.loadLocked(); err != nil {
		return append(diags, loadDiagnostic(err)), nil
	}
	p.log.Debug("loaded snapshot", "file", file, "entries", len(p.st.entries), "generation", p.st.generation)
	return diags, nil
}

// loadDiagnostic reports a snapshot that cannot be read or loaded.
func loadDiagnostic(err error) providers.Diagnostic {
	var le *Error
	if errors.As(err, &le) {
		return providers.Diagnostic{Severity: providers.SeverityError, Summary: "Invalid LDIF file",
			Detail: err.Error(), Attribute: cty.GetAttrPath("file")}
	}
	return providers.Diagnostic{Severity: providers.SeverityError, Summary: "Cannot load LDIF file",
		Detail: fmt.Sprintf("%v. Check the file's permissions and that it is an LDIF export.", err), Attribute: cty.GetAttrPath("file")}
}

// checkHead opens the snapshot and reads its first record, which must be
// an entry with a valid DN (an empty file is an empty directory): a file
// that cannot be read or is not an LDIF export fails here, cheaply.
func checkHead(path, name, baseDir string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := NewReader(f, name, ReaderOptions{AllowFileURLs: true, BaseDir: baseDir})
	rec, err := r.Next()
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if !rec.IsEntry() {
		return notEntryError(name, rec)
	}
	if _, err := dn.Parse(rec.DN); err != nil {
		return &Error{File: name, Line: rec.Line, Msg: err.Error()}
	}
	return nil
}

func statFile(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{mod: fi.ModTime(), size: fi.Size()}
}

// loadLocked (re)loads the snapshot when it is not loaded or changed on
// disk, recovering a journal first. p.mu must be held.
func (p *Provider) loadLocked() error {
	if p.file == "" {
		return errors.New("ldif provider is not configured")
	}
	if p.st != nil && statFile(p.file) == p.stamp {
		return nil
	}
	st, err := loadStore(p.file, filepath.Base(p.file), filepath.Dir(p.file))
	if err != nil {
		return fmt.Errorf("load %s: %w", p.file, err)
	}
	recovered, err := recoverJournal(st, p.file, p.changes)
	if err != nil {
		return err
	}
	if recovered > 0 {
		p.log.Info("replayed journal of an interrupted apply", "file", p.file, "records", recovered)
	}
	p.st, p.stamp = st, statFile(p.file)
	return nil
}

// Discover implements providers.Provider. When no snapshot is loaded
// (nothing was applied in this process) it streams the file (see stream);
// otherwise it walks the loaded snapshot.
func (p *Provider) Discover(ctx context.Context, scope providers.Scope, emit func([]providers.Object) error) error {
	sel, err := newSelection(scope)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.st == nil && p.file != "" && !journalExists(p.file) {
		return p.streamLocked(ctx, sel, emit)
	}
	if err := p.loadLocked(); err != nil {
		return err
	}
	out := newBatcher(emit)
	for _, e := range p.st.sorted() {
		if err := ctx.Err(); err != nil {
			return err
		}
		kind, ok := classify(e)
		in := sel.inScope(e.dn)
		if !ok && in && e.get("objectClass") == nil {
			return fmt.Errorf("read %s: %w", p.file, unclassifiedError(p.st.name, p.st.unclassified[e.key], e.dnStr))
		}
		if kind == providers.KindTrust && !in {
			in = sel.systemKey != "" && dn.ParentKey(e.key) == sel.systemKey
		}
		if !ok || !in || !sel.keepKind(kind) {
			continue
		}
		if err := out.add(toObject(e, kind, sel.want, sel.names)); err != nil {
			return err
		}
	}
	return out.flush()
}

// selection is a Scope prepared for matching entries.
type selection struct {
	base               dn.DN
	includes, excludes []dn.DN
	kinds              map[providers.Kind]bool // nil: all
	want               map[string]bool         // discovered attribute names; nil: all
	names              map[string]string       // attribute description -> discovered name
	// systemKey is the key of CN=System under base when trusts are
	// wanted: trusts are read there whatever the OU scope.
	systemKey string
}

func newSelection(scope providers.Scope) (*selection, error) {
	base, err := dn.Parse(scope.BaseDN)
	if err != nil {
		return nil, fmt.Errorf("discover: base DN: %w", err)
	}
	includes, err := parseDNs(scope.IncludeOUs)
	if err != nil {
		return nil, fmt.Errorf("discover: include OU: %w", err)
	}
	excludes, err := parseDNs(scope.ExcludeOUs)
	if err != nil {
		return nil, fmt.Errorf("discover: exclude OU: %w", err)
	}
	sel := &selection{base: base, includes: includes, excludes: excludes, names: make(map[string]string, 64)}
	if len(scope.Kinds) > 0 {
		sel.kinds = make(map[providers.Kind]bool, len(scope.Kinds))
		for _, k := range scope.Kinds {
			sel.kinds[k] = true
		}
	}
	if sel.kinds == nil || sel.kinds[providers.KindTrust] {
		sel.systemKey = base.Child("CN", "System").Key()
	}
	if scope.Attributes != nil {
		sel.want = make(map[string]bool, len(scope.Attributes))
		for _, a := range scope.Attributes {
			sel.want[strings.ToLower(a)] = true
		}
	}
	return sel, nil
}

func (s *selection) inScope(d dn.DN) bool { return inScope(d, s.base, s.includes, s.excludes) }

// keepKind reports whether objects of kind are wanted; OUs in scope always
// are.
func (s *selection) keepKind(kind providers.Kind) bool {
	return s.kinds == nil || s.kinds[kind] || kind == providers.KindOU
}

// batcher hands objects to emit batchSize at a time.
type batcher struct {
	emit  func([]providers.Object) error
	batch []providers.Object
}

func newBatcher(emit func([]providers.Object) error) *batcher {
	return &batcher{emit: emit, batch: make([]providers.Object, 0, batchSize)}
}

func (b *batcher) add(o providers.Object) error {
	b.batch = append(b.batch, o)
	if len(b.batch) < batchSize {
		return nil
	}
	err := b.emit(b.batch)
	b.batch = make([]providers.Object, 0, batchSize) // emit may keep the slice
	return err
}

func (b *batcher) flush() error {
	if len(b.batch) == 0 {
		return nil
	}
	err := b.emit(b.batch)
	b.batch = nil
	return err
}

func parseDNs(ss []string) ([]dn.DN, error) {
	out := make([]dn.DN, 0, len(ss))
	for _, s := range ss {
		d, err := dn.Parse(s)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func inScope(d, base dn.DN, includes, excludes []dn.DN) bool {
	if !d.InSubtree(base) {
		return false
	}
	if len(includes) > 0 {
		in := false
		for _, inc := range includes {
			if d.InSubtree(inc) {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	for _, ex := range excludes {
		if d.InSubtree(ex) {
			return false
		}
	}
	return true
}

// classify maps objectClass values to a Kind; computers are users too, so
// computer is tested first.
func classify(e *entry) (providers.Kind, bool) {
	a := e.get("objectClass")
	if a == nil {
		return "", false
	}
	var has uint8
	const (
		computer = 1 << iota
		fsp
		group
		contact
		user
		ou
		trust
	)
	for _, v := range a.Values {
		switch strings.ToLower(v) {
		case "computer":
			has |= computer
		case "foreignsecurityprincipal":
			has |= fsp
		case "group":
			has |= group
		case "contact":
			has |= contact
		case "user", "inetorgperson":
			has |= user
		case "organizationalunit":
			has |= ou
		case "trusteddomain":
			has |= trust
		}
	}
	switch {
	case has&computer != 0:
		return providers.KindComputer, true
	case has&fsp != 0:
		return providers.KindForeignPrincipal, true
	case has&group != 0:
		return providers.KindGroup, true
	case has&contact != 0:
		return providers.KindContact, true
	case has&user != 0:
		return providers.KindUser, true
	case has&ou != 0:
		return providers.KindOU, true
	case has&trust != 0:
		return providers.KindTrust, true
	}
	return "", false
}

// token is uSNChanged when present, else a hash of the entry's content.
func token(e *entry) string {
	if v := e.first("uSNChanged"); v != "" {
		return v
	}
	h := fnv.New64a()
	h.Write([]byte(e.key))
	for _, a := range e.attrs {
		h.Write([]byte{0})
		h.Write([]byte(strings.ToLower(a.Name)))
		for _, v := range a.Values {
			h.Write([]byte{1})
			h.Write([]byte(v))
		}
	}
	return "h" + strconv.FormatUint(h.Sum64(), 16)
}

// discoverName is the lower-cased attribute name Discover reports: range
// and binary transfer options are dropped so ranged values merge.
func discoverName(desc string) string {
	lower := strings.ToLower(desc)
	if !strings.Contains(lower, ";") {
		return lower
	}
	parts := strings.Split(lower, ";")
	out := parts[:1]
	for _, o := range parts[1:] {
		if o == "binary" || strings.HasPrefix(o, "range=") {
			continue
		}
		out = append(out, o)
	}
	return strings.Join(out, ";")
}

// discoveredName is discoverName(desc), remembered in names.
func discoveredName(desc string, names map[string]string) string {
	name, ok := names[desc]
	if !ok {
		name = discoverName(desc)
		names[desc] = name
	}
	return name
}

func toObject(e *entry, kind providers.Kind, want map[string]bool, names map[string]string) providers.Object {
	o := providers.Object{Kind: kind, DN: e.dnStr, GUID: e.guid(), SID: e.sid(), Token: token(e)}
	// The discovered name of each attribute, whether it is wanted and how
	// many are: the map is sized for them (maps are most of Discover's
	// memory).
	type named struct {
		name string
		keep bool
	}
	var buf [32]named
	ns := buf[:0]
	if len(e.attrs) > len(buf) {
		ns = make([]named, 0, len(e.attrs))
	}
	n := 0
	for _, a := range e.attrs {
		name := discoveredName(a.Name, names)
		keep := want == nil || want[name]
		if keep {
			n++
		}
		ns = append(ns, named{name, keep})
	}
	o.Attrs = make(map[string][]string, n)
	for i, a := range e.attrs {
		name := ns[i].name
		if !ns[i].keep {
			continue
		}
		vals := a.Values
		if IsBinaryIdentity(name) {
			vals = make([]string, 0, len(a.Values))
			for _, v := range a.Values {
				if s, err := DecodeIdentity(name, v); err == nil {
					vals = append(vals, s)
				} else {
					vals = append(vals, v)
				}
			}
		}
		if prev, ok := o.Attrs[name]; ok {
			o.Attrs[name] = append(prev[:len(prev):len(prev)], vals...)
		} else {
			o.Attrs[name] = vals
		}
	}
	return o
}

// Stop implements providers.Provider.
func (p *Provider) Stop(ctx context.Context) error {
	return nil
}

// Apply implements providers.Provider: see doc.go for the durability
// protocol.
func (p *Provider) Apply(ctx context.Context, in <-chan providers.Change, emit func(providers.Result) error) error {
	p.applyMu.Lock()
	defer p.applyMu.Unlock()
	var delay time.Duration
	if v := os.Getenv(ApplyDelayEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("apply: %s=%q is not a duration: %w", ApplyDelayEnv, v, err)
		}
		delay = d
	}
	p.mu.Lock()
	err := p.loadLocked()
	file, changesFile := p.file, p.changes
	p.mu.Unlock()
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	j := &journal{file: file, changesFile: changesFile}
	defer j.close()

	runErr := p.applyLoop(ctx, in, emit, j, delay)
	if !j.opened() || p.skipFold {
		return runErr
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.st == nil {
		return runErr // a write failed; the journal is replayed on next load
	}
	if err := j.close(); err != nil {
		return errors.Join(runErr, err)
	}
	if err := fold(p.st, file); err != nil {
		return errors.Join(runErr, fmt.Errorf("apply: %w", err))
	}
	p.stamp = statFile(file)
	return runErr
}

func (p *Provider) applyLoop(ctx context.Context, in <-chan providers.Change, emit func(providers.Result) error, j *journal, delay time.Duration) error {
	for {
		var batch []providers.Change
		select {
		case <-ctx.Done():
			return ctx.Err()
		case c, ok := <-in:
			if !ok {
				return nil
			}
			batch = append(batch, c)
		}
		// Group commit: take what is already waiting (not with the test
		// delay, which wants one change per commit).
	drain:
		for delay == 0 && len(batch) < 256 {
			select {
			case c, ok := <-in:
				if !ok {
					break drain
				}
				batch = append(batch, c)
			default:
				break drain
			}
		}
		results := make([]providers.Result, 0, len(batch))
		var jrecs, urecs []*Record
		p.mu.Lock()
		for _, c := range batch {
			if delay > 0 {
				p.mu.Unlock()
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(delay):
				}
				p.mu.Lock()
			}
			res, jr, ur := p.applyChange(c)
			results = append(results, res)
			jrecs = append(jrecs, jr...)
			urecs = append(urecs, ur...)
		}
		if len(jrecs) > 0 {
			if err := j.commit(p.st.generation, jrecs, urecs); err != nil {
				p.st = nil // memory is ahead of disk: reload (and replay) next time
				p.mu.Unlock()
				return fmt.Errorf("apply: %w", err)
			}
		}
		p.mu.Unlock()
		for _, r := range results {
			if err := emit(r); err != nil {
				return err
			}
		}
	}
}

func fail(c providers.Change, format string, args ...any) (providers.Result, []*Record, []*Record) {
	return providers.Result{ID: c.ID, DN: c.DN, GUID: c.GUID, Error: fmt.Sprintf(format, args...)}, nil, nil
}

// applyChange validates c against the store, applies it and returns the
// result, the journal records (exact effect) and the records for the
// changes file (what ldapmodify should do). p.mu is held.
func (p *Provider) applyChange(c providers.Change) (providers.Result, []*Record, []*Record) {
	st := p.st
	name := st.name
	if c.Op == providers.OpCreate {
		return p.create(c)
	}
	var e *entry
	if c.GUID != "" {
		g, err := DecodeIdentity("objectguid", c.GUID)
		if err != nil {
			return fail(c, "Invalid objectGUID %q in the change: %v.", c.GUID, err)
		}
		if e = st.byGUID[g]; e == nil {
			return fail(c, "No object with objectGUID %s exists in %s; it was deleted since the plan was made. Run plan again.", g, name)
		}
	} else {
		d, err := dn.Parse(c.DN)
		if err != nil {
			return fail(c, "The change's DN is invalid: %v.", err)
		}
		if e = st.entries[d.Key()]; e == nil {
			return fail(c, "No object %s exists in %s; it was deleted or moved since the plan was made. Run plan again.", c.DN, name)
		}
	}
	if c.Token != "" && c.Token != token(e) {
		return fail(c, "The object %s changed since the plan was made (change token %s, now %s). Run plan again and review the new plan.", e.dnStr, c.Token, token(e))
	}
	switch c.Op {
	case providers.OpUpdate:
		return p.update(c, e)
	case providers.OpMove:
		return p.moveChange(c, e)
	case providers.OpDelete:
		if st.children[e.key] > 0 {
			return fail(c, "%s has %d child objects in %s; delete or move them first (adshift never deletes a subtree).", e.dnStr, st.children[e.key], name)
		}
		res := providers.Result{ID: c.ID, DN: e.dnStr, GUID: e.guid()}
		rec := &Record{DN: e.dnStr, ChangeType: ChangeDelete}
		if err := st.applyRecord(rec); err != nil {
			return fail(c, "Deleting %s failed: %v.", e.dnStr, err)
		}
		return res, []*Record{rec}, []*Record{rec}
	}
	return fail(c, "Unsupported operation %q.", c.Op)
}

// objectClasses are the classes a created object of each kind gets.
var objectClasses = map[providers.Kind][]string{
	providers.KindUser:             {"top", "person", "organizationalPerson", "user"},
	providers.KindComputer:         {"top", "person", "organizationalPerson", "user", "computer"},
	providers.KindGroup:            {"top", "group"},
	providers.KindOU:               {"top", "organizationalUnit"},
	providers.KindContact:          {"top", "person", "organizationalPerson", "contact"},
	providers.KindForeignPrincipal: {"top", "foreignSecurityPrincipal"},
}

// systemAttrs are maintained by the directory: a change may not set them,
// and the changes file never carries them.
var systemAttrs = map[string]bool{
	"objectguid": true, "objectsid": true, "distinguishedname": true, "name": true,
	"usncreated": true, "usnchanged": true, "whencreated": true, "whenchanged": true,
}

// writeOnly are password attributes: AD accepts them in writes and never
// returns them, so they go to the changes file (for ldapmodify) but never
// into the snapshot or the journal, and never into a message.
var writeOnly = map[string]bool{
	"unicodepwd": true, "userpassword": true, "clearpassword": true, "dbcspwd": true,
	"supplementalcredentials": true, "ntpwdhistory": true, "lmpwdhistory": true,
}

func modOp(op providers.AttrOp) string {
	switch op {
	case providers.AttrAdd:
		return ModAdd
	case providers.AttrDelete:
		return ModDelete
	}
	return ModReplace
}

func generalizedTime(t time.Time) string { return t.UTC().Format("20060102150405") + ".0Z" }

func (p *Provider) create(c providers.Change) (providers.Result, []*Record, []*Record) {
	st := p.st
	classes, ok := objectClasses[c.Kind]
	if !ok {
		return fail(c, "Cannot create an object of kind %q.", c.Kind)
	}
	d, err := dn.Parse(c.DN)
	if err != nil || d.IsZero() {
		return fail(c, "The new object's DN %q is invalid: %v.", c.DN, err)
	}
	if e, ok := st.entries[d.Key()]; ok {
		return fail(c, "An object %s already exists in %s (objectGUID %s); plan again to match it instead of creating it.", e.dnStr, st.name, e.guid())
	}
	if !st.exists(d.Parent()) {
		return fail(c, "The parent OU %s of %s does not exist in %s; create it first (add it to the template's target OUs) or fix the target DN.", d.Parent(), c.DN, st.name)
	}
	rdnType, rdnValue := d.RDN()
	dnStr := d.String()
	user := []Attr{{Name: "objectClass", Values: append([]string(nil), classes...)}}
	for _, ac := range c.Attrs {
		lower := strings.ToLower(BaseName(ac.Name))
		if !validName(ac.Name) {
			return fail(c, "%q is not a valid LDAP attribute name; fix the template.", ac.Name)
		}
		if systemAttrs[lower] {
			return fail(c, "%s is maintained by the directory and cannot be set on %s; remove it from the template.", ac.Name, c.DN)
		}
		if strings.EqualFold(ac.Name, rdnType) {
			continue // the RDN decides
		}
		vals, err := encodeValues(lower, ac.Values)
		if err != nil {
			return fail(c, "Value of %s for %s: %v.", ac.Name, c.DN, err)
		}
		if ac.Op == providers.AttrDelete || len(vals) == 0 {
			continue
		}
		if lower == "objectclass" {
			for _, v := range vals {
				if !containsFold(user[0].Values, v) {
					user[0].Values = append(user[0].Values, v)
				}
			}
			continue
		}
		user = addValuesAttr(user, ac.Name, vals)
	}
	user = append(user, Attr{Name: rdnType, Values: []string{rdnValue}})

	u, err := uuid.NewRandom() // version 4, as AD's objectGUIDs are
	if err != nil {
		return fail(c, "Cannot generate an objectGUID: %v.", err)
	}
	g := adid.GUIDFromUUID(u)
	guid := g.String()
	st.usn++
	usn := strconv.FormatInt(st.usn, 10)
	now := generalizedTime(time.Now())
	full := make([]Attr, 0, len(user)+8)
	for _, a := range user {
		if !writeOnly[strings.ToLower(BaseName(a.Name))] {
			full = append(full, a)
		}
	}
	full = append(full,
		Attr{Name: "distinguishedName", Values: []string{dnStr}},
		Attr{Name: "name", Values: []string{rdnValue}},
		Attr{Name: "objectGUID", Values: []string{string(g[:])}},
	)
	var sid string
	switch c.Kind {
	case providers.KindUser, providers.KindGroup, providers.KindComputer:
		sid = st.nextSID(d)
		b, err := EncodeIdentity("objectsid", sid)
		if err != nil {
			return fail(c, "Cannot make an objectSid for %s from %s: %v.", c.DN, sid, err)
		}
		full = append(full, Attr{Name: "objectSid", Values: []string{b}})
	}
	full = append(full,
		Attr{Name: "uSNCreated", Values: []string{usn}},
		Attr{Name: "uSNChanged", Values: []string{usn}},
		Attr{Name: "whenCreated", Values: []string{now}},
		Attr{Name: "whenChanged", Values: []string{now}},
	)
	jrec := &Record{DN: dnStr, ChangeType: ChangeAdd, Attrs: full}
	if err := st.applyRecord(jrec); err != nil {
		return fail(c, "Creating %s failed: %v.", c.DN, err)
	}
	urec := &Record{DN: dnStr, ChangeType: ChangeAdd, Attrs: user}
	return providers.Result{ID: c.ID, DN: dnStr, GUID: guid, SID: sid, Token: usn}, []*Record{jrec}, []*Record{urec}
}

func addValuesAttr(attrs []Attr, name string, vals []string) []Attr {
	for i := range attrs {
		if strings.EqualFold(attrs[i].Name, name) {
			for _, v := range vals {
				if indexValue(name, attrs[i].Values, v) < 0 {
					attrs[i].Values = append(attrs[i].Values, v)
				}
			}
			return attrs
		}
	}
	return append(attrs, Attr{Name: name, Values: append([]string(nil), vals...)})
}

// encodeValues turns string GUIDs/SIDs into their binary form.
func encodeValues(lower string, vals []string) ([]string, error) {
	if !IsBinaryIdentity(lower) {
		return vals, nil
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		b, err := EncodeIdentity(lower, v)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func (p *Provider) update(c providers.Change, e *entry) (providers.Result, []*Record, []*Record) {
	st := p.st
	rdnType, _ := e.dn.RDN()
	scratch := e.clone()
	var mods, secret []Mod
	for _, ac := range c.Attrs {
		lower := strings.ToLower(BaseName(ac.Name))
		if !validName(ac.Name) {
			return fail(c, "%q is not a valid LDAP attribute name; fix the template.", ac.Name)
		}
		if systemAttrs[lower] {
			return fail(c, "%s is maintained by the directory and cannot be changed on %s; remove it from the template.", ac.Name, e.dnStr)
		}
		if strings.EqualFold(BaseName(ac.Name), rdnType) {
			return fail(c, "%s is the naming attribute of %s; rename the object with a move instead of changing %s.", ac.Name, e.dnStr, ac.Name)
		}
		vals, err := encodeValues(lower, ac.Values)
		if err != nil {
			return fail(c, "Value of %s for %s: %v.", ac.Name, e.dnStr, err)
		}
		if writeOnly[lower] {
			secret = append(secret, Mod{Op: modOp(ac.Op), Attr: Attr{Name: ac.Name, Values: vals}})
			continue
		}
		lenient := lower == "member"
		cur := scratch.get(ac.Name)
		var m Mod
		switch ac.Op {
		case providers.AttrReplace:
			if cur == nil && len(vals) == 0 {
				continue
			}
			m = Mod{Op: ModReplace, Attr: Attr{Name: ac.Name, Values: vals}}
		case providers.AttrAdd:
			var add []string
			for _, v := range vals {
				present := indexValue(ac.Name, add, v) >= 0
				if cur != nil && indexValue(ac.Name, cur.Values, v) >= 0 {
					present = true
				}
				if present {
					if lenient {
						continue
					}
					return fail(c, "%s of %s already has the value %q (LDAP refuses to add it twice); plan again.", ac.Name, e.dnStr, printable(lower, v))
				}
				add = append(add, v)
			}
			if len(add) == 0 {
				continue
			}
			m = Mod{Op: ModAdd, Attr: Attr{Name: ac.Name, Values: add}}
		case providers.AttrDelete:
			if cur == nil {
				if lenient {
					continue
				}
				return fail(c, "%s has no %s to delete; plan again.", e.dnStr, ac.Name)
			}
			var del []string
			for _, v := range vals {
				if indexValue(ac.Name, cur.Values, v) < 0 {
					if lenient {
						continue
					}
					return fail(c, "%s of %s has no value %q to delete; plan again.", ac.Name, e.dnStr, printable(lower, v))
				}
				del = append(del, v)
			}
			if len(vals) > 0 && len(del) == 0 {
				continue
			}
			m = Mod{Op: ModDelete, Attr: Attr{Name: ac.Name, Values: del}}
		default:
			return fail(c, "Unsupported attribute operation %q on %s.", ac.Op, ac.Name)
		}
		if err := applyMod(scratch, m); err != nil {
			return fail(c, "Updating %s failed: %v.", e.dnStr, err)
		}
		mods = append(mods, m)
	}
	res := providers.Result{ID: c.ID, DN: e.dnStr, GUID: e.guid(), SID: e.sid()}
	if len(mods) == 0 && len(secret) == 0 {
		res.Token = token(e)
		return res, nil, nil // nothing to do: already as wanted
	}
	st.usn++
	usn := strconv.FormatInt(st.usn, 10)
	jmods := append(append([]Mod(nil), mods...),
		Mod{Op: ModReplace, Attr: Attr{Name: "uSNChanged", Values: []string{usn}}},
		Mod{Op: ModReplace, Attr: Attr{Name: "whenChanged", Values: []string{generalizedTime(time.Now())}}})
	jrec := &Record{DN: e.dnStr, ChangeType: ChangeModify, Mods: jmods}
	if err := st.applyRecord(jrec); err != nil {
		return fail(c, "Updating %s failed: %v.", e.dnStr, err)
	}
	res.Token = token(e)
	return res, []*Record{jrec}, []*Record{{DN: e.dnStr, ChangeType: ChangeModify, Mods: append(mods, secret...)}}
}

// printable shows a value in a message; binary identities in string form.
func printable(lower, v string) string {
	if writeOnly[lower] {
		return "(hidden)"
	}
	if IsBinaryIdentity(lower) {
		if s, err := DecodeIdentity(lower, v); err == nil {
			return s
		}
	}
	return v
}

func (p *Provider) moveChange(c providers.Change, e *entry) (providers.Result, []*Record, []*Record) {
	st := p.st
	to, err := dn.Parse(c.NewDN)
	if err != nil || to.IsZero() {
		return fail(c, "The destination DN %q of the move is invalid: %v.", c.NewDN, err)
	}
	if to.IsDescendantOf(e.dn) {
		return fail(c, "Cannot move %s below itself (to %s).", e.dnStr, c.NewDN)
	}
	if other, ok := st.entries[to.Key()]; ok && other != e {
		return fail(c, "An object %s already exists in %s; cannot move %s there.", other.dnStr, st.name, e.dnStr)
	}
	if !st.exists(to.Parent()) {
		return fail(c, "The parent OU %s of the destination %s does not exist in %s; create it first.", to.Parent(), c.NewDN, st.name)
	}
	oldDN := e.dnStr
	mv := &Record{DN: oldDN, ChangeType: ChangeModDN, NewRDN: to.RDNString(), DeleteOldRDN: true}
	if !to.Parent().Equal(e.dn.Parent()) {
		mv.NewSuperior = to.Parent().String()
	}
	if err := st.applyRecord(mv); err != nil {
		return fail(c, "Moving %s failed: %v.", oldDN, err)
	}
	st.usn++
	usn := strconv.FormatInt(st.usn, 10)
	stamp := &Record{DN: e.dnStr, ChangeType: ChangeModify, Mods: []Mod{
		{Op: ModReplace, Attr: Attr{Name: "uSNChanged", Values: []string{usn}}},
		{Op: ModReplace, Attr: Attr{Name: "whenChanged", Values: []string{generalizedTime(time.Now())}}},
	}}
	if err := st.applyRecord(stamp); err != nil {
		return fail(c, "Moving %s failed: %v.", oldDN, err)
	}
	return providers.Result{ID: c.ID, DN: e.dnStr, GUID: e.guid(), SID: e.sid(), Token: token(e)},
		[]*Record{mv, stamp}, []*Record{mv}
}

// errNotExist reports whether err says a file is missing.
func errNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

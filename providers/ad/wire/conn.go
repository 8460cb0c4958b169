package wire

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"time"
)

// MaxMessageSize bounds one LDAP message read from a server (64 MiB): an
// entry larger than that is refused rather than allocated.
const MaxMessageSize = 64 << 20

// Scope is a search scope (RFC 4511 4.5.1.2).
type Scope int

const (
	ScopeBase      Scope = 0
	ScopeOne       Scope = 1
	ScopeSubtree   Scope = 2
	OIDPaging            = "1.2.840.113556.1.4.319" // RFC 2696 simple paged results
	OIDShowDeleted       = "1.2.840.113556.1.4.417" // AD: return tombstones too (MS-ADTS 3.1.1.3.4.1.14)
	OIDStartTLS          = "1.3.6.1.4.1.1466.20037"
	oidDisconnect        = "1.3.6.1.4.1.1466.20036" // notice of disconnection
)

// Result codes this package itself reports (RFC 4511 appendix A).
const (
	CodeSuccess     = 0
	CodeUnavailable = 52
)

// ResultError is a response whose resultCode is not success.
type ResultError struct {
	Op         string // "bind", "search", "start TLS"
	Code       int
	MatchedDN  string
	Diagnostic string
}

func (e *ResultError) Error() string {
	s := fmt.Sprintf("%s: LDAP result %d", e.Op, e.Code)
	if e.Diagnostic != "" {
		s += ": " + e.Diagnostic
	}
	return s
}

// ProtocolError is a response that breaks the protocol; the connection is
// unusable after it.
type ProtocolError struct {
	Op  string
	Err error
}

func (e *ProtocolError) Error() string { return fmt.Sprintf("%s: malformed response: %v", e.Op, e.Err) }
func (e *ProtocolError) Unwrap() error { return e.Err }

// Conn is one LDAP connection. It is not safe for concurrent use: one
// request at a time, which is how the caller's pool hands it out.
type Conn struct {
	nc      net.Conn
	r       *bufio.Reader
	timeout time.Duration
	id      int64
	buf     []byte // the current message
	enc     encoder
	entry   Entry
	vals    [][]byte
	broken  error
}

// NewConn wraps an established connection (already TLS for ldaps://).
// timeout bounds each request's wait for the next message (0: none).
func NewConn(nc net.Conn, timeout time.Duration) *Conn {
	return &Conn{nc: nc, r: bufio.NewReaderSize(nc, 64<<10), timeout: timeout}
}

// Broken reports whether the connection failed and must be discarded.
func (c *Conn) Broken() bool { return c.broken != nil }

// Close sends an unbind request (best effort) and closes the connection.
func (c *Conn) Close() error {
	if c.broken == nil {
		c.id++
		c.enc.b = c.enc.b[:0]
		c.enc.open(tagSequence)
		c.enc.integer(tagInteger, c.id)
		c.enc.primitive(tagUnbindRequest, nil)
		c.enc.close()
		_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = c.nc.Write(c.enc.b)
		c.broken = net.ErrClosed
	}
	return c.nc.Close()
}

// fail marks the connection broken by err and returns err.
func (c *Conn) fail(err error) error {
	if c.broken == nil {
		c.broken = err
		_ = c.nc.Close()
	}
	return err
}

// begin starts a request message: SEQUENCE { messageID, ...
func (c *Conn) begin() {
	c.id++
	if c.id >= 1<<31 {
		c.id = 1
	}
	c.enc.b = c.enc.b[:0]
	c.enc.stack = c.enc.stack[:0]
	c.enc.open(tagSequence)
	c.enc.integer(tagInteger, c.id)
}

// send finishes the message begun with begin and writes it. The encoded
// request is wiped afterwards: a bind carries a password.
func (c *Conn) send(op string) error {
	c.enc.close()
	defer clear(c.enc.b)
	if c.broken != nil {
		return fmt.Errorf("%s: connection unusable: %w", op, c.broken)
	}
	if c.timeout > 0 {
		_ = c.nc.SetWriteDeadline(time.Now().Add(c.timeout))
	}
	if _, err := c.nc.Write(c.enc.b); err != nil {
		return c.fail(fmt.Errorf("%s: send: %w", op, err))
	}
	return nil
}

// message is one decoded LDAPMessage envelope; its slices point into c.buf.
type message struct {
	id       int64
	tag      byte
	op       []byte
	controls []byte
}

// read reads the next message of the current request.
func (c *Conn) read(op string) (message, error) {
	if c.timeout > 0 {
		_ = c.nc.SetReadDeadline(time.Now().Add(c.timeout))
	}
	var hdr [6]byte
	b, err := c.r.ReadByte()
	if err != nil {
		return message{}, c.fail(fmt.Errorf("%s: read: %w", op, eof(err)))
	}
	if b != tagSequence {
		return message{}, c.fail(&ProtocolError{op, fmt.Errorf("message starts with BER tag %#x, want a SEQUENCE", b)})
	}
	if hdr[0], err = c.r.ReadByte(); err != nil {
		return message{}, c.fail(fmt.Errorf("%s: read: %w", op, eof(err)))
	}
	k := 0
	if hdr[0]&0x80 != 0 {
		k = int(hdr[0] & 0x7f)
		if k > 4 {
			k = 5 // length() reports the error
		}
		if _, err := io.ReadFull(c.r, hdr[1:1+k]); err != nil {
			return message{}, c.fail(fmt.Errorf("%s: read: %w", op, eof(err)))
		}
	}
	n, _, err := length(hdr[:1+k])
	if err != nil {
		return message{}, c.fail(&ProtocolError{op, err})
	}
	// Grow the buffer as the bytes arrive, not by what the header
	// claims: a lying length costs what was really sent.
	c.buf = c.buf[:0]
	for len(c.buf) < n {
		k := min(n-len(c.buf), 1<<20)
		c.buf = slices.Grow(c.buf, k)
		if _, err := io.ReadFull(c.r, c.buf[len(c.buf):len(c.buf)+k]); err != nil {
			return message{}, c.fail(fmt.Errorf("%s: read: %w", op, eof(err)))
		}
		c.buf = c.buf[:len(c.buf)+k]
	}
	m, err := parseMessage(c.buf)
	if err != nil {
		return message{}, c.fail(&ProtocolError{op, err})
	}
	if m.id == 0 && m.tag == tagExtendedResponse {
		// Notice of disconnection: the server is going away.
		r, _ := parseResult(m.op)
		return message{}, c.fail(&ResultError{Op: op, Code: max(r.Code, CodeUnavailable), Diagnostic: "the server ended the connection: " + r.Diagnostic})
	}
	if m.id != c.id {
		return message{}, c.fail(&ProtocolError{op, fmt.Errorf("response to message %d while waiting for %d", m.id, c.id)})
	}
	return m, nil
}

// eof makes a clean end of stream say that the server closed the
// connection.
func eof(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("connection closed by the server: %w", err)
	}
	return err
}

// parseMessage splits an LDAPMessage's content (RFC 4511 4.1.1).
func parseMessage(b []byte) (message, error) {
	d := decoder{b}
	idc, err := d.expect(tagInteger, "messageID")
	if err != nil {
		return message{}, err
	}
	var m message
	if m.id, err = integer(idc); err != nil {
		return message{}, fmt.Errorf("messageID: %w", err)
	}
	if m.tag, m.op, err = d.next(); err != nil {
		return message{}, fmt.Errorf("protocolOp: %w", err)
	}
	if d.more() {
		if m.controls, err = d.expect(tagControls, "controls"); err != nil {
			return message{}, err
		}
	}
	return m, nil
}

// Result is an LDAPResult.
type Result struct {
	Code       int
	MatchedDN  string
	Diagnostic string
}

// parseResult decodes the LDAPResult components that open op.
func parseResult(op []byte) (Result, error) {
	d := decoder{op}
	var r Result
	c, err := d.expect(tagEnumerated, "resultCode")
	if err != nil {
		return r, err
	}
	code, err := integer(c)
	if err != nil {
		return r, fmt.Errorf("resultCode: %w", err)
	}
	r.Code = int(code)
	if c, err = d.expect(tagOctetString, "matchedDN"); err != nil {
		return r, err
	}
	r.MatchedDN = string(c)
	if c, err = d.expect(tagOctetString, "diagnosticMessage"); err != nil {
		return r, err
	}
	r.Diagnostic = string(c)
	return r, nil
}

// result reads the single response of a bind or extended request.
func (c *Conn) result(op string, want byte) error {
	m, err := c.read(op)
	if err != nil {
		return err
	}
	if m.tag != want {
		return c.fail(&ProtocolError{op, fmt.Errorf("response BER tag %#x, want %#x", m.tag, want)})
	}
	r, err := parseResult(m.op)
	if err != nil {
		return c.fail(&ProtocolError{op, err})
	}
	if r.Code != CodeSuccess {
		return &ResultError{Op: op, Code: r.Code, MatchedDN: r.MatchedDN, Diagnostic: r.Diagnostic}
	}
	return nil
}

// Bind performs a simple bind (RFC 4513 5.1.3). The password is wiped from
// the connection's buffer once sent; it never appears in an error.
func (c *Conn) Bind(name, password string) error {
	c.begin()
	c.enc.open(tagBindRequest)
	c.enc.integer(tagInteger, 3)
	c.enc.str(tagOctetString, name)
	c.enc.str(tagSimpleAuth, password)
	c.enc.close()
	if err := c.send("bind"); err != nil {
		return err
	}
	return c.result("bind", tagBindResponse)
}

// StartTLS asks the server to start TLS (RFC 4511 4.14) and performs the
// handshake with cfg; the connection is encrypted when it returns nil.
func (c *Conn) StartTLS(ctx context.Context, cfg *tls.Config) error {
	c.begin()
	c.enc.open(tagExtendedRequest)
	c.enc.str(tagExtendedName, OIDStartTLS)
	c.enc.close()
	if err := c.send("start TLS"); err != nil {
		return err
	}
	if err := c.result("start TLS", tagExtendedResponse); err != nil {
		return err
	}
	if c.r.Buffered() > 0 {
		return c.fail(&ProtocolError{"start TLS", errors.New("data after the StartTLS response, before the TLS handshake")})
	}
	tc := tls.Client(c.nc, cfg)
	if c.timeout > 0 {
		_ = c.nc.SetDeadline(time.Now().Add(c.timeout))
	}
	if err := tc.HandshakeContext(ctx); err != nil {
		return c.fail(fmt.Errorf("start TLS: %w", err))
	}
	_ = c.nc.SetDeadline(time.Time{})
	c.nc = tc
	c.r.Reset(tc)
	return nil
}

// SearchRequest is a search (RFC 4511 4.5.1). Filter is the BER encoding of
// the filter (compile it with go-ldap's CompileFilter). A PageSize above
// zero adds the paged-results control with Cookie.
type SearchRequest struct {
	Base       string
	Scope      Scope
	Filter     []byte
	Attributes []string
	SizeLimit  int
	PageSize   int
	Cookie     []byte
	// ShowDeleted adds AD's show-deleted control: tombstones (isDeleted
	// TRUE, under CN=Deleted Objects) are returned too.
	ShowDeleted bool
}

// Entry is a SearchResultEntry. Its slices point into the connection's
// buffer and are only valid during the callback that receives it: copy
// what you keep.
type Entry struct {
	DN    []byte
	Attrs []Attr
}

// Attr is one attribute of an Entry.
type Attr struct {
	Name   []byte
	Values [][]byte
}

// Get returns the values of the attribute named name (ASCII
// case-insensitive), or nil.
func (e *Entry) Get(name string) [][]byte {
	for i := range e.Attrs {
		if equalFold(e.Attrs[i].Name, name) {
			return e.Attrs[i].Values
		}
	}
	return nil
}

func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Search sends req and calls entry for each entry as it arrives. It
// returns the paged-results cookie of the response (empty: last page).
// An error from entry is returned as is and the connection is closed (the
// rest of the response is not read).
func (c *Conn) Search(req *SearchRequest, entry func(*Entry) error) (cookie []byte, err error) {
	if len(req.Filter) == 0 {
		return nil, errors.New("search: empty filter")
	}
	c.begin()
	c.enc.open(tagSearchRequest)
	c.enc.str(tagOctetString, req.Base)
	c.enc.integer(tagEnumerated, int64(req.Scope))
	c.enc.integer(tagEnumerated, 0) // neverDerefAliases
	c.enc.integer(tagInteger, int64(req.SizeLimit))
	c.enc.integer(tagInteger, 0) // no time limit
	c.enc.boolean(false)
	c.enc.b = append(c.enc.b, req.Filter...)
	c.enc.open(tagSequence)
	for _, a := range req.Attributes {
		c.enc.str(tagOctetString, a)
	}
	c.enc.close()
	c.enc.close()
	if req.PageSize > 0 || req.ShowDeleted {
		c.enc.open(tagControls)
	}
	if req.ShowDeleted {
		c.enc.open(tagSequence)
		c.enc.str(tagOctetString, OIDShowDeleted)
		c.enc.boolean(true)
		c.enc.close()
	}
	if req.PageSize > 0 {
		c.enc.open(tagSequence)
		c.enc.str(tagOctetString, OIDPaging)
		c.enc.open(tagOctetString)
		c.enc.open(tagSequence)
		c.enc.integer(tagInteger, int64(req.PageSize))
		c.enc.primitive(tagOctetString, req.Cookie)
		c.enc.close()
		c.enc.close()
		c.enc.close()
	}
	if req.PageSize > 0 || req.ShowDeleted {
		c.enc.close()
	}
	if err := c.send("search"); err != nil {
		return nil, err
	}
	for {
		m, err := c.read("search")
		if err != nil {
			return nil, err
		}
		switch m.tag {
		case tagSearchEntry:
			if err := c.parseEntry(m.op); err != nil {
				return nil, c.fail(&ProtocolError{"search", err})
			}
			if err := entry(&c.entry); err != nil {
				c.fail(err)
				return nil, err
			}
		case tagSearchReference:
			// Continuation references point at other naming contexts;
			// discovery stays in the one it was given.
		case tagSearchDone:
			r, err := parseResult(m.op)
			if err != nil {
				return nil, c.fail(&ProtocolError{"search", err})
			}
			if r.Code != CodeSuccess {
				return nil, &ResultError{Op: "search", Code: r.Code, MatchedDN: r.MatchedDN, Diagnostic: r.Diagnostic}
			}
			ck, err := pagingCookie(m.controls)
			if err != nil {
				return nil, c.fail(&ProtocolError{"search", err})
			}
			return append([]byte(nil), ck...), nil
		default:
			return nil, c.fail(&ProtocolError{"search", fmt.Errorf("unexpected response BER tag %#x", m.tag)})
		}
	}
}

// parseEntry decodes a SearchResultEntry into c.entry, reusing its slices.
func (c *Conn) parseEntry(op []byte) error {
	e := &c.entry
	e.Attrs = e.Attrs[:0]
	c.vals = c.vals[:0]
	d := decoder{op}
	var err error
	if e.DN, err = d.expect(tagOctetString, "objectName"); err != nil {
		return err
	}
	attrs, err := d.expect(tagSequence, "attributes")
	if err != nil {
		return err
	}
	ad := decoder{attrs}
	for ad.more() {
		pa, err := ad.expect(tagSequence, "attribute")
		if err != nil {
			return err
		}
		pd := decoder{pa}
		name, err := pd.expect(tagOctetString, "attribute type")
		if err != nil {
			return err
		}
		set, err := pd.expect(tagSet, "attribute values")
		if err != nil {
			return err
		}
		start := len(c.vals)
		vd := decoder{set}
		for vd.more() {
			v, err := vd.expect(tagOctetString, "attribute value")
			if err != nil {
				return err
			}
			c.vals = append(c.vals, v)
		}
		e.Attrs = append(e.Attrs, Attr{Name: name, Values: c.vals[start:len(c.vals):len(c.vals)]})
	}
	return nil
}

// pagingCookie finds the paged-results control among a response's controls
// and returns its cookie (nil when absent).
func pagingCookie(controls []byte) ([]byte, error) {
	d := decoder{controls}
	for d.more() {
		ctl, err := d.expect(tagSequence, "control")
		if err != nil {
			return nil, err
		}
		cd := decoder{ctl}
		oid, err := cd.expect(tagOctetString, "controlType")
		if err != nil {
			return nil, err
		}
		if string(oid) != OIDPaging {
			continue
		}
		tag, v, err := cd.next()
		if err == nil && tag == tagBoolean {
			tag, v, err = cd.next()
		}
		if err != nil || tag != tagOctetString {
			return nil, errors.New("paged-results control without a value")
		}
		vd := decoder{v}
		seq, err := vd.expect(tagSequence, "paged-results value")
		if err != nil {
			return nil, err
		}
		sd := decoder{seq}
		if _, err := sd.expect(tagInteger, "paged-results size"); err != nil {
			return nil, err
		}
		return sd.expect(tagOctetString, "paged-results cookie")
	}
	return nil, nil
}

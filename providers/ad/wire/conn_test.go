package wire

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/google/go-cmp/cmp"
)

// The responses of these tests are built with go-asn1-ber, the BER library
// under go-ldap, so the decoder is checked against an independent encoder,
// and the requests we send are decoded by it.

func msg(id int64, op *ber.Packet, controls ...*ber.Packet) []byte {
	p := ber.NewSequence("LDAPMessage")
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, "id"))
	p.AppendChild(op)
	if len(controls) > 0 {
		cs := ber.Encode(ber.ClassContext, ber.TypeConstructed, 0, nil, "controls")
		for _, c := range controls {
			cs.AppendChild(c)
		}
		p.AppendChild(cs)
	}
	return p.Bytes()
}

func octets(s string) *ber.Packet {
	return ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, s, "")
}

// entryOp builds a SearchResultEntry of dn with attrs as name, values...
func entryOp(dn string, attrs ...[]string) *ber.Packet {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 4, nil, "entry")
	op.AppendChild(octets(dn))
	as := ber.NewSequence("attributes")
	for _, a := range attrs {
		pa := ber.NewSequence("attribute")
		pa.AppendChild(octets(a[0]))
		set := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "vals")
		for _, v := range a[1:] {
			set.AppendChild(octets(v))
		}
		pa.AppendChild(set)
		as.AppendChild(pa)
	}
	op.AppendChild(as)
	return op
}

func resultOp(app ber.Tag, code int64, matched, diag string) *ber.Packet {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, app, nil, "result")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, code, "code"))
	op.AppendChild(octets(matched))
	op.AppendChild(octets(diag))
	return op
}

func pagingControl(cookie string, critical bool) *ber.Packet {
	c := ber.NewSequence("control")
	c.AppendChild(octets(OIDPaging))
	if critical {
		c.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, true, ""))
	}
	v := ber.NewSequence("paging")
	v.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(0), "size"))
	v.AppendChild(octets(cookie))
	c.AppendChild(octets(string(v.Bytes())))
	return c
}

// server answers each request read from the pipe with respond's bytes; a
// nil response hangs up.
func server(t *testing.T, respond func(req *ber.Packet) [][]byte) (*Conn, chan *ber.Packet) {
	t.Helper()
	cli, srv := net.Pipe()
	reqs := make(chan *ber.Packet, 16)
	go func() {
		defer srv.Close()
		for {
			p, err := ber.ReadPacket(srv)
			if err != nil {
				return
			}
			reqs <- p
			for _, b := range respond(p) {
				if b == nil {
					return // hang up
				}
				if _, err := srv.Write(b); err != nil {
					return
				}
			}
		}
	}()
	c := NewConn(cli, 5*time.Second)
	t.Cleanup(func() { c.Close() })
	return c, reqs
}

func reqID(p *ber.Packet) int64 { return p.Children[0].Value.(int64) }

type gotEntry struct {
	DN    string
	Attrs map[string][]string
}

func collect(out *[]gotEntry) func(*Entry) error {
	return func(e *Entry) error {
		g := gotEntry{DN: string(e.DN), Attrs: map[string][]string{}}
		for _, a := range e.Attrs {
			for _, v := range a.Values {
				g.Attrs[string(a.Name)] = append(g.Attrs[string(a.Name)], string(v))
			}
		}
		*out = append(*out, g)
		return nil
	}
}

func TestSearchPaged(t *testing.T) {
	big := strings.Repeat("x", 70000) // a value whose length needs 3 bytes
	c, reqs := server(t, func(req *ber.Packet) [][]byte {
		id := reqID(req)
		return [][]byte{
			msg(id, entryOp("CN=a,DC=x", []string{"cn", "a"}, []string{"member", "CN=1", "CN=2"}, []string{"empty"})),
			msg(id, ber.Encode(ber.ClassApplication, ber.TypeConstructed, 19, nil, "reference")),
			msg(id, entryOp("CN=b\\2C c,DC=x", []string{"description", big}, []string{"objectGUID", "\x00\xff\x80"})),
			msg(id, resultOp(5, 0, "", ""), pagingControl("next-page", true)),
		}
	})
	filter := ber.Encode(ber.ClassContext, ber.TypePrimitive, 7, "objectClass", "present").Bytes()
	var got []gotEntry
	cookie, err := c.Search(&SearchRequest{Base: "DC=x", Scope: ScopeSubtree, Filter: filter, Attributes: []string{"cn", "member;range=0-1499"}, PageSize: 100, Cookie: []byte("prev")}, collect(&got))
	if err != nil {
		t.Fatal(err)
	}
	if string(cookie) != "next-page" {
		t.Errorf("cookie %q", cookie)
	}
	want := []gotEntry{
		{DN: "CN=a,DC=x", Attrs: map[string][]string{"cn": {"a"}, "member": {"CN=1", "CN=2"}}},
		{DN: "CN=b\\2C c,DC=x", Attrs: map[string][]string{"description": {big}, "objectGUID": {"\x00\xff\x80"}}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("entries (-want +got):\n%s", d)
	}

	// The request, decoded by go-asn1-ber.
	req := <-reqs
	op := req.Children[1]
	if op.ClassType != ber.ClassApplication || op.Tag != 3 {
		t.Fatalf("request op %v/%v, want a SearchRequest", op.ClassType, op.Tag)
	}
	fields := []any{string(op.Children[0].ByteValue), op.Children[1].Value, op.Children[2].Value, op.Children[3].Value, op.Children[4].Value, op.Children[5].Value}
	if d := cmp.Diff([]any{"DC=x", int64(2), int64(0), int64(0), int64(0), false}, fields); d != "" {
		t.Errorf("search fields (-want +got):\n%s", d)
	}
	if !bytes.Equal(op.Children[6].Bytes(), filter) {
		t.Errorf("filter % x, want % x", op.Children[6].Bytes(), filter)
	}
	var attrs []string
	for _, a := range op.Children[7].Children {
		attrs = append(attrs, string(a.ByteValue))
	}
	if d := cmp.Diff([]string{"cn", "member;range=0-1499"}, attrs); d != "" {
		t.Errorf("attributes (-want +got):\n%s", d)
	}
	ctl := req.Children[2].Children[0]
	if string(ctl.Children[0].ByteValue) != OIDPaging {
		t.Fatalf("control %q", ctl.Children[0].ByteValue)
	}
	pv := ber.DecodePacket(ctl.Children[1].ByteValue)
	if pv.Children[0].Value != int64(100) || string(pv.Children[1].ByteValue) != "prev" {
		t.Errorf("paging value size=%v cookie=%q", pv.Children[0].Value, pv.Children[1].ByteValue)
	}
}

func TestSearchLastPageAndErrors(t *testing.T) {
	filter := ber.Encode(ber.ClassContext, ber.TypePrimitive, 7, "objectClass", "present").Bytes()
	tests := []struct {
		name      string
		responses func(id int64) [][]byte
		wantErr   string // "" = success with an empty cookie
		broken    bool
		code      int
	}{
		{"last page", func(id int64) [][]byte { return [][]byte{msg(id, resultOp(5, 0, "", ""), pagingControl("", false))} }, "", false, 0},
		{"no controls", func(id int64) [][]byte { return [][]byte{msg(id, resultOp(5, 0, "", ""))} }, "", false, 0},
		{"no such object", func(id int64) [][]byte {
			return [][]byte{msg(id, resultOp(5, 32, "DC=x", "0000208D: NameErr: DSID-03100241, problem 2001 (NO_OBJECT)"))}
		}, "search: LDAP result 32: 0000208D", false, 32},
		{"notice of disconnection", func(id int64) [][]byte {
			op := resultOp(24, 52, "", "server shutting down")
			op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 10, "1.3.6.1.4.1.1466.20036", ""))
			return [][]byte{msg(0, op)}
		}, "the server ended the connection: server shutting down", true, 52},
		{"wrong message id", func(id int64) [][]byte { return [][]byte{msg(id+7, resultOp(5, 0, "", ""))} }, "response to message", true, 0},
		{"unexpected op", func(id int64) [][]byte { return [][]byte{msg(id, resultOp(1, 0, "", ""))} }, "unexpected response BER tag 0x61", true, 0},
		{"server hangs up", func(id int64) [][]byte { return nil }, "connection closed by the server", true, 0},
		{"truncated entry", func(id int64) [][]byte {
			b := msg(id, entryOp("CN=a", []string{"cn", "a"}))
			b[len(b)-3]++ // a value length past its set
			return [][]byte{b}
		}, "malformed response", true, 0},
		{"indefinite length", func(id int64) [][]byte { return [][]byte{{0x30, 0x80, 0, 0}} }, "indefinite length", true, 0},
		{"huge length", func(id int64) [][]byte { return [][]byte{{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff}} }, "exceeds", true, 0},
		{"not a sequence", func(id int64) [][]byte { return [][]byte{{0x04, 0x00}} }, "want a SEQUENCE", true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := server(t, func(req *ber.Packet) [][]byte {
				rs := tc.responses(reqID(req))
				if rs == nil {
					return [][]byte{{0x30}, nil} // half a header, then the pipe closes
				}
				return rs
			})
			cookie, err := c.Search(&SearchRequest{Base: "DC=x", Filter: filter, PageSize: 10}, func(*Entry) error { return nil })
			if tc.wantErr == "" {
				if err != nil || len(cookie) != 0 {
					t.Fatalf("cookie %q, err %v", cookie, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
			if c.Broken() != tc.broken {
				t.Errorf("Broken() = %v, want %v", c.Broken(), tc.broken)
			}
			var re *ResultError
			if tc.code != 0 && (!errors.As(err, &re) || re.Code != tc.code) {
				t.Errorf("error %#v, want result code %d", err, tc.code)
			}
		})
	}
}

func TestBindNeverShowsPassword(t *testing.T) {
	const secret = "S3cret-Pa55!"
	var sent []byte
	c, _ := server(t, func(req *ber.Packet) [][]byte {
		sent = req.Bytes()
		return [][]byte{msg(reqID(req), resultOp(1, 49, "", "80090308: LdapErr: DSID-0C09041C, comment: AcceptSecurityContext error, data 52e, v1db1"))}
	})
	err := c.Bind("admin@x.test", secret)
	var re *ResultError
	if !errors.As(err, &re) || re.Code != 49 || !strings.Contains(re.Diagnostic, "data 52e") {
		t.Fatalf("bind error %v, want result 49 with the diagnostic", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Error("the error shows the password")
	}
	if !bytes.Contains(sent, []byte(secret)) {
		t.Error("the password was not sent")
	}
	if bytes.Contains(c.enc.b[:cap(c.enc.b)], []byte(secret)) {
		t.Error("the password stays in the connection's buffer after the bind")
	}
	p := ber.DecodePacket(sent).Children[1]
	if p.Tag != 0 || p.Children[0].Value != int64(3) || string(p.Children[1].ByteValue) != "admin@x.test" || p.Children[2].Tag != 0 || p.Children[2].ClassType != ber.ClassContext {
		t.Errorf("bind request:\n%s", ber.DescribePacket(p))
	}

	c2, _ := server(t, func(req *ber.Packet) [][]byte { return [][]byte{msg(reqID(req), resultOp(1, 0, "", ""))} })
	if err := c2.Bind("admin@x.test", secret); err != nil {
		t.Fatal(err)
	}
}

func TestEntryCallbackError(t *testing.T) {
	c, _ := server(t, func(req *ber.Packet) [][]byte {
		id := reqID(req)
		return [][]byte{msg(id, entryOp("CN=a", []string{"cn", "a"})), msg(id, resultOp(5, 0, "", ""))}
	})
	stop := errors.New("stop here")
	filter := ber.Encode(ber.ClassContext, ber.TypePrimitive, 7, "objectClass", "present").Bytes()
	_, err := c.Search(&SearchRequest{Base: "DC=x", Filter: filter}, func(*Entry) error { return stop })
	if !errors.Is(err, stop) || !c.Broken() {
		t.Fatalf("err %v broken %v: the callback's error must return and retire the connection", err, c.Broken())
	}
	if _, err := c.Search(&SearchRequest{Base: "DC=x", Filter: filter}, func(*Entry) error { return nil }); err == nil || !strings.Contains(err.Error(), "unusable") {
		t.Errorf("search on a broken connection: %v", err)
	}
}

func TestSearchTimeout(t *testing.T) {
	cli, srv := net.Pipe()
	defer srv.Close()
	go io.Copy(io.Discard, srv) // reads the request, never answers
	c := NewConn(cli, 100*time.Millisecond)
	filter := ber.Encode(ber.ClassContext, ber.TypePrimitive, 7, "objectClass", "present").Bytes()
	_, err := c.Search(&SearchRequest{Base: "DC=x", Filter: filter}, func(*Entry) error { return nil })
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("error %v, want a timeout", err)
	}
}

func TestEncoderLengths(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 255, 256, 65535, 65536, 1 << 20} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var e encoder
			e.open(tagSequence)
			e.open(tagSequence)
			e.str(tagOctetString, strings.Repeat("v", n))
			e.close()
			e.integer(tagInteger, int64(n))
			e.close()
			p, err := ber.DecodePacketErr(e.b)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(p.Children[0].Children[0].ByteValue); got != n {
				t.Errorf("value of %d bytes, want %d", got, n)
			}
			if p.Children[1].Value != int64(n) {
				t.Errorf("integer %v, want %d", p.Children[1].Value, n)
			}
		})
	}
}

func TestIntegerRoundTrip(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 127, 128, -128, -129, 255, 256, 1<<31 - 1, -1 << 31, 1<<62 + 5, -1 << 63} {
		var e encoder
		e.integer(tagInteger, v)
		d := decoder{e.b}
		c, err := d.expect(tagInteger, "n")
		if err != nil {
			t.Fatal(err)
		}
		got, err := integer(c)
		if err != nil || got != v {
			t.Errorf("%d: got %d, %v (encoding % x)", v, got, err, e.b)
		}
		if p := ber.DecodePacket(e.b); p.Value != v {
			t.Errorf("%d: go-asn1-ber reads %v from % x", v, p.Value, e.b)
		}
	}
}

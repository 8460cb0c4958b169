package wire

import (
	"bytes"
	"net"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
)

// streamConn is a net.Conn whose reads come from a fixed byte stream and
// whose writes are discarded.
type streamConn struct{ r *bytes.Reader }

func (s streamConn) Read(p []byte) (int, error)       { return s.r.Read(p) }
func (s streamConn) Write(p []byte) (int, error)      { return len(p), nil }
func (s streamConn) Close() error                     { return nil }
func (s streamConn) LocalAddr() net.Addr              { return nil }
func (s streamConn) RemoteAddr() net.Addr             { return nil }
func (s streamConn) SetDeadline(time.Time) error      { return nil }
func (s streamConn) SetReadDeadline(time.Time) error  { return nil }
func (s streamConn) SetWriteDeadline(time.Time) error { return nil }

// FuzzSearchResponse feeds arbitrary bytes to a search as the server's
// answer: whatever they are, the search ends with entries or an error,
// never a panic, and never allocates past MaxMessageSize.
func FuzzSearchResponse(f *testing.F) {
	f.Add(bytes.Join([][]byte{
		msg(1, entryOp("CN=a,DC=x", []string{"cn", "a"}, []string{"member", "CN=1", "CN=2"})),
		msg(1, ber.Encode(ber.ClassApplication, ber.TypeConstructed, 19, nil, "reference")),
		msg(1, resultOp(5, 0, "", ""), pagingControl("cookie", true)),
	}, nil))
	f.Add(msg(1, resultOp(5, 32, "DC=x", "no such object")))
	f.Add(msg(0, resultOp(24, 52, "", "bye")))
	f.Add([]byte{0x30, 0x84, 0, 0, 0, 3, 2, 1, 1})
	filter := ber.Encode(ber.ClassContext, ber.TypePrimitive, 7, "objectClass", "present").Bytes()
	f.Fuzz(func(t *testing.T, stream []byte) {
		c := NewConn(streamConn{bytes.NewReader(stream)}, 0)
		n := 0
		cookie, err := c.Search(&SearchRequest{Base: "DC=x", Filter: filter, PageSize: 5}, func(e *Entry) error {
			n++
			for _, a := range e.Attrs {
				_ = e.Get(string(a.Name))
			}
			return nil
		})
		if err == nil && c.Broken() {
			t.Fatal("a successful search left the connection broken")
		}
		if err != nil && cookie != nil {
			t.Fatal("a cookie with an error")
		}
		if n > len(stream) {
			t.Fatalf("%d entries from %d bytes", n, len(stream))
		}
	})
}

package hub

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"net"
	"testing"
	"time"

	"github.com/adshift/adshift/hub/api"
)

// pinger sends pings to a hub's UDP port.
type pinger struct {
	t    *testing.T
	conn net.Conn
}

func (h *testHub) udp() *pinger {
	h.t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		h.t.Fatal(err)
	}
	go h.srv.ServeUDP(pc)
	conn, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { conn.Close() })
	return &pinger{t: h.t, conn: conn}
}

// send sends a datagram and returns the answer, nil when none came
// within 300ms (a dropped datagram).
func (p *pinger) send(b []byte) []byte {
	p.t.Helper()
	if _, err := p.conn.Write(b); err != nil {
		p.t.Fatal(err)
	}
	p.conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 512)
	n, err := p.conn.Read(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

func nonce(t *testing.T) [8]byte {
	var n [8]byte
	rand.Read(n[:])
	return n
}

func TestServer_udpPing(t *testing.T) {
	h := startHub(t)
	_, enr := h.enroll("ws001", h.token(1, time.Hour).Secret)
	key, err := base64.StdEncoding.DecodeString(enr.PingKey)
	if err != nil || len(key) != 32 {
		t.Fatalf("ping key %q: %v", enr.PingKey, err)
	}
	p := h.udp()
	ask := func(k []byte, at time.Time, n [8]byte) (bool, bool) {
		req, err := api.EncodePing(enr.DeviceID, k, at, n)
		if err != nil {
			t.Fatal(err)
		}
		ans := p.send(req)
		if ans == nil {
			return false, false
		}
		if len(ans) >= len(req) {
			t.Errorf("answer of %d bytes to a request of %d: amplifies", len(ans), len(req))
		}
		waiting, err := api.DecodePingAnswer(ans, key, n)
		if err != nil {
			t.Fatal(err)
		}
		return waiting, true
	}
	now := h.clock.Now()
	if waiting, answered := ask(key, now, nonce(t)); !answered || waiting {
		t.Errorf("no job: answered %v waiting %v; want an answer, nothing waiting", answered, waiting)
	}
	h.queue(enr.DeviceID, "k", "hello")
	n := nonce(t)
	if waiting, answered := ask(key, now, n); !answered || !waiting {
		t.Errorf("job queued: answered %v waiting %v; want work waiting", answered, waiting)
	}
	// Dropped without an answer: a replay, a wrong key, a stale clock,
	// garbage, and a revoked device.
	if _, answered := ask(key, now, n); answered {
		t.Error("a replayed ping was answered")
	}
	if _, answered := ask(bytes.Repeat([]byte{7}, 32), now, nonce(t)); answered {
		t.Error("a ping with the wrong key was answered")
	}
	if _, answered := ask(key, now.Add(-10*time.Minute), nonce(t)); answered {
		t.Error("a stale ping was answered")
	}
	if ans := p.send([]byte("ASP1 is work waiting?")); ans != nil {
		t.Error("garbage was answered")
	}
	if err := h.admin.RevokeDevice(t.Context(), enr.DeviceID); err != nil {
		t.Fatal(err)
	}
	if _, answered := ask(key, now, nonce(t)); answered {
		t.Error("a revoked device's ping was answered")
	}
}

func FuzzDecodePing(f *testing.F) {
	req, _ := api.EncodePing("00000000-0000-0000-0000-000000000000", []byte("k"), time.Unix(1, 0), [8]byte{})
	f.Add(req)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := api.DecodePing(b)
		if err != nil {
			return
		}
		if !api.ValidID(p.DeviceID) || len(b) != api.PingRequestSize {
			t.Fatalf("accepted %q", b)
		}
		p.Verify([]byte("k"))
	})
}

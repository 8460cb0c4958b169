package hub

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/adshift/adshift/hub/api"
)

// pingWindow is how far a ping's clock may be from the hub's.
const pingWindow = 2 * time.Minute

// ServeUDP answers authenticated pings on conn until conn is closed
// (Shutdown closes it). Datagrams that are malformed, unauthenticated,
// outside the clock window or replayed are dropped without an answer.
func (s *Server) ServeUDP(conn net.PacketConn) error {
	s.mu.Lock()
	s.udp = conn
	s.mu.Unlock()
	seen := &nonces{m: map[string]time.Time{}}
	buf := make([]byte, 512)
	for {
		n, addr, err := conn.ReadFrom(buf)
		if err != nil {
			select {
			case <-s.closing:
				return nil
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		if answer := s.ping(buf[:n], seen); answer != nil {
			conn.WriteTo(answer, addr)
		}
	}
}

// ping authenticates one datagram and returns the answer, nil to drop it.
func (s *Server) ping(b []byte, seen *nonces) []byte {
	p, err := api.DecodePing(b)
	if err != nil {
		return nil
	}
	now := s.opts.Now()
	if d := now.Sub(p.At); d > pingWindow || d < -pingWindow {
		return nil
	}
	ctx := context.Background()
	dev, err := s.store.Identity(ctx, p.DeviceID)
	if err != nil || dev.ID != p.DeviceID || dev.State != api.DeviceActive || !p.Verify(dev.PingKey) {
		return nil
	}
	if !seen.add(p.DeviceID+string(p.Nonce[:]), now) {
		return nil
	}
	next, err := s.store.NextAvailable(ctx, dev.ID)
	if err != nil {
		s.log.Error("ping: cannot look for jobs", "device", dev.ID, "error", err)
		return nil
	}
	return api.EncodePingAnswer(dev.PingKey, p.Nonce, !next.IsZero() && !next.After(now))
}

// nonces remembers the pings seen within the clock window, so that a
// replayed datagram is dropped.
type nonces struct {
	mu sync.Mutex
	m  map[string]time.Time
}

// add records key; false when it was seen already.
func (n *nonces) add(key string, now time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.m[key]; ok {
		return false
	}
	if len(n.m) > 100_000 {
		for k, at := range n.m {
			if now.Sub(at) > 2*pingWindow {
				delete(n.m, k)
			}
		}
	}
	n.m[key] = now
	return true
}

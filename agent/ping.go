package agent

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/adshift/adshift/hub/api"
)

// Ping asks the hub over UDP (addr is host:port, usually port 3030)
// whether work is waiting for this device, without a TCP connection. It
// waits up to 2 seconds for the authenticated answer; an agent behind a
// web proxy has no UDP path and long-polls instead.
func (id *Identity) Ping(ctx context.Context, addr string) (bool, error) {
	key, err := base64.StdEncoding.DecodeString(id.PingKey)
	if err != nil || len(key) == 0 {
		return false, errors.New("this agent has no ping key; enroll it again with a newer hub")
	}
	var nonce [8]byte
	rand.Read(nonce[:])
	req, err := api.EncodePing(id.DeviceID, key, time.Now(), nonce)
	if err != nil {
		return false, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return false, fmt.Errorf("ping %s: %w", addr, err)
	}
	defer conn.Close()
	deadline := time.Now().Add(2 * time.Second)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	conn.SetDeadline(deadline)
	if _, err := conn.Write(req); err != nil {
		return false, fmt.Errorf("ping %s: %w", addr, err)
	}
	buf := make([]byte, 512)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return false, fmt.Errorf("ping %s: no answer: %w", addr, err)
		}
		// Anything that does not authenticate is not the hub's answer.
		if waiting, err := api.DecodePingAnswer(buf[:n], key, nonce); err == nil {
			return waiting, nil
		}
	}
}

package api

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"time"
)

// The UDP ping (port 3030 by default): a device asks "is work waiting?"
// without holding a TCP connection. Both datagrams are authenticated with
// the device's ping key (HMAC-SHA256); the answer is shorter than the
// request, so the port cannot amplify, and the hub never answers a
// datagram it cannot authenticate.
//
//	request (88 bytes): "ASP1" | device ID (36) | Unix seconds (8) | nonce (8) | HMAC (32)
//	answer  (45 bytes): "ASp1" | waiting (1)    | nonce (8)        | HMAC (32)
const (
	PingRequestSize = 4 + 36 + 8 + 8 + sha256.Size
	PingAnswerSize  = 4 + 1 + 8 + sha256.Size
)

var (
	pingMagic   = []byte("ASP1")
	answerMagic = []byte("ASp1")
)

// Ping is a decoded ping request, not yet authenticated.
type Ping struct {
	DeviceID string
	At       time.Time
	Nonce    [8]byte
	raw      []byte
}

// EncodePing builds a device's ping request.
func EncodePing(deviceID string, key []byte, at time.Time, nonce [8]byte) ([]byte, error) {
	if len(deviceID) != 36 {
		return nil, errors.New("ping: device ID must be 36 bytes")
	}
	b := make([]byte, 0, PingRequestSize)
	b = append(b, pingMagic...)
	b = append(b, deviceID...)
	b = binary.BigEndian.AppendUint64(b, uint64(at.Unix()))
	b = append(b, nonce[:]...)
	return append(b, mac(key, b)...), nil
}

// DecodePing parses a ping request; Verify then authenticates it.
func DecodePing(b []byte) (Ping, error) {
	if len(b) != PingRequestSize || !bytes.Equal(b[:4], pingMagic) {
		return Ping{}, errors.New("ping: not a ping request")
	}
	p := Ping{DeviceID: string(b[4:40]), At: time.Unix(int64(binary.BigEndian.Uint64(b[40:48])), 0), raw: b}
	if !ValidID(p.DeviceID) {
		return Ping{}, errors.New("ping: invalid device ID")
	}
	copy(p.Nonce[:], b[48:56])
	return p, nil
}

// Verify reports whether the request was made with key.
func (p Ping) Verify(key []byte) bool {
	n := PingRequestSize - sha256.Size
	return len(key) > 0 && hmac.Equal(p.raw[n:], mac(key, p.raw[:n]))
}

// EncodePingAnswer builds the hub's answer to the ping with nonce.
func EncodePingAnswer(key []byte, nonce [8]byte, waiting bool) []byte {
	b := make([]byte, 0, PingAnswerSize)
	b = append(b, answerMagic...)
	if waiting {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = append(b, nonce[:]...)
	return append(b, mac(key, b)...)
}

// DecodePingAnswer authenticates an answer to the ping with nonce and
// says whether work is waiting.
func DecodePingAnswer(b, key []byte, nonce [8]byte) (bool, error) {
	n := PingAnswerSize - sha256.Size
	if len(b) != PingAnswerSize || !bytes.Equal(b[:4], answerMagic) || !bytes.Equal(b[5:13], nonce[:]) || !hmac.Equal(b[n:], mac(key, b[:n])) {
		return false, errors.New("ping: answer not authentic")
	}
	return b[4] == 1, nil
}

func mac(key, data []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(data)
	return h.Sum(nil)
}

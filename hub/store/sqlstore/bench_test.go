package sqlstore

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/hub/store"
)

// BenchmarkReport is the write path of results: leased jobs of five
// actions, one result per action, each audited in its transaction.
func BenchmarkReport(b *testing.B) {
	s, err := OpenSQLite(b.Context(), filepath.Join(b.TempDir(), "hub.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx, now := b.Context(), time.Now()
	if err := s.CreateToken(ctx, api.Token{ID: "t", ExpiresAt: now.Add(time.Hour), Uses: 1}, []byte("h")); err != nil {
		b.Fatal(err)
	}
	if _, err := s.Enroll(ctx, []byte("h"), api.Device{ID: "d", Hostname: "d", CertSerial: "1"}, now); err != nil {
		b.Fatal(err)
	}
	jobs := b.N/5 + 1
	for i := range jobs {
		j := api.Job{ID: fmt.Sprint("j", i), DeviceID: "d", IdempotencyKey: fmt.Sprint(i), CreatedAt: now,
			Actions: []api.Action{{Name: "echo"}, {Name: "echo"}, {Name: "echo"}, {Name: "echo"}, {Name: "echo"}}}
		if _, _, err := s.QueueJob(ctx, j); err != nil {
			b.Fatal(err)
		}
		if _, err := s.LeaseJob(ctx, "d", store.Lease{ID: "l", Now: now, Until: now.Add(time.Hour)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := range b.N {
		r := api.Report{ID: fmt.Sprint("r", i), JobID: fmt.Sprint("j", i/5), LeaseID: "l", Action: i % 5, Kind: api.ReportResult, Status: api.StatusOK}
		if _, err := s.Report(ctx, "d", r, now, api.AuditEntry{Actor: "device:d", Action: "job.report"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDevice is the lookup every agent request makes, in a fleet of
// 10,000 devices.
func BenchmarkDevice(b *testing.B) {
	s, err := OpenSQLite(b.Context(), filepath.Join(b.TempDir(), "hub.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx, now := b.Context(), time.Now()
	if err := s.CreateToken(ctx, api.Token{ID: "t", ExpiresAt: now.Add(time.Hour), Uses: 10000}, []byte("h")); err != nil {
		b.Fatal(err)
	}
	for i := range 10000 {
		id := fmt.Sprintf("d%05d", i)
		if _, err := s.Enroll(ctx, []byte("h"), api.Device{ID: id, Hostname: "host-" + id, CertSerial: id}, now); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := range b.N {
		if _, err := s.Device(ctx, fmt.Sprintf("d%05d", i%10000)); err != nil {
			b.Fatal(err)
		}
	}
}

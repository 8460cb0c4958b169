package ldif

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/adshift/adshift/bench/estate"
	"github.com/adshift/adshift/internal/cputime"
	"github.com/adshift/adshift/providers"
)

// genLDIF writes an ldifde-style export of n users in 100 OUs (plus the
// OUs), with base64 objectGUID and objectSid, CRLF line ends.
func genLDIF(n int) []byte {
	var b bytes.Buffer
	b.Grow(n * 900)
	sidPrefix, _ := EncodeIdentity("objectsid", domSID+"-0")
	for ou := 0; ou < 100; ou++ {
		fmt.Fprintf(&b, "dn: OU=Dept%02d,DC=source,DC=test\r\nchangetype: add\r\nobjectClass: top\r\nobjectClass: organizationalUnit\r\nou: Dept%02d\r\nuSNChanged: %d\r\n\r\n", ou, ou, 1000+ou)
	}
	guid := make([]byte, 16)
	sid := append([]byte(nil), sidPrefix...)
	for i := 0; i < n; i++ {
		ou := i % 100
		guid[0], guid[1], guid[2], guid[15] = byte(i), byte(i>>8), byte(i>>16), 0x5a
		rid := uint32(1200 + i)
		sid[len(sid)-4], sid[len(sid)-3], sid[len(sid)-2], sid[len(sid)-1] = byte(rid), byte(rid>>8), byte(rid>>16), byte(rid>>24)
		fmt.Fprintf(&b, "dn: CN=User %06d,OU=Dept%02d,DC=source,DC=test\r\nchangetype: add\r\n"+
			"objectClass: top\r\nobjectClass: person\r\nobjectClass: organizationalPerson\r\nobjectClass: user\r\n"+
			"cn: User %06d\r\nsn: %06d\r\ngivenName: User\r\n"+
			"distinguishedName: CN=User %06d,OU=Dept%02d,DC=source,DC=test\r\n"+
			"displayName: User %06d\r\nsAMAccountName: u%06d\r\nuserPrincipalName: u%06d@source.test\r\n"+
			"mail: user.%06d@source.test\r\nmemberOf: CN=Group %02d,OU=Dept%02d,DC=source,DC=test\r\n"+
			"whenCreated: 20261101120000.0Z\r\nuSNChanged: %d\r\n"+
			"objectGUID:: %s\r\nobjectSid:: %s\r\n\r\n",
			i, ou, i, i, i, ou, i, i, i, i, ou, ou, 5000+i,
			base64.StdEncoding.EncodeToString(guid), base64.StdEncoding.EncodeToString(sid))
	}
	return b.Bytes()
}

// BenchmarkReader parses a 100,000-entry export; entries/s is the figure
// to watch (goal: >= 200k entries/s).
func BenchmarkReader(b *testing.B) {
	data := genLDIF(100_000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	start, cpu0 := time.Now(), cputime.Self()
	for b.Loop() {
		r := NewReader(bytes.NewReader(data), "bench.ldif", ReaderOptions{})
		n := 0
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 100_100 {
			b.Fatalf("%d records", n)
		}
	}
	b.ReportMetric(float64(100_100*b.N)/time.Since(start).Seconds(), "entries/s")
	if cpu := cputime.Self() - cpu0; cpu > 0 {
		b.ReportMetric(float64(100_100*b.N)/cpu.Seconds(), "entries/cpu-s")
	}
}

// BenchmarkReader_utf16 is BenchmarkReader on the same export in UTF-16LE
// with a byte order mark, as ldifde -u writes it: the cost of decoding.
func BenchmarkReader_utf16(b *testing.B) {
	data := toUTF16(string(genLDIF(100_000)), false, true)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu0 := cputime.Self()
	for b.Loop() {
		recs, err := ReadAll(NewReader(bytes.NewReader(data), "bench.ldif", ReaderOptions{}))
		if err != nil || len(recs) != 100_100 {
			b.Fatalf("%d records, %v", len(recs), err)
		}
	}
	if cpu := cputime.Self() - cpu0; cpu > 0 {
		b.ReportMetric(float64(100_100*b.N)/cpu.Seconds(), "entries/cpu-s")
	}
}

// BenchmarkConfigureDiscover configures a 100,000-user snapshot and
// discovers it all (streamed, every attribute): what a plan of that
// directory costs in this provider.
func BenchmarkConfigureDiscover(b *testing.B) {
	file := filepath.Join(b.TempDir(), "big.ldif")
	if err := os.WriteFile(file, genLDIF(100_000), 0o644); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu0 := cputime.Self()
	for b.Loop() {
		p := New(nil)
		if diags, err := p.Configure(b.Context(), cty.ObjectVal(map[string]cty.Value{"file": cty.StringVal(file)})); err != nil || diags.HasErrors() {
			b.Fatal(err, diags)
		}
		n := 0
		err := p.Discover(b.Context(), providers.Scope{BaseDN: base, ExcludeOUs: []string{"OU=Dept99,DC=source,DC=test"}}, func(objs []providers.Object) error {
			n += len(objs)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if n != 100_000-1000+99 {
			b.Fatalf("%d objects", n)
		}
	}
	b.ReportMetric((cputime.Self()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
}

// BenchmarkApplyCreate applies 10,000 creates in one Apply call against a
// 10,000-user snapshot, including the journal, changes file and fold.
func BenchmarkApplyCreate(b *testing.B) {
	data := genLDIF(10_000)
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		file := filepath.Join(b.TempDir(), "t.ldif")
		if err := os.WriteFile(file, data, 0o644); err != nil {
			b.Fatal(err)
		}
		p := New(nil)
		if diags, err := p.Configure(b.Context(), cty.ObjectVal(map[string]cty.Value{"file": cty.StringVal(file)})); err != nil || diags.HasErrors() {
			b.Fatal(err, diags)
		}
		in := make(chan providers.Change, 10_000)
		for i := 0; i < 10_000; i++ {
			in <- providers.Change{ID: int64(i), Op: providers.OpCreate, Kind: providers.KindUser,
				DN:    fmt.Sprintf("CN=New %05d,OU=Dept%02d,DC=source,DC=test", i, i%100),
				Attrs: []providers.AttrChange{{Name: "sAMAccountName", Op: providers.AttrReplace, Values: []string{fmt.Sprintf("n%05d", i)}}}}
		}
		close(in)
		b.StartTimer()
		cpu0 := cputime.Self()
		err := p.Apply(b.Context(), in, func(r providers.Result) error {
			if r.Error != "" {
				return fmt.Errorf("%s", r.Error)
			}
			return nil
		})
		cpu += cputime.Self() - cpu0
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
}

// plannerAttrs is the attribute list adshift plan asks a source for with
// the benchmark configuration (bench/genestate/main.hcl).
var plannerAttrs = []string{"samaccountname", "cn", "useraccountcontrol", "sidhistory", "member", "grouptype",
	"operatingsystem", "operatingsystemversion", "operatingsystemservicepack", "dnshostname", "mail",
	"givenname", "sn", "displayname", "department", "title", "employeeid", "description", "userprincipalname"}

// BenchmarkPlanEstate runs Configure and Discover, as adshift plan does, on
// the 100,000-object source estate of bench/genestate (ldifde shape, 118 MB)
// with the scope and attribute list the planner asks for. cpu-s/op is the
// figure to watch: the machine is shared, wall time mostly measures the
// neighbours.
func BenchmarkPlanEstate(b *testing.B) {
	file := filepath.Join(b.TempDir(), "source.ldif")
	f, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if _, err := estate.WriteSource(w, estate.Options{Objects: 100_000, Seed: 1, TargetUsers: 0.3}); err != nil {
		b.Fatal(err)
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		b.Fatal(err)
	}
	scope := providers.Scope{BaseDN: "DC=source,DC=test",
		IncludeOUs: []string{"OU=Corp,DC=source,DC=test"},
		ExcludeOUs: []string{"OU=Kiosks,OU=Workstations,OU=Corp,DC=source,DC=test"},
		Kinds:      []providers.Kind{providers.KindUser, providers.KindGroup, providers.KindComputer, providers.KindOU},
		Attributes: plannerAttrs}
	b.ReportAllocs()
	runtime.GC()
	cpu0 := cputime.Self()
	var configure, first time.Duration
	for b.Loop() {
		c0 := cputime.Self()
		p := New(nil)
		if diags, err := p.Configure(b.Context(), cty.ObjectVal(map[string]cty.Value{"file": cty.StringVal(file)})); err != nil || diags.HasErrors() {
			b.Fatal(err, diags)
		}
		configure += cputime.Self() - c0
		n := 0
		err := p.Discover(b.Context(), scope, func(objs []providers.Object) error {
			if n == 0 {
				first += cputime.Self() - c0
			}
			n += len(objs)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if n < 99_000 {
			b.Fatalf("%d objects", n)
		}
	}
	b.ReportMetric((cputime.Self()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(configure.Seconds()/float64(b.N), "configure-cpu-s/op")
	b.ReportMetric(first.Seconds()/float64(b.N), "first-batch-cpu-s/op") // Configure until the host has objects
}

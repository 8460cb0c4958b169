package main

//go:generate go run . -quickstart -out ../../examples/quickstart

import (
	_ "embed"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/adshift/adshift/bench/estate"
)

//go:embed main.hcl
var benchConfig []byte

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("genestate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		out        = fs.String("out", "", "output `directory` (created if missing)")
		objects    = fs.Int("objects", 10000, "users + groups + computers in the source")
		seed       = fs.Uint64("seed", 1, "random seed")
		targetFrac = fs.Float64("target-users", 0.3, "fraction of source staff already in the target")
		quickstart = fs.Bool("quickstart", false, "write the fixed quickstart estate instead")
	)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: genestate [-quickstart | -objects N -seed S -target-users F] -out DIR")
		return 2
	}
	start := time.Now()
	if err := generate(*out, *quickstart, estate.Options{Objects: *objects, Seed: *seed, TargetUsers: *targetFrac}, stderr); err != nil {
		fmt.Fprintf(stderr, "genestate: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "genestate: wrote %s in %s\n", *out, time.Since(start).Round(time.Millisecond))
	return 0
}

func generate(dir string, quickstart bool, opts estate.Options, stderr io.Writer) error {
	if !quickstart {
		if err := opts.Validate(); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if quickstart {
		if err := writeFile(filepath.Join(dir, "source.ldif"), estate.WriteQuickstartSource); err != nil {
			return err
		}
		return writeFile(filepath.Join(dir, "target.ldif"), estate.WriteQuickstartTarget)
	}
	for _, f := range []struct {
		name  string
		write func(io.Writer, estate.Options) (estate.Stats, error)
	}{
		{"source.ldif", estate.WriteSource},
		{"target.ldif", estate.WriteTarget},
	} {
		var st estate.Stats
		err := writeFile(filepath.Join(dir, f.name), func(w io.Writer) error {
			var err error
			st, err = f.write(w, opts)
			return err
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "%s: %d entries (%d users, %d groups, %d computers, %d OUs), %d memberships, largest group %d\n",
			f.name, st.Entries, st.Users, st.Groups, st.Computers, st.OUs, st.Memberships, st.LargestGroup)
	}
	return writeFile(filepath.Join(dir, "main.hcl"), func(w io.Writer) error {
		_, err := w.Write(benchConfig)
		return err
	})
}

// writeFile writes through a temporary file in the same directory and
// renames it into place, so a failed run never leaves a torn estate. There
// is no fsync: the files are reproducible, and syncing 100 MB estates
// would dominate the run time.
func writeFile(path string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename %s: %w", path, err)
	}
	return nil
}

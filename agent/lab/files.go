package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/adshift/adshift/hub/api"
)

// DownloadsDir is where download puts the files it fetches.
const DownloadsDir = "downloads"

func init() {
	actions[api.ActionUploadLogs] = func(ctx context.Context, b *Backend, a api.Action, progress func(done, total int64)) (string, error) {
		return b.uploadLogs(ctx, a.Params[api.ParamRepository], time.Now(), progress)
	}
	actions[api.ActionDownload] = func(ctx context.Context, b *Backend, a api.Action, progress func(done, total int64)) (string, error) {
		return b.download(ctx, a.Params[api.ParamRepository], a.Params[api.ParamFiles], progress)
	}
}

// repository checks the repository parameter: an existing directory.
func repository(action, repo string) (string, error) {
	if repo == "" {
		return "", fmt.Errorf("%s: param %q is empty: give the repository directory", action, api.ParamRepository)
	}
	fi, err := os.Stat(repo)
	if err != nil {
		return "", fmt.Errorf("%s: repository: %w", action, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("%s: repository %s is not a directory", action, repo)
	}
	return filepath.Abs(repo)
}

// deviceName is the name the device's logs go under in the repository:
// the device directory's name when it is a valid host name, else
// "device".
func (b *Backend) deviceName() string {
	if n := filepath.Base(b.dir); api.ValidHostname(n) {
		return n
	}
	return "device"
}

// uploadLogs copies actions.log and the journal summaries to
// <repository>/<device>/logs/<UTC timestamp>/. Each run makes a new
// timestamped folder; nothing in the repository is overwritten.
func (b *Backend) uploadLogs(ctx context.Context, repo string, now time.Time, progress func(done, total int64)) (string, error) {
	repo, err := repository(api.ActionUploadLogs, repo)
	if err != nil {
		return "", err
	}
	var files []string
	if _, err := os.Stat(filepath.Join(b.dir, ActionsLog)); err == nil {
		files = append(files, ActionsLog)
	}
	sums, err := filepath.Glob(filepath.Join(b.dir, JournalDir, "*.summary.json"))
	if err != nil {
		return "", fmt.Errorf("upload_logs: %w", err)
	}
	for _, s := range sums {
		files = append(files, filepath.Join(JournalDir, filepath.Base(s)))
	}
	dest := filepath.Join(repo, b.deviceName(), "logs", now.UTC().Format("20060102T150405.000Z"))
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return "", fmt.Errorf("upload_logs: %w", err)
	}
	var bytes int64
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return "", fmt.Errorf("upload_logs interrupted after %d of %d files: %w", i, len(files), err)
		}
		n, err := copyVerified(filepath.Join(b.dir, f), filepath.Join(dest, filepath.Base(f)))
		if err != nil {
			return "", fmt.Errorf("upload_logs: %w", err)
		}
		bytes += n
		progress(int64(i+1), int64(len(files)))
	}
	return fmt.Sprintf("upload_logs: %d files, %d bytes to %s", len(files), bytes, dest), nil
}

// download copies the listed files (relative to the repository) into
// downloads/ of the device, keeping their relative paths. A path that
// is absolute, climbs out with "..", or leads out of the repository
// through a symlink is refused before anything is copied.
func (b *Backend) download(ctx context.Context, repo, list string, progress func(done, total int64)) (string, error) {
	repo, err := repository(api.ActionDownload, repo)
	if err != nil {
		return "", err
	}
	realRepo, err := filepath.EvalSymlinks(repo)
	if err != nil {
		return "", fmt.Errorf("download: repository: %w", err)
	}
	var files []string
	for i, line := range strings.Split(list, "\n") {
		rel := strings.TrimSpace(line)
		if rel == "" {
			continue
		}
		if !filepath.IsLocal(rel) {
			return "", fmt.Errorf("download: param %q line %d: %q is not a path inside the repository", api.ParamFiles, i+1, rel)
		}
		real, err := filepath.EvalSymlinks(filepath.Join(repo, rel))
		if err != nil {
			return "", fmt.Errorf("download: param %q line %d: %w", api.ParamFiles, i+1, err)
		}
		if r, err := filepath.Rel(realRepo, real); err != nil || !filepath.IsLocal(r) {
			return "", fmt.Errorf("download: param %q line %d: %q leads out of the repository (to %s)", api.ParamFiles, i+1, rel, real)
		}
		files = append(files, filepath.Clean(rel))
	}
	if len(files) == 0 {
		return "", fmt.Errorf("download: param %q lists no file", api.ParamFiles)
	}
	var bytes int64
	for i, rel := range files {
		if err := ctx.Err(); err != nil {
			return "", fmt.Errorf("download interrupted after %d of %d files (run it again to finish): %w", i, len(files), err)
		}
		dst := filepath.Join(b.dir, DownloadsDir, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", fmt.Errorf("download: %w", err)
		}
		n, err := copyVerified(filepath.Join(repo, rel), dst)
		if err != nil {
			return "", fmt.Errorf("download: %w", err)
		}
		bytes += n
		progress(int64(i+1), int64(len(files)))
	}
	return fmt.Sprintf("download: %d files, %d bytes to %s", len(files), bytes, DownloadsDir), nil
}

// copyVerified copies the regular file src to dst (a temp file renamed
// into place) and checks that the copy has src's size.
func copyVerified(src, dst string) (int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return 0, err
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("copy %s: not a regular file", src)
	}
	out, err := os.CreateTemp(filepath.Dir(dst), filepath.Base(dst)+".tmp*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(out.Name()) // after the rename there is nothing to remove
	n, err := io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	if n != fi.Size() {
		return 0, fmt.Errorf("copy %s to %s: copied %d bytes, the source has %d (changed while copying?); run again", src, dst, n, fi.Size())
	}
	if err := os.Rename(out.Name(), dst); err != nil {
		return 0, fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	if st, err := os.Stat(dst); err != nil || st.Size() != fi.Size() {
		return 0, errors.Join(fmt.Errorf("copy %s to %s: size check failed", src, dst), err)
	}
	return n, nil
}

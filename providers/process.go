package providers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin/runner"
)

// process runs a plugin for go-plugin (it is the runner.Runner of a
// Launch) and remembers what the host needs to explain a crash: the
// process ID, when it exited and how, and the tail of its stderr.
//
// go-plugin drains stdout and stderr before it calls Wait, so once exited
// is closed the stderr tail is complete.
type process struct {
	name   string
	stderr *tailBuffer

	cmd        *exec.Cmd
	stdoutPipe io.ReadCloser
	stderrPipe io.ReadCloser
	logger     hclog.Logger
	// hostEnd is the write end of the plugin's stdin, which the host
	// never writes to: it closes when the host exits or dies, and the
	// plugin then exits too (see hostPipeEnv). pluginEnd, the read end,
	// is closed in the host once the plugin has it.
	hostEnd, pluginEnd *os.File
	exited             chan struct{}
	exitErr            error // set before exited is closed

	startedMu  sync.Mutex
	startedPID int // 0 until Start succeeds

	// closing is set when the host closes the client on purpose: calls
	// broken by that are not crashes.
	closing atomic.Bool
}

var _ runner.Runner = (*process)(nil)

func newProcess(name string) *process {
	return &process{name: name, stderr: newTailBuffer(), exited: make(chan struct{})}
}

// prepare builds the command; go-plugin calls Start next.
func (p *process) prepare(logger hclog.Logger, path string, argv []string, dir string, env []string) error {
	p.logger = logger
	p.cmd = &exec.Cmd{Path: path, Args: argv, Dir: dir, Env: env}
	var err error
	if p.stdoutPipe, err = p.cmd.StdoutPipe(); err != nil {
		return fmt.Errorf("stdout pipe: %w", err)
	}
	if p.stderrPipe, err = p.cmd.StderrPipe(); err != nil {
		return fmt.Errorf("stderr pipe: %w", err)
	}
	if p.pluginEnd, p.hostEnd, err = os.Pipe(); err != nil {
		return fmt.Errorf("stdin pipe: %w", err)
	}
	p.cmd.Stdin = p.pluginEnd
	return nil
}

// Start starts the plugin so that it dies with the host: by the
// parent-death signal where the platform has one (startWithHost), and
// everywhere by its stdin closing.
func (p *process) Start(context.Context) error {
	p.logger.Debug("starting plugin", "provider", p.name, "path", p.cmd.Path, "args", p.cmd.Args, "dir", p.cmd.Dir)
	err := startWithHost(p.cmd, p.exited)
	p.pluginEnd.Close()
	if err != nil {
		p.hostEnd.Close()
		return err
	}
	p.startedMu.Lock()
	p.startedPID = p.cmd.Process.Pid
	p.startedMu.Unlock()
	p.logger.Debug("plugin started", "provider", p.name, "pid", p.cmd.Process.Pid)
	return nil
}

// pid is the process ID, or 0 before the start.
func (p *process) pid() int {
	p.startedMu.Lock()
	defer p.startedMu.Unlock()
	return p.startedPID
}

func (p *process) Diagnose(context.Context) string {
	return fmt.Sprintf("The plugin did not complete the adshift provider handshake. Check that %s is an adshift provider built for this platform, and that nothing in it writes to stdout before it calls providers.Serve.", p.cmd.Path)
}

func (p *process) Stdout() io.ReadCloser { return p.stdoutPipe }
func (p *process) Stderr() io.ReadCloser { return p.stderrPipe }
func (p *process) Name() string          { return p.name }

func (p *process) ID() string {
	if pid := p.pid(); pid != 0 {
		return strconv.Itoa(pid)
	}
	return ""
}

// Wait is called once, by go-plugin, after stdout and stderr are drained.
func (p *process) Wait(context.Context) error {
	err := p.cmd.Wait()
	p.hostEnd.Close()
	p.exitErr = err
	close(p.exited)
	return err
}

func (p *process) Kill(context.Context) error {
	p.kill()
	return nil
}

// kill kills the process if it was started; it is safe to call at any time.
func (p *process) kill() {
	if p.pid() == 0 {
		return
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.logger.Debug("kill plugin", "provider", p.name, "error", err)
	}
}

func (p *process) PluginToHost(network, addr string) (string, string, error) {
	return network, addr, nil
}

func (p *process) HostToPlugin(network, addr string) (string, string, error) {
	return network, addr, nil
}

// waitExit reports whether the process has exited, and how. With a
// non-nil wait it waits until wait fires (or ctx ends) for the exit.
func (p *process) waitExit(ctx context.Context, wait <-chan time.Time) (exit error, exited bool) {
	select {
	case <-p.exited:
		return p.exitErr, true
	default:
	}
	if wait == nil {
		return nil, false
	}
	select {
	case <-p.exited:
		return p.exitErr, true
	case <-wait:
	case <-ctx.Done():
	}
	return nil, false
}

// tailBuffer keeps the last bytes written to it. It is safe for
// concurrent use.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

// tailBytes is how much of a plugin's stderr is kept.
const tailBytes = 16 << 10

// tailLines is how many lines an error quotes.
const tailLines = 12

func newTailBuffer() *tailBuffer { return &tailBuffer{} }

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - tailBytes; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

// tail returns the last lines, hclog JSON entries rendered as
// "[LEVEL] message key=value", each line indented by two spaces.
func (t *tailBuffer) tail() string {
	t.mu.Lock()
	data := bytes.Clone(t.buf)
	t.mu.Unlock()
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	var out []string
	panicAt := -1
	for _, l := range lines {
		l = strings.TrimRight(l, "\r")
		if strings.TrimSpace(l) == "" {
			continue
		}
		if strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "fatal error: ") {
			panicAt = len(out)
		}
		out = append(out, "  "+renderLogLine(l))
	}
	switch {
	case panicAt >= 0:
		// A Go panic: its message and the top of its stack say most.
		out = out[panicAt:min(len(out), panicAt+tailLines)]
	case len(out) > tailLines:
		out = out[len(out)-tailLines:]
	}
	return strings.ToValidUTF8(strings.Join(out, "\n"), "\uFFFD")
}

// renderLogLine renders one hclog JSON line readably; other lines are
// returned as they are.
func renderLogLine(l string) string {
	if !strings.HasPrefix(l, "{") {
		return l
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(l), &m); err != nil {
		return l
	}
	msg, ok := m["@message"].(string)
	if !ok {
		return l
	}
	level, _ := m["@level"].(string)
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %s", strings.ToUpper(level), msg)
	keys := make([]string, 0, len(m))
	for k := range m {
		if !strings.HasPrefix(k, "@") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%v", k, m[k])
	}
	return b.String()
}

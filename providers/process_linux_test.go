package providers

import (
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The kernel keeps the parent-death signal per thread and sends the main
// thread's; locking the main goroutine to the main thread during init
// makes TestMain, and the test plugin's start, run there.
func init() { runtime.LockOSThread() }

// parentDeathSignal is the calling thread's parent-death signal, as a
// number ("0": none). Called by the test plugin on the main thread.
func parentDeathSignal() string {
	var sig int32
	if err := unix.Prctl(unix.PR_GET_PDEATHSIG, uintptr(unsafe.Pointer(&sig)), 0, 0, 0); err != nil {
		return "error: " + err.Error()
	}
	return strconv.Itoa(int(sig))
}

// TestLaunch_parentDeathSignal checks that a plugin is started with
// SIGKILL as its parent-death signal, so that it dies with its host.
func TestLaunch_parentDeathSignal(t *testing.T) {
	c, _ := launchTestPlugin(t, "normal", nil)
	var env []Object
	if err := c.Discover(t.Context(), Scope{BaseDN: "env"}, func(o []Object) error { env = append(env, o...); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(env) != 1 {
		t.Fatalf("env objects: %v", env)
	}
	if got, want := env[0].Get("pdeathsig"), strconv.Itoa(int(syscall.SIGKILL)); got != want {
		t.Errorf("the plugin's parent-death signal is %s, want %s (SIGKILL)", got, want)
	}
}

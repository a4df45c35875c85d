// Package proctest runs an example server as a real process in a test:
// build its binary, pick a free port, start it, wait until it answers
// HTTP, and stop it with SIGTERM expecting a clean exit. A process still
// running when the test ends is killed.
package proctest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Bounds of the waits. They only stop a test that would hang; nothing
// asserts on how long a wait took.
const (
	// ReadyTimeout is how long WaitHTTP polls before failing the test.
	ReadyTimeout = 20 * time.Second
	// StopTimeout is how long Stop waits for an exit after SIGTERM.
	StopTimeout = 30 * time.Second
	// pollInterval is the pause between two readiness probes.
	pollInterval = 25 * time.Millisecond
)

// Build compiles the main package in pkgDir (relative to the test's
// working directory, "." for the package under test) into a fresh
// temporary directory and returns the binary's path. It fails the test
// with the compiler's output when the build fails.
func Build(t testing.TB, pkgDir string) string {
	t.Helper()
	abs, err := filepath.Abs(pkgDir)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), filepath.Base(abs))
	if out, err := exec.Command("go", "build", "-o", bin, pkgDir).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkgDir, err, out)
	}
	return bin
}

// FreeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago (it listens on port 0 and closes the listener).
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// Options describe how Start runs a binary.
type Options struct {
	// Args are the command-line arguments, without the program name.
	Args []string
	// Env are extra NAME=value variables appended to the test's own
	// environment (a later entry wins over an inherited one).
	Env []string
	// Dir is the working directory; empty means the test's.
	Dir string
}

// Process is a started binary. Its methods are safe to call from the
// test's goroutine while the process writes its logs.
type Process struct {
	cmd  *exec.Cmd
	logs Buffer
	// done is closed when the process has exited; err is then its Wait
	// result.
	done chan struct{}
	err  error
}

// Start runs bin with opts, capturing its standard error (see Logs). When
// the test ends, a process still running is killed and reaped; use Stop
// to check a clean shutdown.
func Start(t testing.TB, bin string, opts Options) *Process {
	t.Helper()
	cmd := exec.Command(bin, opts.Args...)
	cmd.Dir = opts.Dir
	cmd.Env = append(os.Environ(), opts.Env...)
	p := &Process{cmd: cmd, done: make(chan struct{})}
	cmd.Stderr = &p.logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// WaitHTTP polls GET url until the server gives any HTTP answer,
// whatever its status. It fails the test, with the process's logs, when
// the process exits first or ReadyTimeout passes.
func (p *Process) WaitHTTP(t testing.TB, url string) {
	t.Helper()
	deadline := time.Now().Add(ReadyTimeout)
	for {
		res, err := http.Get(url)
		if err == nil {
			res.Body.Close()
			return
		}
		select {
		case <-p.done:
			t.Fatalf("process exited before answering %s: %v\n%s", url, p.err, p.Logs())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer from %s after %v: %v\n%s", url, ReadyTimeout, err, p.Logs())
		}
		time.Sleep(pollInterval)
	}
}

// Stop sends SIGTERM and waits for the exit. It returns nil for exit
// status 0, the exit error otherwise, and an error (after killing the
// process) when it is still running StopTimeout after the signal. A
// process that had already exited gives its exit result.
func (p *Process) Stop() error {
	select {
	case <-p.done:
		return p.err
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("sending SIGTERM: %w", err)
	}
	select {
	case <-p.done:
		return p.err
	case <-time.After(StopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("no exit %v after SIGTERM", StopTimeout)
	}
}

// Signal sends sig to the process (such as SIGKILL, to test a crash).
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Logs returns what the process has written to standard error so far.
func (p *Process) Logs() string { return p.logs.String() }

// Buffer is a bytes.Buffer safe for concurrent writers and readers: give
// it to a process or a logger and read it while they write.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends b.
func (s *Buffer) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(b)
}

// String returns a copy of the contents.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// WantMetric GETs url, a Prometheus /metrics endpoint, until its text holds
// the line sample (such as `apikey_verify_outcomes_total{...} 1`), and
// fails the test if it does not within five seconds.
func WantMetric(t testing.TB, url, sample string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	var last string
	for {
		res, err := http.Get(url)
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			last = string(b)
			if res.StatusCode == http.StatusOK && slices.Contains(strings.Split(last, "\n"), sample) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has no line %q:\n%s", url, sample, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

package proctest_test

import (
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/apikit/apikey/examples/internal/proctest"
)

// TestStartStop runs the sleeper binary and checks that Stop reports its
// exit status, that Env reaches it and Logs holds its standard error.
func TestStartStop(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := proctest.Build(t, "./testdata/sleeper")
	for _, tc := range []struct {
		name     string
		args     []string
		wantExit int // 0: Stop returns nil
	}{
		{"clean exit", nil, 0},
		{"exit status 3", []string{"-exit", "3"}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := proctest.FreeAddr(t)
			p := proctest.Start(t, bin, proctest.Options{
				Args: append([]string{"-addr", addr}, tc.args...),
				Env:  []string{"PROCTEST_MARK=" + tc.name},
				Dir:  t.TempDir(),
			})
			p.WaitHTTP(t, "http://"+addr+"/")
			err := p.Stop()
			var exit *exec.ExitError
			switch {
			case tc.wantExit == 0 && err != nil:
				t.Fatalf("Stop: %v\n%s", err, p.Logs())
			case tc.wantExit != 0 && (!errors.As(err, &exit) || exit.ExitCode() != tc.wantExit):
				t.Fatalf("Stop: %v, want exit status %d", err, tc.wantExit)
			}
			logs := p.Logs()
			if !strings.Contains(logs, "sleeper env: "+tc.name) || !strings.Contains(logs, "sleeper got SIGTERM") {
				t.Errorf("logs: %q", logs)
			}
			if again := p.Stop(); (again == nil) != (err == nil) {
				t.Errorf("second Stop: %v, first %v", again, err)
			}
		})
	}
}

// TestFreeAddr: the address is on loopback with a port.
func TestFreeAddr(t *testing.T) {
	addr := proctest.FreeAddr(t)
	if !strings.HasPrefix(addr, "127.0.0.1:") || addr == "127.0.0.1:0" {
		t.Fatalf("FreeAddr = %q", addr)
	}
}

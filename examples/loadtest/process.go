package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// How long a server may take to start listening, and to stop.
const (
	startTimeout = 30 * time.Second
	stopTimeout  = 20 * time.Second
)

// tailLines is how many of a server's last log lines an error quotes.
const tailLines = 20

// process is a server running as a child process. Its stderr is read line
// by line as logfmt (slog's text handler): the "listening" line gives its
// address, and lines with a wanted message are kept.
type process struct {
	name    string
	cmd     *exec.Cmd
	addr    string
	started time.Time

	mu     sync.Mutex
	tail   []string
	wanted map[string]map[string]string // message -> fields of its last line
	done   chan struct{}                // stderr read to the end
}

// startProcess starts path with args, extra environment env, in dir, and
// waits until it logs its listening address.
func startProcess(ctx context.Context, name, path string, args, env []string, dir string, wanted ...string) (*process, error) {
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = io.Discard
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	p := &process{name: name, cmd: cmd, wanted: map[string]map[string]string{}, done: make(chan struct{})}
	for _, w := range wanted {
		p.wanted[w] = nil
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p.started = time.Now()
	addrc := make(chan string, 1)
	go p.read(stderr, addrc)
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case p.addr = <-addrc:
		return p, nil
	case <-p.done:
		_ = cmd.Wait()
		return nil, fmt.Errorf("%s exited before listening:\n%s", name, p.lastLines())
	case <-timer.C:
	case <-ctx.Done():
	}
	p.kill()
	return nil, fmt.Errorf("%s did not listen within %v:\n%s", name, startTimeout, p.lastLines())
}

// read consumes the process's log.
func (p *process) read(r io.Reader, addrc chan<- string) {
	defer close(p.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		f := parseLogfmt(line)
		p.mu.Lock()
		p.tail = append(p.tail, line)
		if len(p.tail) > tailLines {
			p.tail = p.tail[1:]
		}
		if _, ok := p.wanted[f["msg"]]; ok {
			p.wanted[f["msg"]] = f
		}
		p.mu.Unlock()
		if f["msg"] == "listening" && f["addr"] != "" {
			select {
			case addrc <- f["addr"]:
			default:
			}
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

// lastLines returns the last lines the process logged.
func (p *process) lastLines() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return "  " + strings.Join(p.tail, "\n  ")
}

// fields returns the fields of the last line logged with message msg (one
// passed to startProcess), or nil.
func (p *process) fields(msg string) map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.wanted[msg]
}

// stop sends SIGTERM and waits for the process to exit; it returns how long
// the process lived.
func (p *process) stop() (time.Duration, error) {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return 0, err
	}
	exited := make(chan error, 1)
	go func() {
		<-p.done
		exited <- p.cmd.Wait()
	}()
	select {
	case err := <-exited:
		lived := time.Since(p.started)
		if err != nil {
			return lived, fmt.Errorf("%s: %w:\n%s", p.name, err, p.lastLines())
		}
		return lived, nil
	case <-time.After(stopTimeout):
		p.kill()
		return 0, fmt.Errorf("%s did not stop within %v", p.name, stopTimeout)
	}
}

// kill ends the process now.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
	_ = p.cmd.Wait()
}

// parseLogfmt splits a line of slog's text handler into its key=value
// fields; quoted values are unquoted. Malformed parts are skipped.
func parseLogfmt(line string) map[string]string {
	out := map[string]string{}
	for line != "" {
		line = strings.TrimLeft(line, " ")
		eq := strings.IndexByte(line, '=')
		if eq <= 0 {
			break
		}
		key := line[:eq]
		if strings.ContainsAny(key, " \"") {
			// Not a key: skip to the next space.
			sp := strings.IndexByte(line, ' ')
			if sp < 0 {
				break
			}
			line = line[sp:]
			continue
		}
		rest := line[eq+1:]
		var val string
		if strings.HasPrefix(rest, `"`) {
			end := closingQuote(rest)
			if end < 0 {
				break
			}
			v, err := strconv.Unquote(rest[:end+1])
			if err != nil {
				break
			}
			val, rest = v, rest[end+1:]
		} else {
			sp := strings.IndexByte(rest, ' ')
			if sp < 0 {
				sp = len(rest)
			}
			val, rest = rest[:sp], rest[sp:]
		}
		out[key] = val
		line = rest
	}
	return out
}

// closingQuote returns the index of the quote closing the Go-quoted string
// that s starts with, or -1.
func closingQuote(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// Package launch starts the project's own binaries (bin/neomem,
// bin/fakellm) as child processes of a command and stops them again: each
// in a process group of its own, its output in a log file, ready when a line
// of that output says where it listens, stopped by its PID. It is the one
// launcher of cmd/benchsearch and cmd/evalmem.
package launch

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// Ready lines: the group of each is the address the process listens on.
var (
	// ServerReady matches the server's start-up line in its text log
	// format (NEOMEM_LOG_FORMAT=text).
	ServerReady = regexp.MustCompile(`msg=listening addr=(\S+)`)
	// FakeLLMReady matches cmd/fakellm's start-up line (it logs JSON).
	FakeLLMReady = regexp.MustCompile(`"msg":"listening","addr":"([^"]+)"`)
)

// StopGrace is how long Stop waits after SIGTERM before it sends SIGKILL: a
// little more than the server's default shutdown time-out
// (NEOMEM_SHUTDOWN_TIMEOUT, 15 s), so a server finishing its requests is not
// killed.
const StopGrace = 20 * time.Second

// tailLines is how much of the log an error of Start quotes.
const tailLines = 20

// Proc is a child process Start started. Its methods are safe for
// concurrent use.
type Proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	// done is closed when the process has exited and all its output is in
	// the log file.
	done chan struct{}
}

// Start starts bin with args and env (its whole environment; nil: this
// process's, as with exec.Cmd) in a process group of its own, its standard output and error
// in logDir/<name>.log, and waits until a line of that output matches
// ready. It returns the process and the first group of that line (the
// address it listens on). When the process exits first, the error quotes
// the end of its log; when it is not ready after timeout or ctx ends, Start
// stops it. ctx bounds only the wait: the process runs until Stop.
func Start(ctx context.Context, name, bin string, args, env []string, logDir string, ready *regexp.Regexp, timeout time.Duration) (*Proc, string, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, "", fmt.Errorf("%s: %w", name, err)
	}
	logPath := filepath.Join(logDir, name+".log")
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", name, err)
	}
	pr, pw := io.Pipe()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A grandchild holding the output pipe must not keep Wait (and so
	// Stop) waiting once the process itself has exited.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, "", fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	addr := make(chan string, 1)
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		defer lf.Close()
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(lf, line)
			if m := ready.FindStringSubmatch(line); m != nil && !sent {
				sent = true
				addr <- m[1]
			}
		}
		// After a line too long for the scanner, the rest still goes to
		// the log, so the process never blocks on a full pipe.
		_, _ = io.Copy(lf, pr)
	}()
	go func() {
		_ = cmd.Wait()
		pw.Close()
		<-logged
		close(p.done)
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case a := <-addr:
		return p, a, nil
	case <-p.done:
		return nil, "", fmt.Errorf("%s exited before it was ready (%v); see %s:\n%s", name, cmd.ProcessState, logPath, p.Tail(tailLines))
	case <-timer.C:
		p.Stop()
		return nil, "", fmt.Errorf("%s not ready after %s; see %s:\n%s", name, timeout, logPath, p.Tail(tailLines))
	case <-ctx.Done():
		p.Stop()
		return nil, "", fmt.Errorf("%s: %w", name, ctx.Err())
	}
}

// PID is the process's id (and its process group's).
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// LogPath is the file that holds the process's output.
func (p *Proc) LogPath() string { return p.logPath }

// Tail returns the last n lines of the process's log.
func (p *Proc) Tail(n int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// Match returns the first group of the first line of the log that matches
// re, or "" when none does yet. Every line up to the ready line is in the
// log when Start returns, so a line printed before it (the server's pprof
// listener, say) is found at once.
func (p *Proc) Match(re *regexp.Regexp) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if m := re.FindStringSubmatch(line); len(m) > 1 {
			return m[1]
		}
	}
	return ""
}

// Stop ends the process, when it still runs: SIGTERM to its process group,
// then SIGKILL after StopGrace. It returns when the process has exited and
// its output is in the log.
func (p *Proc) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	// The group is the one Start made for this process: -PID.
	_ = syscall.Kill(-p.PID(), syscall.SIGTERM)
	timer := time.NewTimer(StopGrace)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		_ = syscall.Kill(-p.PID(), syscall.SIGKILL)
		<-p.done
	}
}

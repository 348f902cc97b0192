package launch

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// shell returns the path of sh, the stand-in for a project binary.
func shell(t *testing.T) string {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skipf("no sh: %v", err)
	}
	return sh
}

// gone reports whether no process has the id pid (after a while at most).
func gone(pid int) bool {
	for range 50 {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func TestStartAndStop(t *testing.T) {
	dir := t.TempDir()
	script := `echo 'time=x level=WARN msg="pprof listening" addr=127.0.0.1:2'; echo "$GREETING"; echo 'msg=listening addr=127.0.0.1:1'; sleep 30`
	p, addr, err := Start(context.Background(), "server", shell(t), []string{"-c", script},
		append(os.Environ(), "GREETING=hello"), dir, ServerReady, 10*time.Second)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if addr != "127.0.0.1:1" {
		t.Errorf("Start address = %q, want 127.0.0.1:1", addr)
	}
	if got := p.Match(regexp.MustCompile(`msg="pprof listening" addr=(\S+)`)); got != "127.0.0.1:2" {
		t.Errorf("Match(pprof) = %q, want 127.0.0.1:2", got)
	}
	if got := p.Match(regexp.MustCompile(`never (\S+)`)); got != "" {
		t.Errorf("Match(never) = %q, want empty", got)
	}
	if want := filepath.Join(dir, "server.log"); p.LogPath() != want {
		t.Errorf("LogPath() = %q, want %q", p.LogPath(), want)
	}
	pid := p.PID()
	start := time.Now()
	p.Stop()
	if d := time.Since(start); d > StopGrace/2 {
		t.Errorf("Stop took %s: SIGTERM did not end the process group", d)
	}
	if !gone(pid) {
		t.Errorf("process %d still exists after Stop", pid)
	}
	p.Stop() // a second Stop returns at once
	if got, want := p.Tail(2), "hello\nmsg=listening addr=127.0.0.1:1"; got != want {
		t.Errorf("Tail(2) = %q, want %q", got, want)
	}
	if got := p.Tail(10); !strings.HasPrefix(got, "time=x") {
		t.Errorf("Tail(10) = %q, want the whole log", got)
	}
}

func TestStartFakeLLMReady(t *testing.T) {
	p, addr, err := Start(context.Background(), "fakellm", shell(t),
		[]string{"-c", `echo '{"time":"x","level":"INFO","msg":"listening","addr":"127.0.0.1:3"}'; exec sleep 30`},
		nil, t.TempDir(), FakeLLMReady, 10*time.Second)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer p.Stop()
	if addr != "127.0.0.1:3" {
		t.Errorf("Start address = %q, want 127.0.0.1:3", addr)
	}
}

func TestStartExitsBeforeReady(t *testing.T) {
	dir := t.TempDir()
	_, _, err := Start(context.Background(), "server", shell(t), []string{"-c", "echo first; echo 'boom: no Neo4j'; exit 3"},
		nil, dir, ServerReady, 10*time.Second)
	if err == nil {
		t.Fatal("Start succeeded, want an error")
	}
	for _, want := range []string{"server exited before it was ready", "exit status 3", filepath.Join(dir, "server.log"), "first\nboom: no Neo4j"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Start error = %q, want it to contain %q", err, want)
		}
	}
}

func TestStartTimeout(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	start := time.Now()
	_, _, err := Start(context.Background(), "server", shell(t), []string{"-c", `echo $$ > "$0"; echo starting; sleep 30`, pidFile},
		nil, dir, ServerReady, 500*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "server not ready after 500ms") || !strings.Contains(err.Error(), "starting") {
		t.Fatalf("Start = %v, want a time-out error quoting the log", err)
	}
	if d := time.Since(start); d > StopGrace/2 {
		t.Errorf("Start took %s after its time-out", d)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if !gone(pid) {
		t.Errorf("process %d still exists after the time-out", pid)
	}
}

func TestStartCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	_, _, err := Start(ctx, "server", shell(t), []string{"-c", "sleep 30"}, nil, t.TempDir(), ServerReady, time.Minute)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Start = %v, want context.Canceled", err)
	}
}

func TestStartNoBinary(t *testing.T) {
	_, _, err := Start(context.Background(), "server", filepath.Join(t.TempDir(), "neomem"), nil, nil, t.TempDir(), ServerReady, time.Second)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Start = %v, want fs.ErrNotExist", err)
	}
}

func TestReadyLines(t *testing.T) {
	tests := []struct {
		name string
		re   *regexp.Regexp
		line string
		want string
	}{
		{"server", ServerReady, `time=2026-01-01T00:00:00Z level=INFO msg=listening addr=127.0.0.1:41234`, "127.0.0.1:41234"},
		{"server IPv6", ServerReady, `level=INFO msg=listening addr=[::1]:8080`, "[::1]:8080"},
		{"fakellm", FakeLLMReady, `{"time":"2026-01-01T00:00:00Z","level":"INFO","msg":"listening","addr":"127.0.0.1:5555"}`, "127.0.0.1:5555"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.re.FindStringSubmatch(tt.line)
			if len(m) < 2 || m[1] != tt.want {
				t.Errorf("%s.FindStringSubmatch(%q) = %q, want group %q", tt.name, tt.line, m, tt.want)
			}
		})
	}
}

// Package neomem hands tests a real neomem server: the command built from
// this module, run as a child process on the test Neo4j (package
// testcontainers) with the deterministic fake models of cmd/fakellm, on free
// ports of 127.0.0.1. It is test infrastructure: only _test.go files use it.
//
// Every process a test starts is stopped by PID when the test ends (SIGTERM,
// then SIGKILL after 15 s), and its output's tail is logged if the test
// failed. A test binary that uses the package calls Main from its TestMain,
// which removes the binaries built for it.
package neomem

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/neomem/neomem/testcontainers"
)

var build struct {
	once sync.Once
	dir  string
	err  error
}

// Main runs the tests of a test binary and removes the binaries built for
// them: func TestMain(m *testing.M) { os.Exit(neomem.Main(m)) }.
func Main(m *testing.M) int {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	return code
}

// Binaries builds the server (cmd/server) and the fake model server
// (cmd/fakellm) once per test binary and returns their paths.
func Binaries(t testing.TB) (server, fakellm string) {
	t.Helper()
	build.once.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			build.err = err
			return
		}
		if build.dir, err = os.MkdirTemp("", "neomem-test-bin-"); err != nil {
			build.err = err
			return
		}
		// go test puts its own GOROOT/bin first in the test's PATH.
		goBin, err := exec.LookPath("go")
		if err != nil {
			build.err = fmt.Errorf("no go command to build the binaries: %v", err)
			return
		}
		for _, b := range []struct{ out, pkg string }{{"neomem", "./cmd/server"}, {"fakellm", "./cmd/fakellm"}} {
			cmd := exec.Command(goBin, "build", "-o", filepath.Join(build.dir, b.out), b.pkg)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				build.err = fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
				return
			}
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return filepath.Join(build.dir, "neomem"), filepath.Join(build.dir, "fakellm")
}

// moduleRoot is the directory of this module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the neomem module")
	}
	return filepath.Dir(mod), nil
}

// Proc is a child process of a test, with its output in a file.
type Proc struct {
	t    testing.TB
	Name string
	Cmd  *exec.Cmd
	Log  string // path of the combined stdout and stderr
	done chan struct{}
}

// StartProc starts bin with args and env and stops it when the test ends.
func StartProc(t testing.TB, name, bin string, args, env []string) *Proc {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &Proc{t: t, Name: name, Cmd: cmd, Log: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("%s log (tail):\n%s", name, Tail(logPath, 15))
		}
	})
	return p
}

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Kill SIGKILLs the process and waits for it to exit.
func (p *Proc) Kill() {
	if p.Exited() {
		return
	}
	_ = p.Cmd.Process.Kill()
	<-p.done
}

// Stop asks the process to end (SIGTERM), then kills it after 15 s.
func (p *Proc) Stop() {
	if p.Exited() {
		return
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.t.Logf("%s (pid %d) did not stop in 15s; killing it", p.Name, p.Cmd.Process.Pid)
		p.Kill()
	}
}

// WaitLine waits until the output has a match of re and returns its first
// submatch; it fails the test if the process exits first or timeout passes.
func (p *Proc) WaitLine(re *regexp.Regexp, timeout time.Duration) string {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		b, _ := os.ReadFile(p.Log)
		if m := re.FindSubmatch(b); m != nil {
			return string(m[1])
		}
		if p.Exited() {
			p.t.Fatalf("%s exited before printing %q:\n%s", p.Name, re, Tail(p.Log, 30))
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s printed no %q in %v:\n%s", p.Name, re, timeout, Tail(p.Log, 30))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Tail returns the last n lines of a file.
func Tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// BaseEnv is what every child process gets from the test's environment: no
// NEO4J_* or NEOMEM_* settings of the developer leak into it.
func BaseEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// FakeLLM is a running cmd/fakellm: the scripted chat model and the hashing
// embedder (384 dimensions) over the OpenAI API.
type FakeLLM struct {
	*Proc
	// Base is the API root, http://127.0.0.1:port/v1.
	Base string
}

var fakeListening = regexp.MustCompile(`"msg":"listening","addr":"([^"]+)"`)

// StartFakeLLM starts a fake model server.
func StartFakeLLM(t testing.TB, name string) *FakeLLM {
	t.Helper()
	_, bin := Binaries(t)
	p := StartProc(t, name, bin, []string{"-addr", "127.0.0.1:0", "-dims", "384"}, BaseEnv())
	return &FakeLLM{Proc: p, Base: "http://" + p.WaitLine(fakeListening, 30*time.Second) + "/v1"}
}

// Reply is one scripted chat reply: a text, tool calls, and how long the
// model holds the call (DelayMS).
type Reply struct {
	Content   string     `json:"content,omitempty"`
	DelayMS   *int64     `json:"delay_ms,omitempty"`
	ToolCalls []ToolCall `json:"tool_calls"`
}

// ToolCall is a scripted call of a tool with its arguments.
type ToolCall struct {
	Name      string `json:"name"`
	Arguments any    `json:"arguments"`
}

// Script queues replies; a chat call with nothing queued is an error.
func (f *FakeLLM) Script(replies ...Reply) {
	f.t.Helper()
	b, _ := json.Marshal(map[string]any{"replies": replies})
	resp, err := http.Post(f.Base+"/_script", "application/json", bytes.NewReader(b))
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		f.t.Fatalf("POST /v1/_script = %d %s", resp.StatusCode, body)
	}
}

// Stats returns the fake's counters, with pending (replies queued) and
// in_flight (calls taken and not yet answered).
func (f *FakeLLM) Stats() map[string]int {
	f.t.Helper()
	resp, err := http.Get(f.Base + "/_stats")
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var st map[string]int
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		f.t.Fatal(err)
	}
	return st
}

// Env is a server's environment: Neo4j, the fake models at llmBase (chat and
// 384-dimension embeddings), a free port of 127.0.0.1, text logs, no rate
// limit, no workers; extra overrides or adds variables.
func Env(conn testcontainers.Conn, llmBase string, extra map[string]string) []string {
	vars := map[string]string{
		"NEO4J_URI":                 conn.URI,
		"NEO4J_USERNAME":            conn.Username,
		"NEO4J_PASSWORD":            conn.Password,
		"NEOMEM_ADDR":               "127.0.0.1:0",
		"NEOMEM_RATE_LIMIT":         "0",
		"NEOMEM_LOG_FORMAT":         "text",
		"NEOMEM_STARTUP_TIMEOUT":    "60s",
		"NEOMEM_WORKERS":            "0",
		"NEOMEM_LLM_PROVIDER":       "openai-compatible",
		"NEOMEM_LLM_MODEL":          "fake",
		"NEOMEM_LLM_BASE_URL":       llmBase,
		"NEOMEM_EMBEDDER":           "openai-compatible",
		"NEOMEM_EMBEDDING_MODEL":    "fake",
		"NEOMEM_EMBEDDING_DIMS":     "384",
		"NEOMEM_EMBEDDING_BASE_URL": llmBase,
	}
	for k, v := range extra {
		vars[k] = v
	}
	env := BaseEnv()
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	slices.Sort(env)
	return env
}

// Server is a running neomem process.
type Server struct {
	*Proc
	// URL is http://127.0.0.1:port.
	URL string
	// Env is the environment it runs with (Key and Command reuse it).
	Env []string
	bin string
}

var serverListening = regexp.MustCompile(`msg=listening addr=(\S+)`)

// StartServer starts a neomem process with env (see Env; NEOMEM_LOG_FORMAT
// must stay text) and args (a role such as "worker", or nothing) and waits
// for its "listening" line.
func StartServer(t testing.TB, name string, env []string, args ...string) *Server {
	t.Helper()
	bin, _ := Binaries(t)
	p := StartProc(t, name, bin, args, env)
	return &Server{Proc: p, URL: "http://" + p.WaitLine(serverListening, 90*time.Second), Env: env, bin: bin}
}

// Start starts a server on the test Neo4j with its own fake model server,
// with extra settings: the usual way to get one.
func Start(t testing.TB, extra map[string]string) (*Server, *FakeLLM) {
	t.Helper()
	conn := testcontainers.Connection(t)
	llm := StartFakeLLM(t, "fakellm")
	return StartServer(t, "neomem", Env(conn, llm.Base, extra)), llm
}

// Command runs the server binary with args (a subcommand such as keys or
// mcp) in the server's environment and returns its stdout; it fails the
// test with its stderr when it fails.
func (s *Server) Command(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command(s.bin, args...)
	cmd.Env = s.Env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("neomem %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// Key creates an API key of tenant with the keys subcommand, as an operator
// would, and returns it.
func (s *Server) Key(t testing.TB, tenant string, admin bool) string {
	t.Helper()
	args := []string{"keys", "create", "-tenant", tenant, "-name", "test"}
	if admin {
		args = append(args, "-admin")
	}
	return strings.TrimSpace(s.Command(t, args...))
}

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
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
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

// RuntimeScript is the project's own Neo4j runtime, relative to the module
// root: it runs Neo4j Community (with Neo4j Browser) as a local Java process.
const RuntimeScript = "testcontainers/runtime/neo4j.sh"

// reservedPorts are those of developers' and CI's Neo4j instances.
var reservedPorts = []int{7687, 7474, 7787, 7574, 7697, 7484, 7797, 7584}

// FreePort returns a port of 127.0.0.1 that was free a moment ago, never
// one of the usual Neo4j ports.
func FreePort(t testing.TB) int {
	t.Helper()
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if !slices.Contains(reservedPorts, port) {
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// RuntimeMissing says why the runtime script cannot start a Neo4j here, ""
// when it can: no bash or curl, no Java new enough for NEO4J_VERSION, or
// neither the jars in the cache nor Maven to fetch them.
func RuntimeMissing() string {
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " is not installed"
		}
	}
	root, err := moduleRoot()
	if err != nil {
		return err.Error()
	}
	cmd := exec.Command("bash", RuntimeScript, "java")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "no Java for Neo4j: " + strings.TrimSpace(string(out))
	}
	out, err := exec.Command("bash", filepath.Join(root, RuntimeScript), "version").Output()
	if err != nil {
		return "the runtime script names no Neo4j version: " + err.Error()
	}
	version := strings.TrimSpace(string(out))
	cache := os.Getenv("NEOMEM_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "neomem")
	}
	if _, err := os.Stat(filepath.Join(cache, "neo4j", version, "lib", ".complete")); err == nil {
		return ""
	}
	if _, err := exec.LookPath("mvn"); err != nil {
		return "the Neo4j " + version + " jars are not in " + cache + " and Maven (mvn) is not installed to fetch them"
	}
	return ""
}

// Neo4j is a private Neo4j of one test, run by the runtime script with its
// own home (in the test's temporary directory), free ports and a random
// password: nothing touches a developer's or CI's database.
type Neo4j struct {
	Home     string
	Bolt     int
	HTTP     int
	Password string

	t      testing.TB
	root   string
	env    []string
	ctx    context.Context
	cancel context.CancelFunc
	start  sync.WaitGroup
}

// NewNeo4j prepares a private Neo4j without starting it (see Start); extra
// adds settings of the script (NEOMEM_BROWSER_URL, …) to the test's
// environment, which passes on NEO4J_VERSION and NEOMEM_CACHE. It skips the
// test, or fails it under NEO4J_REQUIRED=1, when RuntimeMissing. When the
// test ends, a start under way is cut short and Neo4j is SIGKILLed by the
// PID the script recorded (its data is thrown away with the home).
func NewNeo4j(t testing.TB, extra map[string]string) *Neo4j {
	t.Helper()
	if why := RuntimeMissing(); why != "" {
		if os.Getenv("NEO4J_REQUIRED") == "1" {
			t.Fatalf("NEO4J_REQUIRED=1 but the Neo4j runtime cannot start: %s", why)
		}
		t.Skipf("no Neo4j runtime: %s (needs Java 17+ and the jars: make neo4j-fetch)", why)
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	n := &Neo4j{t: t, root: root, Home: filepath.Join(t.TempDir(), "neo4j"), Bolt: FreePort(t), HTTP: FreePort(t),
		Password: "test-" + randomHex(8)}
	for n.HTTP == n.Bolt {
		n.HTTP = FreePort(t)
	}
	vars := map[string]string{
		"NEO4J_RUNTIME_HOME":  n.Home,
		"NEO4J_BOLT_PORT":     strconv.Itoa(n.Bolt),
		"NEO4J_HTTP_PORT":     strconv.Itoa(n.HTTP),
		"NEO4J_PASSWORD":      n.Password,
		"NEO4J_HEAP":          "512m",
		"NEO4J_PAGECACHE":     "128m",
		"NEO4J_START_TIMEOUT": "150",
	}
	for k, v := range extra {
		vars[k] = v
	}
	// exec keeps the last of duplicate variables: these override the test's.
	n.env = os.Environ()
	for k, v := range vars {
		n.env = append(n.env, k+"="+v)
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	t.Cleanup(func() {
		n.cancel()
		n.start.Wait()
		n.Kill()
		if t.Failed() {
			t.Logf("neo4j console.log (tail):\n%s", Tail(filepath.Join(n.Home, "logs", "console.log"), 20))
		}
	})
	return n
}

// StartNeo4j is NewNeo4j, then Start, waiting until Neo4j answers.
func StartNeo4j(t testing.TB, extra map[string]string) *Neo4j {
	t.Helper()
	n := NewNeo4j(t, extra)
	if err := <-n.Start(); err != nil {
		t.Fatal(err)
	}
	return n
}

// Start runs the script's up in the background, so a test can build or
// start other things meanwhile; the channel receives nil once Neo4j answers
// a query, or the error with the script's output. A first run on a machine
// fetches the jars, which takes minutes.
func (n *Neo4j) Start() <-chan error {
	done := make(chan error, 1)
	n.start.Add(1)
	go func() {
		defer n.start.Done()
		began := time.Now()
		ctx, cancel := context.WithTimeout(n.ctx, 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "bash", RuntimeScript, "up")
		cmd.Dir, cmd.Env, cmd.WaitDelay = n.root, n.env, 5*time.Second
		out, err := cmd.CombinedOutput()
		if err != nil {
			done <- fmt.Errorf("neo4j.sh up (home %s): %v\n%s", n.Home, err, out)
			return
		}
		n.t.Logf("neo4j: ready in %v (bolt 127.0.0.1:%d, http %d, home %s)", time.Since(began).Round(time.Millisecond), n.Bolt, n.HTTP, n.Home)
		done <- nil
	}()
	return done
}

// Conn is how a server or driver reaches this Neo4j.
func (n *Neo4j) Conn() testcontainers.Conn {
	return testcontainers.Conn{URI: fmt.Sprintf("bolt://127.0.0.1:%d", n.Bolt), Username: "neo4j", Password: n.Password, Source: "runtime"}
}

// PID is the Neo4j process of this home, 0 when none runs. The script's
// PID file is checked against the process's command line (this home), so a
// reused PID is never signalled.
func (n *Neo4j) PID() int {
	b, err := os.ReadFile(filepath.Join(n.Home, "run", "neomem-neo4j.pid"))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.Contains(cmdline, []byte(n.Home)) {
		return 0
	}
	return pid
}

// Kill SIGKILLs Neo4j and waits until the process is gone.
func (n *Neo4j) Kill() {
	pid := n.PID()
	if pid == 0 {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && strings.Contains(string(b), ") Z ") {
			return // a zombie: dead, its parent has yet to reap it
		}
		time.Sleep(20 * time.Millisecond)
	}
	n.t.Errorf("neo4j pid %d still alive 20s after SIGKILL", pid)
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Package chaos holds real-process chaos tests of neomem's write path (issue
// #10): a private Neo4j started with the project's runtime script, neomem
// server processes built from ./cmd/server, and the fake model server from
// ./cmd/fakellm, all on 127.0.0.1 and free ports picked at run time. The
// tests SIGKILL Neo4j or a server in the middle of writes, then check what
// clients were told and what Neo4j holds, with Cypher over the Go driver.
//
// Every test starts its own processes and stops only those, by PID, when it
// ends; Neo4j's home is the test's temporary directory, so nothing touches a
// developer's or CI's database (nor ports 7687/7474, 7787/7574, 7697/7484).
// Without Java or the Neo4j jars (or Maven to fetch them) the tests skip
// with the reason, and fail instead when NEO4J_REQUIRED=1.
//
// `go test ./...` runs short versions. `make chaos` runs the long ones:
//
//	NEOMEM_CHAOS=long         5 Neo4j outages, 20 server kills
//	NEOMEM_CHAOS_OUTAGES=N    Neo4j kill/restart cycles (default 1)
//	NEOMEM_CHAOS_KILLS=N      server kills mid-add (default 1)
//
// The package has test files only: it is a harness, not part of the product.
package chaos

import (
	"bytes"
	"context"
	"crypto/rand"
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

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

// settings are the counts of one run, from the environment.
type settings struct {
	outages int // Neo4j SIGKILL/restart cycles
	kills   int // server SIGKILLs mid-add
}

func loadSettings(t *testing.T) settings {
	t.Helper()
	s := settings{outages: 1, kills: 1}
	if os.Getenv("NEOMEM_CHAOS") == "long" {
		s = settings{outages: 5, kills: 20}
	}
	for _, v := range []struct {
		name string
		dst  *int
	}{{"NEOMEM_CHAOS_OUTAGES", &s.outages}, {"NEOMEM_CHAOS_KILLS", &s.kills}} {
		if raw := os.Getenv(v.name); raw != "" {
			n, err := strconv.Atoi(raw)
			if err != nil || n < 1 || n > 1000 {
				t.Fatalf("%s=%q: want a count from 1 to 1000", v.name, raw)
			}
			*v.dst = n
		}
	}
	return s
}

// repoRoot is the module's root: the tests run in tests/chaos.
var repoRoot = func() string {
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		panic(err)
	}
	return dir
}()

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "neomem-chaos-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var build struct {
	once sync.Once
	err  error
}

// binaries builds the server and the fake model server once per test
// binary and returns their paths.
func binaries(t *testing.T) (server, fakellm string) {
	t.Helper()
	server, fakellm = filepath.Join(binDir, "neomem"), filepath.Join(binDir, "fakellm")
	build.once.Do(func() {
		// go test puts its own GOROOT/bin first in the test's PATH.
		goBin, err := exec.LookPath("go")
		if err != nil {
			build.err = fmt.Errorf("no go command to build the binaries: %v", err)
			return
		}
		for _, b := range []struct{ out, pkg string }{{server, "./cmd/server"}, {fakellm, "./cmd/fakellm"}} {
			cmd := exec.Command(goBin, "build", "-o", b.out, b.pkg)
			cmd.Dir = repoRoot
			if out, err := cmd.CombinedOutput(); err != nil {
				build.err = fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
				return
			}
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return server, fakellm
}

// requireRuntime skips the test (fails it under NEO4J_REQUIRED=1) when the
// project's Neo4j runtime cannot start here: no bash or curl, no Java new
// enough, or neither cached jars nor Maven to fetch them.
func requireRuntime(t *testing.T) {
	t.Helper()
	why := runtimeMissing()
	if why == "" {
		return
	}
	if os.Getenv("NEO4J_REQUIRED") == "1" {
		t.Fatalf("NEO4J_REQUIRED=1 but the Neo4j runtime cannot start: %s", why)
	}
	t.Skipf("no Neo4j runtime: %s (needs Java 17+ and the jars: make neo4j-fetch)", why)
}

func runtimeMissing() string {
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " is not installed"
		}
	}
	cmd := exec.Command("bash", neo4jScript, "java")
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		return "no Java for Neo4j: " + strings.TrimSpace(string(out))
	}
	version := os.Getenv("NEO4J_VERSION")
	if version == "" {
		version = "5.26.30"
	}
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

const neo4jScript = "testcontainers/runtime/neo4j.sh"

// reservedPorts are used by developers' and CI's Neo4j instances.
var reservedPorts = []int{7687, 7474, 7787, 7574, 7697, 7484}

// freePort returns a port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
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

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// db is a private Neo4j: the runtime script with its own home, ports and
// password.
type db struct {
	t        *testing.T
	home     string
	bolt     int
	http     int
	password string
	driver   neo4j.DriverWithContext
}

// startNeo4j starts a Neo4j for this test and stops it (by the PID the
// script recorded) when the test ends.
func startNeo4j(t *testing.T) *db {
	t.Helper()
	requireRuntime(t)
	d := &db{t: t, home: filepath.Join(t.TempDir(), "neo4j"), bolt: freePort(t), http: freePort(t), password: "chaos-" + randomHex(8)}
	for d.http == d.bolt {
		d.http = freePort(t)
	}
	t.Cleanup(func() {
		if d.driver != nil {
			d.driver.Close(context.Background())
		}
		d.kill()
		if t.Failed() {
			t.Logf("neo4j debug.log (tail):\n%s", tail(filepath.Join(d.home, "logs", "debug.log"), 20))
		}
	})
	took := d.up()
	t.Logf("neo4j: started in %v (bolt 127.0.0.1:%d, http %d, home %s)", took.Round(time.Millisecond), d.bolt, d.http, d.home)
	drv, err := neo4j.NewDriverWithContext(d.uri(), neo4j.BasicAuth("neo4j", d.password, ""))
	if err != nil {
		t.Fatal(err)
	}
	d.driver = drv
	return d
}

func (d *db) uri() string { return fmt.Sprintf("bolt://127.0.0.1:%d", d.bolt) }

// script runs the runtime script with this Neo4j's settings.
func (d *db) script(timeout time.Duration, arg string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", neo4jScript, arg)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(),
		"NEO4J_RUNTIME_HOME="+d.home,
		"NEO4J_BOLT_PORT="+strconv.Itoa(d.bolt),
		"NEO4J_HTTP_PORT="+strconv.Itoa(d.http),
		"NEO4J_PASSWORD="+d.password,
		"NEO4J_HEAP=512m",
		"NEO4J_PAGECACHE=128m",
		"NEO4J_START_TIMEOUT=150",
	)
	return cmd.CombinedOutput()
}

// up starts Neo4j (again, on the same data after a kill) and waits until it
// answers a query; it returns how long that took.
func (d *db) up() time.Duration {
	d.t.Helper()
	start := time.Now()
	// Fetching the jars (when not cached) takes longer than a start.
	if out, err := d.script(10*time.Minute, "up"); err != nil {
		d.t.Fatalf("neo4j.sh up: %v\n%s", err, out)
	}
	return time.Since(start)
}

// pid is the Neo4j process the script started for this home, 0 when none
// runs. The PID file is checked against the process's command line (our
// home directory), so a reused PID is never signalled.
func (d *db) pid() int {
	b, err := os.ReadFile(filepath.Join(d.home, "run", "neomem-neo4j.pid"))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.Contains(cmdline, []byte(d.home)) {
		return 0
	}
	return pid
}

// kill SIGKILLs Neo4j and waits until the process is gone.
func (d *db) kill() {
	pid := d.pid()
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
			return // a zombie: dead, waiting for its parent to reap it
		}
		time.Sleep(20 * time.Millisecond)
	}
	d.t.Errorf("neo4j pid %d still alive 20s after SIGKILL", pid)
}

// query runs a read query and returns its records.
func (d *db) query(q string, params map[string]any) []*neo4j.Record {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := neo4j.ExecuteQuery(ctx, d.driver, q, params, neo4j.EagerResultTransformer)
	if err != nil {
		d.t.Fatalf("%s: %v", q, err)
	}
	return res.Records
}

// integrity is what the partial-write checks found in one tenant.
type integrity struct {
	memories, entities, relations int64
	// withoutAdd are memories with no ADD event; unmentioned entities no
	// MENTIONS from a memory; dangling relation memory_ids naming no memory.
	withoutAdd, unmentioned, dangling []string
}

func (i integrity) String() string {
	return fmt.Sprintf("%d memories, %d entities, %d relations; %d memories without an ADD event %v, "+
		"%d entities without a mention %v, %d dangling relation memory ids %v",
		i.memories, i.entities, i.relations, len(i.withoutAdd), i.withoutAdd, len(i.unmentioned), i.unmentioned,
		len(i.dangling), i.dangling)
}

func (i integrity) ok() bool {
	return len(i.withoutAdd) == 0 && len(i.unmentioned) == 0 && len(i.dangling) == 0
}

const (
	countGraph = `
MATCH (m:Memory {tenant: $tenant})
WITH count(m) AS memories
OPTIONAL MATCH (x:__Entity__ {tenant: $tenant})
WITH memories, count(x) AS entities
OPTIONAL MATCH (:__Entity__ {tenant: $tenant})-[r]->(:__Entity__ {tenant: $tenant})
RETURN memories, entities, count(r) AS relations`

	// Every memory these tests write is added (never updated), so each must
	// have the ADD event written in its transaction.
	memoriesWithoutAdd = `
MATCH (m:Memory {tenant: $tenant})
WHERE NOT EXISTS { MATCH (e:Event {tenant: $tenant, target_id: m.id}) WHERE e.op = 'ADD' }
RETURN collect(m.id)[..10] AS ids`

	entitiesWithoutMention = `
MATCH (x:__Entity__ {tenant: $tenant})
WHERE NOT EXISTS { MATCH (m:Memory)-[:MENTIONS]->(x) WHERE m.tenant = $tenant }
RETURN collect(x.name)[..10] AS ids`

	danglingRelationMemories = `
MATCH (:__Entity__ {tenant: $tenant})-[r]->(:__Entity__ {tenant: $tenant})
UNWIND coalesce(r.memory_ids, []) AS id
WITH DISTINCT id
WHERE NOT EXISTS { MATCH (m:Memory {id: id}) WHERE m.tenant = $tenant }
RETURN collect(id)[..10] AS ids`
)

// check runs the partial-write checks on tenant.
func (d *db) check(tenant string) integrity {
	d.t.Helper()
	p := map[string]any{"tenant": tenant}
	var out integrity
	rec := d.query(countGraph, p)[0]
	out.memories, _, _ = neo4j.GetRecordValue[int64](rec, "memories")
	out.entities, _, _ = neo4j.GetRecordValue[int64](rec, "entities")
	out.relations, _, _ = neo4j.GetRecordValue[int64](rec, "relations")
	for _, c := range []struct {
		q   string
		dst *[]string
	}{{memoriesWithoutAdd, &out.withoutAdd}, {entitiesWithoutMention, &out.unmentioned}, {danglingRelationMemories, &out.dangling}} {
		ids, _, err := neo4j.GetRecordValue[[]any](d.query(c.q, p)[0], "ids")
		if err != nil {
			d.t.Fatal(err)
		}
		for _, id := range ids {
			*c.dst = append(*c.dst, fmt.Sprint(id))
		}
	}
	return out
}

// proc is a child process of the test, with its output in a file.
type proc struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when it has exited
}

// startProc starts bin and stops it by PID when the test ends (SIGTERM,
// then SIGKILL after 15 s), logging its output's tail if the test failed.
func startProc(t *testing.T, name, bin string, args, env []string) *proc {
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
	p := &proc{t: t, name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s log (tail):\n%s", name, tail(logPath, 15))
		}
	})
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill SIGKILLs the process and waits for it to exit.
func (p *proc) kill() {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// stop asks the process to end (SIGTERM), then kills it after 15 s.
func (p *proc) stop() {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.t.Logf("%s (pid %d) did not stop in 15s; killing it", p.name, p.cmd.Process.Pid)
		p.kill()
	}
}

// waitLine waits until the output has a line matching re and returns its
// first submatch.
func (p *proc) waitLine(re *regexp.Regexp, timeout time.Duration) string {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		b, _ := os.ReadFile(p.log)
		if m := re.FindSubmatch(b); m != nil {
			return string(m[1])
		}
		if p.exited() {
			p.t.Fatalf("%s exited before printing %q:\n%s", p.name, re, tail(p.log, 30))
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s printed no %q in %v:\n%s", p.name, re, timeout, tail(p.log, 30))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// baseEnv is what every child process gets from ours: no NEO4J_* or NEOMEM_*
// settings of the developer leak into the servers under test.
func baseEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// fakeLLM is a running cmd/fakellm: the scripted chat model and the hash
// embedder (384 dimensions) over the OpenAI API.
type fakeLLM struct {
	*proc
	base string // http://127.0.0.1:port/v1
}

var fakeListening = regexp.MustCompile(`"msg":"listening","addr":"([^"]+)"`)

func startFakeLLM(t *testing.T, name string) *fakeLLM {
	t.Helper()
	_, bin := binaries(t)
	p := startProc(t, name, bin, []string{"-addr", "127.0.0.1:0", "-dims", "384"}, baseEnv())
	return &fakeLLM{proc: p, base: "http://" + p.waitLine(fakeListening, 30*time.Second) + "/v1"}
}

// reply is one scripted chat reply; DelayMS holds the model in the call.
type reply struct {
	DelayMS   *int64     `json:"delay_ms,omitempty"`
	ToolCalls []toolCall `json:"tool_calls"`
}

type toolCall struct {
	Name      string `json:"name"`
	Arguments any    `json:"arguments"`
}

// script queues replies.
func (f *fakeLLM) script(replies ...reply) {
	f.t.Helper()
	b, _ := json.Marshal(map[string]any{"replies": replies})
	resp, err := http.Post(f.base+"/_script", "application/json", bytes.NewReader(b))
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		f.t.Fatalf("POST /v1/_script = %d %s", resp.StatusCode, body)
	}
}

// stats returns the fake's counters, with pending (replies queued) and
// in_flight (calls taken and not yet answered).
func (f *fakeLLM) stats() map[string]int {
	f.t.Helper()
	resp, err := http.Get(f.base + "/_stats")
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

// server is a running neomem process.
type server struct {
	*proc
	base string // http://127.0.0.1:port
}

var serverListening = regexp.MustCompile(`msg=listening addr=(\S+)`)

// serverEnv configures a server on d with the fake model at llm, without
// authentication (every request acts in tenant), without a rate limit.
func serverEnv(d *db, llm *fakeLLM, tenant string, extra map[string]string) []string {
	vars := map[string]string{
		"NEO4J_URI":                 d.uri(),
		"NEO4J_USERNAME":            "neo4j",
		"NEO4J_PASSWORD":            d.password,
		"NEOMEM_ADDR":               "127.0.0.1:0",
		"NEOMEM_AUTH":               "disabled",
		"NEOMEM_DEFAULT_TENANT":     tenant,
		"NEOMEM_RATE_LIMIT":         "0",
		"NEOMEM_LOG_FORMAT":         "text",
		"NEOMEM_STARTUP_TIMEOUT":    "60s",
		"NEOMEM_LLM_PROVIDER":       "openai-compatible",
		"NEOMEM_LLM_MODEL":          "fake",
		"NEOMEM_LLM_BASE_URL":       llm.base,
		"NEOMEM_EMBEDDER":           "openai-compatible",
		"NEOMEM_EMBEDDING_MODEL":    "fake",
		"NEOMEM_EMBEDDING_DIMS":     "384",
		"NEOMEM_EMBEDDING_BASE_URL": llm.base,
	}
	for k, v := range extra {
		vars[k] = v
	}
	env := baseEnv()
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	slices.Sort(env)
	return env
}

// startServer starts a neomem process and waits for its "listening" line.
func startServer(t *testing.T, name string, env []string) *server {
	t.Helper()
	bin, _ := binaries(t)
	start := time.Now()
	p := startProc(t, name, bin, nil, env)
	s := &server{proc: p, base: "http://" + p.waitLine(serverListening, 90*time.Second)}
	t.Logf("%s: listening on %s after %v (pid %d)", name, s.base, time.Since(start).Round(time.Millisecond), p.cmd.Process.Pid)
	return s
}

// addBody is a POST /memories body.
func addBody(userID, content string, infer bool) map[string]any {
	return map[string]any{"user_id": userID, "infer": infer,
		"messages": []map[string]string{{"role": "user", "content": content}}}
}

// addResult is the part of an add's 200 body the tests read.
type addResult struct {
	Results []struct {
		ID     string `json:"id"`
		Memory string `json:"memory"`
		Event  string `json:"event"`
	} `json:"results"`
}

// response is one HTTP exchange as a client saw it.
type response struct {
	status  int // 0: no response (err)
	header  http.Header
	body    []byte
	err     error
	latency time.Duration
}

// post sends body as JSON to base+path with the headers.
func post(ctx context.Context, client *http.Client, url string, body any, headers map[string]string) response {
	b, err := json.Marshal(body)
	if err != nil {
		return response{err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return response{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return response{err: err, latency: time.Since(start)}
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: rb, err: err, latency: time.Since(start)}
}

// get sends a GET with a 10 s time-out.
func get(url string) response {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return response{err: err}
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{err: err, latency: time.Since(start)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b, err: err, latency: time.Since(start)}
}

// durations summarises latencies.
type durations []time.Duration

func (ds durations) median() time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func (ds durations) max() time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return slices.Max(ds)
}

func (ds durations) min() time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return slices.Min(ds)
}

func (ds durations) String() string {
	return fmt.Sprintf("n=%d min %v median %v max %v", len(ds), ds.min().Round(time.Millisecond),
		ds.median().Round(time.Millisecond), ds.max().Round(time.Millisecond))
}

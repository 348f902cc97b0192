package api_test

// The test harness: a real neomem HTTP API wired without cmd/server's run —
// the test Neo4j (testcontainers) behind a cypher.Store, the deterministic
// fake models of llm/llmtest in process, the memory engine (and, when a test
// asks, its asynchronous workers) and api.New, served by httptest. Every test
// works in tenants of its own (testcontainers.Tenant), deleted when it ends:
// the database is shared with the other packages' tests.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neomem/neomem/api"
	"github.com/neomem/neomem/cypher"
	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/llm/llmtest"
	"github.com/neomem/neomem/memory"
	"github.com/neomem/neomem/testcontainers"
	"github.com/neomem/neomem/testcontainers/neomem"
)

// dims is the embedding dimension of the test servers (the hashing
// embedder's, and the shared test indexes').
const dims = 384

// serverConfig is what a test server differs in; zero values are the
// command's defaults (rate limit 20/s with bursts of 40, body limit 2M,
// request time-out 120s, lease TTL 20s, no workers, one replica).
type serverConfig struct {
	// Model is the chat model (default: a Scripted with nothing scripted:
	// a model call fails, and fails the test). The embedder is always
	// llmtest's hashing one.
	Model *llmtest.Scripted
	// NoRateLimit turns the per-key rate limit off; else RateLimit (with
	// its RateBurst) sets it.
	NoRateLimit bool
	RateLimit   float64
	RateBurst   int
	// BodyLimit and RequestTimeout are api.Options'.
	BodyLimit      string
	RequestTimeout time.Duration
	// AuthDisabled serves every request as an admin of DefaultTenant
	// (default: a fresh test tenant).
	AuthDisabled  bool
	DefaultTenant string
	// LeaseTTL is the engines' and workers' lease TTL.
	LeaseTTL time.Duration
	// Workers run asynchronous adds of WorkerTenants only (required with
	// Workers: the database is shared, and other tests' jobs are theirs).
	Workers       int
	WorkerTenants []string
	// Replicas is how many API servers share the store, each with an
	// engine of its own (another lock and job holder), as several server
	// processes would (default 1).
	Replicas int
	// KeepRunning leaves the server running when tb ends (the fuzz target's
	// server lives as long as the process).
	KeepRunning bool
}

// testServer is a running API.
type testServer struct {
	// base is the first replica's URL; replicas are every replica's.
	base     string
	replicas []string
	model    *llmtest.Scripted
	logs     *serverLogs
}

// startServer wires and serves the API on the test Neo4j (skipping without
// one, failing under NEO4J_REQUIRED=1).
func startServer(tb testing.TB, cfg serverConfig) *testServer {
	tb.Helper()
	ctx := context.Background()
	store, err := cypher.New(testcontainers.Driver(tb), cypher.Config{Dimensions: dims})
	if err != nil {
		tb.Fatal(err)
	}
	if err := store.Bootstrap(ctx); err != nil {
		tb.Fatalf("neo4j schema: %v", err)
	}
	if cfg.Model == nil {
		cfg.Model = llmtest.NewScripted().FailOn(tb)
	}
	rate, burst := 20.0, 40
	switch {
	case cfg.NoRateLimit:
		rate, burst = 0, 0
	case cfg.RateLimit > 0:
		rate, burst = cfg.RateLimit, cfg.RateBurst
	}
	if cfg.AuthDisabled && cfg.DefaultTenant == "" {
		cfg.DefaultTenant = testcontainers.Tenant(tb)
	}
	if cfg.Workers > 0 && len(cfg.WorkerTenants) == 0 {
		tb.Fatal("startServer: workers need WorkerTenants (the test Neo4j is shared)")
	}
	leaseTTL := cfg.LeaseTTL
	if leaseTTL <= 0 {
		leaseTTL = memory.DefaultLeaseTTL
	}
	logs := &serverLogs{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	models := memory.Models{Chat: cfg.Model, Embedder: llmtest.NewHashEmbedder(dims)}
	s := &testServer{model: cfg.Model, logs: logs}
	run := graph.NewID()
	var engines []*memory.Engine
	var servers []*httptest.Server
	for i := range max(cfg.Replicas, 1) {
		engine, err := memory.New(store, models, memory.Config{LeaseTTL: leaseTTL,
			Holder: fmt.Sprintf("api-test/%s/replica-%d", run[len(run)-8:], i)})
		if err != nil {
			tb.Fatal(err)
		}
		h := api.New(api.Options{Logger: log, Checker: readiness{store}, Engine: engine, Store: store, Auth: store, Keys: store,
			Metrics: metricsStub, AuthDisabled: cfg.AuthDisabled, DefaultTenant: cfg.DefaultTenant,
			RequestTimeout: cfg.RequestTimeout, BodyLimit: cfg.BodyLimit, RateLimit: rate, RateBurst: burst})
		ts := httptest.NewUnstartedServer(h)
		ts.Config.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
		ts.Start()
		engines = append(engines, engine)
		servers = append(servers, ts)
		s.replicas = append(s.replicas, ts.URL)
	}
	s.base = s.replicas[0]
	if cfg.KeepRunning {
		if cfg.Workers > 0 {
			tb.Fatal("startServer: a server kept running has no workers")
		}
		return s
	}
	wctx, stopWorkers := context.WithCancel(ctx)
	var workers sync.WaitGroup
	if cfg.Workers > 0 {
		workers.Go(func() {
			engines[0].RunWorkers(wctx, store, memory.WorkerConfig{Workers: cfg.Workers, LeaseTTL: leaseTTL,
				Tenants: cfg.WorkerTenants, Drain: 15 * time.Second, Logger: log})
		})
	}
	tb.Cleanup(func() {
		for _, ts := range servers {
			ts.Close()
		}
		stopWorkers()
		done := make(chan struct{})
		go func() { workers.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			tb.Error("the workers did not stop within 30s")
		}
		if tb.Failed() {
			tb.Logf("the server's log (last lines):\n%s", strings.Join(logs.last(100), "\n"))
		}
	})
	return s
}

// readiness is a minimal api.Checker: Neo4j answers (the command's adapter,
// with server version and index states, is tested in cmd/server).
type readiness struct{ store *cypher.Store }

func (r readiness) Check(ctx context.Context) api.ReadyReport {
	if err := r.store.Ping(ctx); err != nil {
		return api.ReadyReport{Err: err}
	}
	return api.ReadyReport{Reachable: true}
}

// metricsStub stands in for the command's Prometheus registry: the api
// package only serves /metrics through it. What the metrics hold is
// cmd/server's (its metrics middleware), tested there.
var metricsStub = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = io.WriteString(w, "# neomem api test server: no metrics registry\n")
})

// serverLogs keeps a server's JSON log lines.
type serverLogs struct {
	mu    sync.Mutex
	lines []string
}

// Write takes one log line (slog writes each record in one call).
func (l *serverLogs) Write(p []byte) (int, error) {
	l.add(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (l *serverLogs) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) < 50000 {
		l.lines = append(l.lines, s)
	}
}

// about returns the log lines that mention a request id.
func (l *serverLogs) about(id string) []string {
	if id == "" {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, s := range l.lines {
		if strings.Contains(s, id) {
			out = append(out, s)
		}
	}
	return out
}

// last returns the last n lines.
func (l *serverLogs) last(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines[max(0, len(l.lines)-n):]...)
}

// ---------------------------------------------------------------------------
// Tenants and keys.

// newKey creates an API key of a fresh tenant (deleted when tb ends)
// straight in the store.
func newKey(tb testing.TB, admin bool) (key, tenant string) {
	tb.Helper()
	tenant = testcontainers.Tenant(tb)
	return createKey(tb, tenant, admin), tenant
}

// createKey creates another API key of tenant.
func createKey(tb testing.TB, tenant string, admin bool) string {
	tb.Helper()
	st, err := cypher.New(testcontainers.Driver(tb), cypher.Config{Dimensions: dims})
	if err != nil {
		tb.Fatal(err)
	}
	key, _, err := st.CreateAPIKey(context.Background(), tenant, "test", admin)
	if err != nil {
		tb.Fatal(err)
	}
	return key
}

// countOf runs a counting query (returning n) for tenant straight in Neo4j.
func countOf(t *testing.T, q, tenant string) int64 {
	t.Helper()
	res, err := neo4j.ExecuteQuery(context.Background(), testcontainers.Driver(t), q, map[string]any{"tenant": tenant}, neo4j.EagerResultTransformer)
	if err != nil {
		t.Fatal(err)
	}
	n, _, _ := neo4j.GetRecordValue[int64](res.Records[0], "n")
	return n
}

// ---------------------------------------------------------------------------
// HTTP calls.

// client talks to a running server with one API key.
type client struct {
	t    *testing.T
	base string
	key  string
}

func (c client) do(method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("X-API-Key", c.key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	} else if len(raw) > 0 && raw[0] == '[' {
		var list []any
		_ = json.Unmarshal(raw, &list)
		out = map[string]any{"list": list}
	}
	return resp.StatusCode, out
}

// addRaw stores text as one memory of user u without inference and returns its id.
func addRaw(t *testing.T, c client, u, text string) string {
	t.Helper()
	code, p := c.do("POST", "/memories", map[string]any{"user_id": u, "infer": false,
		"messages": []map[string]any{{"role": "user", "content": text}}})
	if code != 200 || len(p["results"].([]any)) != 1 {
		t.Fatalf("add %q: %d %v", text, code, p)
	}
	return p["results"].([]any)[0].(map[string]any)["id"].(string)
}

// call and waitEvent are the test harness's (testcontainers/neomem).
var (
	call      = neomem.Call
	waitEvent = neomem.WaitEvent
)

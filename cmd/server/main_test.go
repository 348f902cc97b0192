package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/neomem/neomem/cypher"
	"github.com/neomem/neomem/llm/llmtest"
	"github.com/neomem/neomem/testcontainers"
	"github.com/neomem/neomem/testcontainers/neomem"
)

// fakeModels serves a scripted model and a hashing embedder of dims over the
// OpenAI API, as the server's tests' model provider.
func fakeModels(t *testing.T, dims int) (*llmtest.OpenAIServer, string) {
	srv := &llmtest.OpenAIServer{Model: llmtest.NewScripted(), Embedder: llmtest.NewHashEmbedder(dims)}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return srv, ts.URL + "/v1"
}

// env returns a getenv over the test Neo4j and a fake OpenAI-compatible
// model server, plus overrides.
func env(t *testing.T, overrides map[string]string) func(string) string {
	_, base := fakeModels(t, 384)
	vars := serverVars(testcontainers.Connection(t), base)
	for k, v := range overrides {
		vars[k] = v
	}
	return func(k string) string { return vars[k] }
}

// serverVars configures a server on the test Neo4j with chat and embeddings
// (384 dimensions) from the OpenAI-compatible fake at modelBase.
func serverVars(conn testcontainers.Conn, modelBase string) map[string]string {
	return map[string]string{
		"NEO4J_URI":                 conn.URI,
		"NEO4J_USERNAME":            conn.Username,
		"NEO4J_PASSWORD":            conn.Password,
		"NEOMEM_ADDR":               "127.0.0.1:0",
		"NEOMEM_LOG_FORMAT":         "json",
		"NEOMEM_STARTUP_TIMEOUT":    "20s",
		"NEOMEM_LLM_PROVIDER":       "openai-compatible",
		"NEOMEM_LLM_MODEL":          "scripted",
		"NEOMEM_LLM_BASE_URL":       modelBase,
		"NEOMEM_EMBEDDER":           "openai-compatible",
		"NEOMEM_EMBEDDING_MODEL":    "hash",
		"NEOMEM_EMBEDDING_DIMS":     "384",
		"NEOMEM_EMBEDDING_BASE_URL": modelBase,
		// Test servers share one database: workers would run other
		// tests' jobs with the wrong fake model. Async tests turn them on
		// for their own tenant.
		"NEOMEM_WORKERS": "0",
	}
}

// server is a running run() with the address it bound.
type server struct {
	base string
	done chan error
	stop context.CancelFunc
}

// start runs the server and waits for its "listening" log line.
func start(t *testing.T, getenv func(string) string) *server {
	t.Helper()
	return startArgs(t, nil, getenv)
}

// startArgs is start with command-line arguments (a role).
func startArgs(t *testing.T, args []string, getenv func(string) string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &server{done: make(chan error, 1), stop: cancel}
	go func() {
		err := run(ctx, args, getenv, pw, io.Discard)
		pw.CloseWithError(fmt.Errorf("run returned: %v", err))
		s.done <- err
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				addr <- line.Addr
			}
		}
		close(addr)
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatalf("server stopped before listening: %v", <-s.done)
		}
		s.base = "http://" + a
	case <-time.After(90 * time.Second):
		t.Fatal("server did not start within 90s")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			t.Error("server did not stop within 30s")
		}
	})
	return s
}

func getJSON(t *testing.T, url string, into any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("GET %s: decode: %v", url, err)
	}
	return resp.StatusCode
}

// newKey creates an API key for a fresh tenant straight in the store.
func newKey(t *testing.T, admin bool) (string, string) {
	s, err := cypher.New(testcontainers.Driver(t), cypher.Config{Dimensions: 384})
	if err != nil {
		t.Fatal(err)
	}
	tenant := testcontainers.Tenant(t)
	key, _, err := s.CreateAPIKey(context.Background(), tenant, "test", admin)
	if err != nil {
		t.Fatal(err)
	}
	return key, tenant
}

func TestServerHealthAndReadiness(t *testing.T) {
	s := start(t, env(t, nil))
	var health map[string]string
	if code := getJSON(t, s.base+"/healthz", &health); code != 200 || health["status"] != "ok" {
		t.Fatalf("/healthz = %d %v", code, health)
	}
	var ready struct {
		Status string
		Neo4j  struct {
			Reachable bool
			Version   string
		}
		Indexes []struct{ Name, State string }
	}
	if code := getJSON(t, s.base+"/readyz", &ready); code != 200 {
		t.Fatalf("/readyz = %d %+v", code, ready)
	}
	if !ready.Neo4j.Reachable || ready.Neo4j.Version == "" || len(ready.Indexes) != 4 {
		t.Fatalf("/readyz body = %+v", ready)
	}
	var prob map[string]any
	resp, err := http.Get(s.base + "/nope")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 404 || ct != "application/problem+json" {
		t.Fatalf("unknown route: %d %s", resp.StatusCode, ct)
	}
	if err := json.NewDecoder(resp.Body).Decode(&prob); err != nil || prob["request_id"] == "" {
		t.Fatalf("problem body %v, %v", prob, err)
	}

	// Graceful shutdown: cancelling the context ends run without error.
	s.stop()
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("run after shutdown = %v", err)
		}
		s.done <- nil // for the cleanup
	case <-time.After(30 * time.Second):
		t.Fatal("no shutdown within 30s")
	}
}

func TestServerStopsOnDimensionMismatch(t *testing.T) {
	// First make sure the shared indexes exist with the default dimension.
	start(t, env(t, nil))
	// An embedder that really produces 768 dimensions passes the probe and
	// then meets the 384-dimension index.
	_, base := fakeModels(t, 768)
	err := run(context.Background(), nil, env(t, map[string]string{"NEOMEM_EMBEDDING_DIMS": "768", "NEOMEM_EMBEDDING_BASE_URL": base}), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "DROP INDEX") || !strings.Contains(err.Error(), "NEOMEM_EMBEDDING_DIMS") {
		t.Fatalf("run with 768 dimensions = %v, want a message saying what to do", err)
	}
}

func TestServerFailsFastOnWrongPassword(t *testing.T) {
	begin := time.Now()
	err := run(context.Background(), nil, env(t, map[string]string{"NEO4J_PASSWORD": "wrong-password"}), io.Discard, io.Discard)
	if err == nil {
		t.Fatal("run with a wrong password succeeded")
	}
	if d := time.Since(begin); d > 15*time.Second {
		t.Fatalf("run with a wrong password took %s; it should not wait for the start-up timeout", d)
	}
}

func TestServerUnreachableNeo4j(t *testing.T) {
	_, base := fakeModels(t, 384)
	err := run(context.Background(), nil, func(k string) string {
		return map[string]string{"NEO4J_URI": "bolt://127.0.0.1:1", "NEOMEM_STARTUP_TIMEOUT": "2s", "NEOMEM_ADDR": "127.0.0.1:0",
			"NEOMEM_EMBEDDER": "openai-compatible", "NEOMEM_EMBEDDING_MODEL": "hash", "NEOMEM_EMBEDDING_DIMS": "384",
			"NEOMEM_EMBEDDING_BASE_URL": base}[k]
	}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "did not answer within 2s") {
		t.Fatalf("run against a closed port = %v", err)
	}
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{name: "defaults", env: map[string]string{}},
		{name: "bad uri scheme", env: map[string]string{"NEO4J_URI": "http://localhost:7474"}, wantErr: "NEO4J_URI"},
		{name: "dims not a number", env: map[string]string{"NEOMEM_EMBEDDING_DIMS": "many"}, wantErr: "NEOMEM_EMBEDDING_DIMS"},
		{name: "dims out of range", env: map[string]string{"NEOMEM_EMBEDDING_DIMS": "5000"}, wantErr: "NEOMEM_EMBEDDING_DIMS"},
		{name: "bad level", env: map[string]string{"NEOMEM_LOG_LEVEL": "loud"}, wantErr: "NEOMEM_LOG_LEVEL"},
		{name: "bad duration", env: map[string]string{"NEOMEM_SHUTDOWN_TIMEOUT": "soon"}, wantErr: "NEOMEM_SHUTDOWN_TIMEOUT"},
		{name: "quantization not a bool", env: map[string]string{"NEOMEM_VECTOR_QUANTIZATION": "maybe"}, wantErr: "NEOMEM_VECTOR_QUANTIZATION"},
		{name: "quantization on", env: map[string]string{"NEOMEM_VECTOR_QUANTIZATION": "true"}},
		{name: "hnsw m too large", env: map[string]string{"NEOMEM_VECTOR_HNSW_M": "1000"}, wantErr: "NEOMEM_VECTOR_HNSW_M"},
		{name: "hnsw ef zero", env: map[string]string{"NEOMEM_VECTOR_HNSW_EF_CONSTRUCTION": "0"}, wantErr: "NEOMEM_VECTOR_HNSW_EF_CONSTRUCTION"},
		{name: "routing uri", env: map[string]string{"NEO4J_URI": "neo4j+s://abc.databases.neo4j.io"}},
		{name: "structured json_schema", env: map[string]string{"NEOMEM_LLM_STRUCTURED": "JSON_SCHEMA"}},
		{name: "structured unknown", env: map[string]string{"NEOMEM_LLM_STRUCTURED": "grammar"}, wantErr: "NEOMEM_LLM_STRUCTURED"},
		{name: "weights set", env: map[string]string{"NEOMEM_SEARCH_VECTOR_WEIGHT": "1", "NEOMEM_SEARCH_TEXT_WEIGHT": "0.5",
			"NEOMEM_SEARCH_GRAPH_WEIGHT": "0", "NEOMEM_SEARCH_TIME_WEIGHT": "0", "NEOMEM_SEARCH_RRF_K": "20"}},
		{name: "time weight negative", env: map[string]string{"NEOMEM_SEARCH_TIME_WEIGHT": "-2"}, wantErr: "NEOMEM_SEARCH_TIME_WEIGHT"},
		{name: "weight not a number", env: map[string]string{"NEOMEM_SEARCH_TEXT_WEIGHT": "half"}, wantErr: "NEOMEM_SEARCH_TEXT_WEIGHT"},
		{name: "weight NaN", env: map[string]string{"NEOMEM_SEARCH_GRAPH_WEIGHT": "NaN"}, wantErr: "NEOMEM_SEARCH_GRAPH_WEIGHT"},
		{name: "weight negative", env: map[string]string{"NEOMEM_SEARCH_VECTOR_WEIGHT": "-1"}, wantErr: "NEOMEM_SEARCH_VECTOR_WEIGHT"},
		{name: "weights all zero", env: map[string]string{"NEOMEM_SEARCH_VECTOR_WEIGHT": "0", "NEOMEM_SEARCH_TEXT_WEIGHT": "0",
			"NEOMEM_SEARCH_GRAPH_WEIGHT": "0"}, wantErr: "must not all be 0"},
		{name: "rrf k zero", env: map[string]string{"NEOMEM_SEARCH_RRF_K": "0"}, wantErr: "NEOMEM_SEARCH_RRF_K"},
		{name: "analyzer", env: map[string]string{"NEOMEM_TEXT_ANALYZER": "standard-no-stop-words"}},
		{name: "analyzer not a name", env: map[string]string{"NEOMEM_TEXT_ANALYZER": "english'}"}, wantErr: "NEOMEM_TEXT_ANALYZER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(func(k string) string { return tt.env[k] })
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("loadConfig(%v) = %v", tt.env, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("loadConfig(%v) = %v, want an error naming %s", tt.env, err, tt.wantErr)
			}
		})
	}
}

// TestConfigLogShowsResolvedModels: the first log line names the chat
// provider and embedder resolved from the keys, and no setting that is not
// set (no embedder="" or embedding_dims=0 before the real ones).
func TestConfigLogShowsResolvedModels(t *testing.T) {
	c, err := loadConfig(func(k string) string { return map[string]string{"NEOMEM_LOG_FORMAT": "json"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	newLogger(&b, c).Info("starting neomem", "config", c)
	var line struct{ Config map[string]any }
	if err := json.Unmarshal([]byte(b.String()), &line); err != nil {
		t.Fatal(err)
	}
	if line.Config["embedder"] != "local" || line.Config["llm_provider"] != "none" {
		t.Errorf("logged embedder %v and llm_provider %v, want local and none", line.Config["embedder"], line.Config["llm_provider"])
	}
	for k, v := range line.Config {
		if v == "" || v == 0.0 && k == "embedding_dims" {
			t.Errorf("logged an unset setting: %s=%v", k, v)
		}
	}
}

func TestConfigLogMasksPassword(t *testing.T) {
	c, err := loadConfig(func(k string) string { return map[string]string{"NEO4J_PASSWORD": "s3cret-value"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	newLogger(&b, c).Info("x", "config", c)
	if strings.Contains(b.String(), "s3cret-value") {
		t.Fatalf("logged config contains the password: %s", b.String())
	}
}

// TestConfigVarsDocumented keeps -help (and the README table built from it)
// in step with the variables actually read.
func TestConfigVarsDocumented(t *testing.T) {
	documented := map[string]bool{}
	for _, v := range configVars {
		documented[v.name] = true
	}
	read := map[string]bool{}
	_, _ = loadConfig(func(k string) string { read[k] = true; return "" })
	delete(read, "HOME") // only to find the default cache
	for k := range read {
		if !documented[k] {
			t.Errorf("%s is read but not in configVars", k)
		}
	}
	for k := range documented {
		if !read[k] {
			t.Errorf("%s is documented but never read", k)
		}
	}
}

// logs runs the server until it listens, then stops it, and returns its log.
func logsOf(t *testing.T, getenv func(string) string) string {
	t.Helper()
	var buf bytes.Buffer
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, getenv, pw, io.Discard); pw.Close() }()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		buf.Write(sc.Bytes())
		buf.WriteByte('\n')
		if strings.Contains(sc.Text(), `"msg":"listening"`) {
			break
		}
	}
	cancel()
	go io.Copy(io.Discard, pr)
	if err := <-done; err != nil {
		t.Fatalf("run: %v\n%s", err, buf.String())
	}
	return buf.String()
}

func TestServerLogsEffectiveModels(t *testing.T) {
	srv, base := fakeModels(t, 384)
	out := logsOf(t, env(t, map[string]string{"NEOMEM_LLM_BASE_URL": base, "NEOMEM_EMBEDDING_BASE_URL": base}))
	if !strings.Contains(out, `"chat":"openai-compatible/scripted"`) || !strings.Contains(out, `"embedder":"openai-compatible/hash"`) ||
		!strings.Contains(out, `"vision":"none`) {
		t.Fatalf("start-up log does not name the models:\n%s", out)
	}
	if st := srv.Stats(); st.EmbeddingCalls != 1 {
		t.Fatalf("start-up probe made %d embedding calls, want 1", st.EmbeddingCalls)
	}
	out = logsOf(t, env(t, map[string]string{"NEOMEM_VISION_MODEL": "llava"}))
	if !strings.Contains(out, `"vision":"openai-compatible/llava"`) {
		t.Fatalf("start-up log does not name the vision model:\n%s", out)
	}
}

// TestServerStartsWithNoKey: no provider key, no model settings — the server
// embeds with the local all-MiniLM-L6-v2 and has no chat model.
func TestServerStartsWithNoKey(t *testing.T) {
	if os.Getenv("NEOMEM_LOCAL_MODEL_DIR") == "" && os.Getenv("NEOMEM_MODELS_REQUIRED") != "1" {
		t.Skip("NEOMEM_LOCAL_MODEL_DIR is not set: `make test` fetches the local model")
	}
	getenv := env(t, nil)
	// NEOMEM_WORKERS too: on the shared database a worker of this server
	// would claim other tests' jobs (memory.TestExhaustedJobFails saw its
	// exhausted job finished by it).
	keep := map[string]bool{"NEO4J_URI": true, "NEO4J_USERNAME": true, "NEO4J_PASSWORD": true, "NEOMEM_ADDR": true,
		"NEOMEM_LOG_FORMAT": true, "NEOMEM_STARTUP_TIMEOUT": true, "NEOMEM_WORKERS": true}
	out := logsOf(t, func(k string) string {
		if keep[k] {
			return getenv(k)
		}
		return os.Getenv(k) // the local model's paths, HOME, NEOMEM_CACHE; no keys in CI
	})
	if !strings.Contains(out, `"embedder":"local/all-MiniLM-L6-v2"`) || !strings.Contains(out, `"dimensions":384`) || !strings.Contains(out, `"chat":"none`) {
		t.Fatalf("start-up log:\n%s", out)
	}
}

func TestServerModelConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"gemini without key", map[string]string{"NEOMEM_LLM_PROVIDER": "gemini", "GEMINI_API_KEY": ""}, "GEMINI_API_KEY"},
		{"ollama without model", map[string]string{"NEOMEM_LLM_PROVIDER": "ollama", "NEOMEM_LLM_MODEL": ""}, "NEOMEM_LLM_MODEL"},
		{"compatible embedder without dims", map[string]string{"NEOMEM_EMBEDDING_DIMS": ""}, "NEOMEM_EMBEDDING_DIMS"},
		{"probe sees another dimension", map[string]string{"NEOMEM_EMBEDDING_DIMS": "512"}, "512"},
		{"local with wrong dims", map[string]string{"NEOMEM_EMBEDDER": "local", "NEOMEM_EMBEDDING_DIMS": "768"}, "384 dimensions"},
		{"unknown provider", map[string]string{"NEOMEM_LLM_PROVIDER": "acme"}, "NEOMEM_LLM_PROVIDER"},
		{"vision without chat", map[string]string{"NEOMEM_LLM_PROVIDER": "none", "NEOMEM_VISION_MODEL": "llava"}, "NEOMEM_VISION_MODEL"},
		{"json_schema with anthropic", map[string]string{"NEOMEM_LLM_PROVIDER": "anthropic", "ANTHROPIC_API_KEY": "k", "NEOMEM_LLM_STRUCTURED": "json_schema"}, "NEOMEM_LLM_STRUCTURED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), nil, env(t, tt.env), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("run = %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

func TestKeysSubcommand(t *testing.T) {
	getenv := env(t, nil)
	tenant := testcontainers.Tenant(t)
	var out, errOut strings.Builder
	if err := run(context.Background(), []string{"keys", "create", "-tenant", tenant, "-name", "ci", "-admin"}, getenv, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	// The key alone on stdout, so KEY=$(neomem keys create …) works.
	key := strings.TrimSuffix(out.String(), "\n")
	if !strings.HasPrefix(key, "nm_") || strings.ContainsAny(key, " \n") {
		t.Fatalf("create printed %q on stdout, want the key alone", out.String())
	}
	fields := strings.Fields(errOut.String())
	if len(fields) < 3 || fields[0] != "created" {
		t.Fatalf("create printed %q on stderr", errOut.String())
	}
	id := fields[2]
	if !strings.Contains(key, id) {
		t.Fatalf("stderr names key %s, stdout printed %s", id, key)
	}
	out.Reset()
	if err := run(context.Background(), []string{"keys", "list", "-tenant", tenant}, getenv, &out, &errOut); err != nil || !strings.Contains(out.String(), id) {
		t.Fatalf("list = %q, %v", out.String(), err)
	}
	if err := run(context.Background(), []string{"keys", "revoke", "-tenant", tenant, "-id", id}, getenv, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"keys", "bogus"}, getenv, &out, &errOut); err == nil {
		t.Fatal("unknown keys subcommand accepted")
	}
}

// call and waitEvent are the test harness's (testcontainers/neomem).
var (
	call      = neomem.Call
	waitEvent = neomem.WaitEvent
)

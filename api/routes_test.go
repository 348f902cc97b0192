package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/neomem/neomem/llm"
	"github.com/neomem/neomem/llm/llmtest"
	"github.com/neomem/neomem/prompts"
)

func TestRoutesEndToEnd(t *testing.T) {
	srv := startServer(t, serverConfig{})
	key, _ := newKey(t, false)
	adminKey, _ := newKey(t, true)
	c := client{t: t, base: srv.base, key: key}

	// Authentication.
	if code, p := (client{t: t, base: srv.base}).do("GET", "/memories?user_id=u", nil); code != 401 || p["request_id"] == nil {
		t.Fatalf("no key: %d %v", code, p)
	}
	if code, _ := (client{t: t, base: srv.base, key: "nm_0000000000000000_bogus"}).do("GET", "/memories?user_id=u", nil); code != 401 {
		t.Fatalf("bad key: %d", code)
	}

	// Raw adds, then paging through them.
	for i := range 3 {
		code, p := c.do("POST", "/memories", map[string]any{"user_id": "alice", "infer": false, "metadata": map[string]any{"n": i},
			"messages": []map[string]any{{"role": "user", "content": fmt.Sprintf("I like tea number %d", i)}}})
		if code != 200 || len(p["results"].([]any)) != 1 {
			t.Fatalf("add raw: %d %v", code, p)
		}
	}
	code, p := c.do("GET", "/memories?user_id=alice&limit=2", nil)
	if code != 200 || len(p["results"].([]any)) != 2 || p["next_cursor"] == nil {
		t.Fatalf("list page 1: %d %v", code, p)
	}
	code, p2 := c.do("GET", "/memories?user_id=alice&limit=2&cursor="+p["next_cursor"].(string), nil)
	if code != 200 || len(p2["results"].([]any)) != 1 || p2["next_cursor"] != nil {
		t.Fatalf("list page 2: %d %v", code, p2)
	}
	id := p["results"].([]any)[0].(map[string]any)["id"].(string)

	// Get, update, history.
	if code, m := c.do("GET", "/memories/"+id, nil); code != 200 || m["memory"] != "I like tea number 0" || m["user_id"] != "alice" {
		t.Fatalf("get: %d %v", code, m)
	}
	if code, m := c.do("PUT", "/memories/"+id, map[string]any{"text": "I like green tea"}); code != 200 || m["memory"] != "I like green tea" {
		t.Fatalf("update: %d %v", code, m)
	}
	if code, h := c.do("GET", "/memories/"+id+"/history", nil); code != 200 || len(h["list"].([]any)) != 2 {
		t.Fatalf("history: %d %v", code, h)
	}

	// Search with a filter.
	code, r := c.do("POST", "/search", map[string]any{"query": "green tea", "user_id": "alice", "explain": true, "filters": map[string]any{"n": map[string]any{"gte": 0}}})
	if code != 200 || len(r["results"].([]any)) == 0 || r["results"].([]any)[0].(map[string]any)["memory"] != "I like green tea" {
		t.Fatalf("search: %d %v", code, r)
	}
	// Mem0-style: the scope in the filters only.
	if code, r := c.do("POST", "/search", map[string]any{"query": "tea", "filters": map[string]any{"AND": []any{map[string]any{"user_id": "alice"}}}}); code != 200 || len(r["results"].([]any)) != 3 {
		t.Fatalf("search with the scope in filters: %d %v", code, r)
	}

	// infer=true with the scripted model: a typed relation appears.
	srv.model.Then(llmtest.ToolCalls(llmtest.Call(prompts.ToolExtract, map[string]any{
		"facts":     []map[string]any{{"text": "bob works at Acme", "entities": []string{"bob", "Acme"}}},
		"entities":  []map[string]any{{"name": "Acme", "type": "company"}},
		"relations": []map[string]any{{"source": "I", "relationship": "works at", "target": "Acme"}},
	})))
	code, a := c.do("POST", "/memories", map[string]any{"user_id": "bob", "messages": []map[string]any{{"role": "user", "content": "I work at Acme"}}})
	if code != 200 || len(a["relations"].(map[string]any)["added"].([]any)) != 1 || a["usage"].(map[string]any)["llm_calls"].(float64) != 1 {
		t.Fatalf("add infer: %d %v", code, a)
	}
	code, rels := c.do("GET", "/relations?user_id=bob", nil)
	if code != 200 || len(rels["results"].([]any)) != 1 || rels["results"].([]any)[0].(map[string]any)["relationship"] != "WORKS_AT" {
		t.Fatalf("relations: %d %v", code, rels)
	}
	code, ents := c.do("GET", "/entities?user_id=bob", nil)
	if code != 200 || len(ents["results"].([]any)) != 2 {
		t.Fatalf("entities: %d %v", code, ents)
	}
	entID := ents["results"].([]any)[0].(map[string]any)["id"].(string)
	if code, e := c.do("GET", "/entities/"+entID, nil); code != 200 || len(e["relations"].([]any)) != 1 {
		t.Fatalf("entity: %d %v", code, e)
	}

	// Errors: every bad field listed, never a 500.
	code, bad := c.do("POST", "/memories", map[string]any{"messages": []map[string]any{{"role": "robot", "content": 5}}, "user_id": strings.Repeat("x", 300)})
	if code != 400 || len(bad["errors"].([]any)) < 3 {
		t.Fatalf("bad add: %d %v", code, bad)
	}
	if code, _ := c.do("POST", "/search", map[string]any{"query": "x", "user_id": "alice", "filters": map[string]any{"n": map[string]any{"between": 1}}}); code != 400 {
		t.Fatalf("bad filter: %d", code)
	}
	if code, _ := c.do("GET", "/memories/not-a-uuid", nil); code != 400 {
		t.Fatalf("bad id: %d", code)
	}
	if code, _ := c.do("GET", "/memories", nil); code != 400 {
		t.Fatalf("list without a scope: %d", code)
	}

	// Another tenant sees nothing of this one.
	other, _ := newKey(t, false)
	oc := client{t: t, base: srv.base, key: other}
	if code, _ := oc.do("GET", "/memories/"+id, nil); code != 404 {
		t.Fatalf("other tenant get: %d", code)
	}
	if code, p := oc.do("GET", "/memories?user_id=alice", nil); code != 200 || len(p["results"].([]any)) != 0 {
		t.Fatalf("other tenant list: %d %v", code, p)
	}

	// Delete, delete all, reset (admin only).
	if code, _ := c.do("DELETE", "/memories/"+id, nil); code != 200 {
		t.Fatalf("delete: %d", code)
	}
	if code, _ := c.do("GET", "/memories/"+id, nil); code != 404 {
		t.Fatalf("get after delete: %d", code)
	}
	if code, p := c.do("DELETE", "/memories?user_id=alice", nil); code != 200 || p["deleted"].(float64) != 2 {
		t.Fatalf("delete all: %d %v", code, p)
	}
	if code, _ := c.do("POST", "/reset", nil); code != 403 {
		t.Fatalf("reset with a normal key: %d", code)
	}
	if code, _ := (client{t: t, base: srv.base, key: adminKey}).do("POST", "/reset", nil); code != 200 {
		t.Fatalf("reset with an admin key: %d", code)
	}
	if code, spec := c.do("GET", "/openapi.json", nil); code != 200 || spec["openapi"] == nil {
		t.Fatalf("openapi.json: %d", code)
	}
}

// generic answers any extraction with the user's messages as facts and any
// decision by adding every new fact: enough for clients that only check
// that infer=true works.
func generic(req llm.Request) (llm.Response, error) {
	p := req.Messages[len(req.Messages)-1].Content
	if req.ToolChoice.Mode == llm.ToolForce {
		var facts []map[string]any
		for _, m := range regexp.MustCompile(`"content":"([^"]*)"`).FindAllStringSubmatch(p, -1) {
			facts = append(facts, map[string]any{"text": m[1]})
		}
		return llmtest.ToolCalls(llmtest.Call(prompts.ToolExtract, map[string]any{"facts": facts})), nil
	}
	var calls []llm.ToolCall
	for _, m := range regexp.MustCompile(`- (F\d+): "([^"]*)"`).FindAllStringSubmatch(p, -1) {
		calls = append(calls, llmtest.Call(prompts.ToolAddMemory, map[string]string{"text": m[2], "fact": m[1]}))
	}
	if len(calls) == 0 {
		calls = append(calls, llmtest.Call(prompts.ToolNoop, map[string]string{}))
	}
	return llmtest.ToolCalls(calls...), nil
}

// TestMem0PythonClient drives the server with Mem0's own, unchanged Python
// MemoryClient (mem0ai, pinned in tests/mem0compat/requirements.txt; `make
// test` sets NEOMEM_MEM0COMPAT_PYTHON from tests/mem0compat/setup.sh).
func TestMem0PythonClient(t *testing.T) {
	py := os.Getenv("NEOMEM_MEM0COMPAT_PYTHON")
	if py == "" {
		if os.Getenv("NEOMEM_MODELS_REQUIRED") == "1" {
			t.Fatal("NEOMEM_MEM0COMPAT_PYTHON is not set (bash tests/mem0compat/setup.sh prints it)")
		}
		t.Skip("NEOMEM_MEM0COMPAT_PYTHON is not set: `make test` creates it with tests/mem0compat/setup.sh")
	}
	srv := startServer(t, serverConfig{Model: llmtest.NewScripted().Respond(generic)})
	key, _ := newKey(t, false)
	cmd := exec.Command(py, "../tests/mem0compat/compat.py", "--host", srv.base, "--api-key", key)
	cmd.Env = append(os.Environ(), "MEM0_TELEMETRY=False", "MEM0_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	t.Logf("compat.py:\n%s", out)
	if err != nil {
		t.Fatalf("Mem0's client against neomem: %v", err)
	}
}

// TestGraphRoutesExportImportKeys: structured triples, the graph, export and
// import, admin keys and the offline docs page. (What /metrics holds is the
// command's: cmd/server's TestMetricsOfRoutes.)
func TestGraphRoutesExportImportKeys(t *testing.T) {
	srv := startServer(t, serverConfig{Model: llmtest.NewScripted().Respond(generic)})
	adminKey, _ := newKey(t, true)
	c := client{t: t, base: srv.base, key: adminKey}

	// Structured triples, no LLM: types normalised, hostile ones rejected.
	code, r := c.do("POST", "/relations", map[string]any{"user_id": "ann", "relations": []map[string]any{
		{"source": "Ann", "source_type": "person", "relationship": "works-at", "target": "Acme", "target_type": "company"},
		{"source": "Ann", "relationship": "lives in", "target": "Lisbon"},
		{"source": "Ann", "relationship": "likes`) DETACH DELETE n //", "target": "Acme"},
	}})
	if code != 200 || len(r["relations"].(map[string]any)["added"].([]any)) != 2 || len(r["relations"].(map[string]any)["rejected"].([]any)) != 1 {
		t.Fatalf("POST /relations: %d %v", code, r)
	}
	if llm := srv.model.Calls(); llm != 0 {
		t.Fatalf("POST /relations made %d LLM calls", llm)
	}
	// Again: the same entities and relations, one more mention.
	if code, _ := c.do("POST", "/relations", map[string]any{"user_id": "ann", "relations": []map[string]any{{"source": "ann", "relationship": "WORKS_AT", "target": "acme"}}}); code != 200 {
		t.Fatalf("POST /relations again: %d", code)
	}
	code, g := c.do("GET", "/graph?user_id=ann", nil)
	if code != 200 || len(g["nodes"].([]any)) != 3 || len(g["edges"].([]any)) != 2 {
		t.Fatalf("GET /graph: %d %v", code, g)
	}
	if code, _ := c.do("POST", "/memories", map[string]any{"user_id": "ann", "infer": false, "messages": []map[string]any{{"role": "user", "content": "Ann likes sardines"}}}); code != 200 {
		t.Fatal("add")
	}

	// Export, then import into another tenant: the same graph there.
	req, _ := http.NewRequest("GET", srv.base+"/export?user_id=ann", nil)
	req.Header.Set("X-API-Key", adminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	dump, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	lines := strings.Split(strings.TrimSpace(string(dump)), "\n")
	if resp.StatusCode != 200 || len(lines) < 7 { // 1 memory, its event, 3 entities, 2 relations, events
		t.Fatalf("export: %d, %d lines:\n%s", resp.StatusCode, len(lines), dump)
	}
	otherKey, _ := newKey(t, true)
	req, _ = http.NewRequest("POST", srv.base+"/import", bytes.NewReader(dump))
	req.Header.Set("X-API-Key", otherKey)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var imported map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&imported)
	resp.Body.Close()
	if resp.StatusCode != 200 || imported["entities"].(float64) != 3 || imported["relations"].(float64) != 2 || imported["memories"].(float64) != 1 {
		t.Fatalf("import: %d %v", resp.StatusCode, imported)
	}
	oc := client{t: t, base: srv.base, key: otherKey}
	if code, g := oc.do("GET", "/graph?user_id=ann", nil); code != 200 || len(g["edges"].([]any)) != 2 {
		t.Fatalf("graph after import: %d %v", code, g)
	}
	if code, r := oc.do("POST", "/search", map[string]any{"query": "sardines", "user_id": "ann"}); code != 200 || len(r["results"].([]any)) != 1 {
		t.Fatalf("search after import: %d %v", code, r)
	}
	// Importing it again into the same scope meets the entities' keys:
	// a conflict, and nothing of the second import is written.
	req, _ = http.NewRequest("POST", srv.base+"/import", bytes.NewReader(dump))
	req.Header.Set("X-API-Key", otherKey)
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 409 {
		t.Fatalf("second import: %d, want 409", resp.StatusCode)
	}
	if code, g := oc.do("GET", "/graph?user_id=ann", nil); code != 200 || len(g["nodes"].([]any)) != 3 {
		t.Fatalf("graph after the refused import: %d %v", code, g)
	}

	// Keys: admins create keys for their own tenant; others may not.
	code, k := c.do("POST", "/keys", map[string]any{"name": "app"})
	if code != 200 || !strings.HasPrefix(k["key"].(string), "nm_") {
		t.Fatalf("POST /keys: %d %v", code, k)
	}
	plain := client{t: t, base: srv.base, key: k["key"].(string)}
	if code, _ := plain.do("POST", "/keys", map[string]any{}); code != 403 {
		t.Fatalf("POST /keys with a non-admin key: %d", code)
	}
	if code, g := plain.do("GET", "/graph?user_id=ann", nil); code != 200 || len(g["nodes"].([]any)) != 3 {
		t.Fatalf("the new key's tenant: %d %v", code, g)
	}

	// The offline docs page.
	resp, err = http.Get(srv.base + "/docs/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "swagger-ui") {
		t.Fatalf("/docs/: %d", resp.StatusCode)
	}
	if resp, _ := http.Get(srv.base + "/docs/swagger-initializer.js"); resp.StatusCode != 200 {
		t.Fatalf("initializer: %d", resp.StatusCode)
	}
}

func TestRateLimitPerKey(t *testing.T) {
	srv := startServer(t, serverConfig{RateLimit: 1, RateBurst: 3})
	key, _ := newKey(t, false)
	c := client{t: t, base: srv.base, key: key}
	limited := false
	for range 10 {
		if code, _ := c.do("GET", "/memories?user_id=u", nil); code == 429 {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("10 quick requests at 1/s with bursts of 3 were never limited")
	}
	other, _ := newKey(t, false)
	if code, _ := (client{t: t, base: srv.base, key: other}).do("GET", "/memories?user_id=u", nil); code != 200 {
		t.Fatalf("another key is limited too: %d", code)
	}
}

func TestMem0BatchAndEntityRoutes(t *testing.T) {
	srv := startServer(t, serverConfig{BodyLimit: "64K"})
	key, _ := newKey(t, false)
	c := client{t: t, base: srv.base, key: key}
	var ids []string
	for i := range 3 {
		_, p := c.do("POST", "/v3/memories/add/", map[string]any{"messages": []map[string]any{{"role": "user", "content": fmt.Sprintf("note %d", i)}},
			"filters": map[string]any{"user_id": "zed"}, "infer": false})
		ids = append(ids, p["results"].([]any)[0].(map[string]any)["id"].(string))
	}
	if code, p := c.do("PUT", "/v1/batch/", map[string]any{"memories": []map[string]any{{"memory_id": ids[0], "text": "note zero"}, {"memory_id": ids[1], "metadata": map[string]any{"k": 1}}}}); code != 200 {
		t.Fatalf("batch update: %d %v", code, p)
	}
	if code, m := c.do("GET", "/v1/memories/"+ids[0]+"/", nil); code != 200 || m["memory"] != "note zero" {
		t.Fatalf("after batch update: %d %v", code, m)
	}
	if code, p := c.do("DELETE", "/v1/batch/", map[string]any{"memories": []map[string]any{{"memory_id": ids[2]}}}); code != 200 {
		t.Fatalf("batch delete: %d %v", code, p)
	}
	if code, _ := c.do("PUT", "/v1/batch/", map[string]any{"memories": []map[string]any{{"memory_id": "nope"}}}); code != 400 {
		t.Fatalf("batch with a bad id: %d", code)
	}
	if code, u := c.do("GET", "/v1/entities/", nil); code != 200 || u["count"].(float64) != 1 {
		t.Fatalf("users: %d %v", code, u)
	}
	// delete_all without a scope must not wipe the tenant; the Python repr
	// of filters is understood.
	if code, _ := c.do("DELETE", "/v1/memories/", nil); code != 400 {
		t.Fatalf("unscoped delete_all: %d", code)
	}
	if code, p := c.do("DELETE", "/v1/memories/?filters=%7B%27user_id%27%3A+%27nobody%27%7D", nil); code != 200 {
		t.Fatalf("delete_all with repr filters: %d %v", code, p)
	}
	if code, _ := c.do("DELETE", "/v2/entities/user/zed/", nil); code != 200 {
		t.Fatalf("delete user: %d", code)
	}
	if code, u := c.do("GET", "/v1/entities/", nil); code != 200 || u["count"].(float64) != 0 {
		t.Fatalf("users after delete: %d %v", code, u)
	}
	// Mem0 errors are application/json with "detail" (the client reads it there).
	req, _ := http.NewRequest("GET", srv.base+"/v1/memories/"+ids[0]+"/", nil)
	req.Header.Set("Authorization", "Token "+key)
	resp, _ := http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("Mem0 error: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// 415 and 413.
	req, _ = http.NewRequest("POST", srv.base+"/search", strings.NewReader("query=x"))
	req.Header.Set("X-API-Key", key)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 415 {
		t.Fatalf("form body: %d, want 415", resp.StatusCode)
	}
	big := `{"query": "` + strings.Repeat("x", 70<<10) + `"}`
	req, _ = http.NewRequest("POST", srv.base+"/search", strings.NewReader(big))
	req.Header.Set("X-API-Key", key)
	req.Header.Set("Content-Type", "application/json")
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Fatalf("big body: %d, want 413", resp.StatusCode)
	}
}

func TestScopeFromNestedFilter(t *testing.T) {
	srv := startServer(t, serverConfig{})
	key, _ := newKey(t, false)
	c := client{t: t, base: srv.base, key: key}
	if code, _ := c.do("POST", "/memories", map[string]any{"user_id": "al", "agent_id": "ag", "infer": false,
		"messages": []map[string]any{{"role": "user", "content": "tea time"}}}); code != 200 {
		t.Fatal("add")
	}
	code, r := c.do("POST", "/search", map[string]any{"query": "tea", "filters": map[string]any{"AND": []any{map[string]any{"user_id": "al", "agent_id": "ag"}}}})
	if code != 200 || len(r["results"].([]any)) != 1 {
		t.Fatalf("two scope keys in one object under AND: %d %v", code, r)
	}
}

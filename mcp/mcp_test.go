package mcp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/neomem/neomem/testcontainers"
	"github.com/neomem/neomem/testcontainers/neomem"
)

func TestMain(m *testing.M) { os.Exit(neomem.Main(m)) }

// wantTools are the tools an agent gets.
var wantTools = []string{"add_memory", "add_relation", "delete_all_memories", "delete_entity", "delete_memory", "get_entity",
	"get_event_status", "get_memories", "get_memory", "list_entities", "search_memories", "update_memory"}

// keyHeader sends an API key with every request.
type keyHeader struct{ key string }

func (k keyHeader) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-API-Key", k.key)
	return http.DefaultTransport.RoundTrip(r)
}

// connect opens an MCP session to srv as key over the named transport:
// "http" (the server's /mcp) or "stdio" (`neomem mcp` as a subprocess).
func connect(t *testing.T, srv *neomem.Server, transport, key string) (*sdk.ClientSession, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client := sdk.NewClient(&sdk.Implementation{Name: "neomem-test", Version: "1"}, nil)
	var tr sdk.Transport
	switch transport {
	case "http":
		tr = &sdk.StreamableClientTransport{Endpoint: srv.URL + "/mcp", HTTPClient: &http.Client{Transport: keyHeader{key}},
			MaxRetries: -1, DisableStandaloneSSE: true}
	case "stdio":
		bin, _ := neomem.Binaries(t)
		cmd := exec.Command(bin, "mcp")
		cmd.Env = append(slices.Clone(srv.Env), "NEOMEM_API_KEY="+key)
		tr = &sdk.CommandTransport{Command: cmd}
	}
	s, err := client.Connect(ctx, tr, nil)
	if err == nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, err
}

// call runs a tool and decodes its structured result into out; it returns
// the error text when the tool reported one.
func call(t *testing.T, s *sdk.ClientSession, name string, args map[string]any, out any) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := s.CallTool(ctx, &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if res.IsError {
		var texts []string
		for _, c := range res.Content {
			if tc, ok := c.(*sdk.TextContent); ok {
				texts = append(texts, tc.Text)
			}
		}
		return strings.Join(texts, " ")
	}
	if out != nil {
		b, _ := json.Marshal(res.StructuredContent)
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s: %v: %s", name, err, b)
		}
	}
	return ""
}

type memory struct {
	ID      string `json:"id"`
	Memory  string `json:"memory"`
	UserID  string `json:"user_id"`
	Version int64  `json:"version"`
}

// TestMCP: over HTTP and over stdio, an MCP client lists the tools and runs
// add → search → get → update → delete; a key of another tenant sees
// nothing; bad input is a tool error that says what is wrong; a wrong key
// is refused.
func TestMCP(t *testing.T) {
	srv, _ := neomem.Start(t, nil)
	tenantA, tenantB := testcontainers.Tenant(t), testcontainers.Tenant(t)
	keyA, keyB := srv.Key(t, tenantA, false), srv.Key(t, tenantB, false)
	for _, transport := range []string{"http", "stdio"} {
		t.Run(transport, func(t *testing.T) {
			a, err := connect(t, srv, transport, keyA)
			if err != nil {
				t.Fatal(err)
			}
			b, err := connect(t, srv, transport, keyB)
			if err != nil {
				t.Fatal(err)
			}
			tools, err := a.ListTools(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, tool := range tools.Tools {
				names = append(names, tool.Name)
				if tool.Description == "" || tool.InputSchema == nil {
					t.Errorf("tool %s has no description or input schema", tool.Name)
				}
			}
			slices.Sort(names)
			if !slices.Equal(names, wantTools) {
				t.Fatalf("tools = %v, want %v", names, wantTools)
			}

			user := "u-" + transport
			var added struct {
				Results []struct{ ID, Memory, Event string } `json:"results"`
			}
			if msg := call(t, a, "add_memory", map[string]any{"user_id": user, "infer": false, "text": "I live in Austin",
				"metadata": map[string]any{"via": "mcp"}}, &added); msg != "" || len(added.Results) != 1 || added.Results[0].Event != "ADD" {
				t.Fatalf("add_memory = %+v %q", added, msg)
			}
			id := added.Results[0].ID
			var found struct{ Results []memory }
			if msg := call(t, a, "search_memories", map[string]any{"user_id": user, "query": "where do I live"}, &found); msg != "" ||
				len(found.Results) == 0 || found.Results[0].ID != id {
				t.Fatalf("search_memories = %+v %q", found, msg)
			}
			var got struct {
				memory
				History []struct{ Op string } `json:"history"`
			}
			if msg := call(t, a, "get_memory", map[string]any{"id": id}, &got); msg != "" || got.Memory != "I live in Austin" ||
				got.UserID != user || len(got.History) != 1 || got.History[0].Op != "ADD" {
				t.Fatalf("get_memory = %+v %q", got, msg)
			}
			var updated memory
			if msg := call(t, a, "update_memory", map[string]any{"id": id, "text": "I live in Berlin", "if_version": got.Version}, &updated); msg != "" ||
				updated.Memory != "I live in Berlin" || updated.Version != got.Version+1 {
				t.Fatalf("update_memory = %+v %q", updated, msg)
			}
			if msg := call(t, a, "update_memory", map[string]any{"id": id, "text": "stale", "if_version": got.Version}, nil); !strings.Contains(msg, "version") {
				t.Errorf("update_memory at a stale version = %q, want a stale-version error", msg)
			}
			var page struct {
				Results []memory
			}
			if msg := call(t, a, "get_memories", map[string]any{"user_id": user}, &page); msg != "" || len(page.Results) != 1 {
				t.Errorf("get_memories = %+v %q", page, msg)
			}

			// Another tenant's key sees nothing of it.
			if msg := call(t, b, "get_memory", map[string]any{"id": id}, nil); !strings.Contains(msg, "not found") {
				t.Errorf("get_memory with another tenant's key = %q, want not found", msg)
			}
			var other struct{ Results []memory }
			if msg := call(t, b, "search_memories", map[string]any{"user_id": user, "query": "where do I live"}, &other); msg != "" || len(other.Results) != 0 {
				t.Errorf("search_memories with another tenant's key = %+v %q", other, msg)
			}
			if msg := call(t, b, "delete_memory", map[string]any{"id": id}, nil); !strings.Contains(msg, "not found") {
				t.Errorf("delete_memory with another tenant's key = %q, want not found", msg)
			}

			// Bad input says what is wrong.
			if msg := call(t, a, "search_memories", map[string]any{"query": "anything"}, nil); !strings.Contains(msg, "user_id") {
				t.Errorf("search_memories without a scope = %q, want it to name user_id", msg)
			}
			if msg := call(t, a, "search_memories", map[string]any{"user_id": user, "query": "x", "as_of": "yesterday"}, nil); !strings.Contains(msg, "as_of") {
				t.Errorf("search_memories with a bad as_of = %q", msg)
			}

			// Entities and relations without a model.
			var rel struct {
				Relations struct{ Added []any } `json:"relations"`
			}
			if msg := call(t, a, "add_relation", map[string]any{"user_id": user, "relations": []any{
				map[string]any{"source": "Ann", "source_type": "Person", "relationship": "works_at", "target": "Acme", "target_type": "Organization"}}}, &rel); msg != "" {
				t.Fatalf("add_relation: %q", msg)
			}
			var ents struct {
				Results []struct{ ID, Name string }
			}
			if msg := call(t, a, "list_entities", map[string]any{"user_id": user}, &ents); msg != "" || len(ents.Results) != 2 {
				t.Fatalf("list_entities = %+v %q", ents, msg)
			}
			var acme string
			for _, e := range ents.Results {
				if e.Name == "Acme" {
					acme = e.ID
				}
			}
			var ent struct {
				Name      string
				Relations []struct{ Source, Relationship, Target string }
			}
			if msg := call(t, a, "get_entity", map[string]any{"id": acme}, &ent); msg != "" || len(ent.Relations) != 1 || ent.Relations[0].Source != "Ann" {
				t.Fatalf("get_entity = %+v %q", ent, msg)
			}
			if msg := call(t, a, "delete_entity", map[string]any{"id": acme}, nil); msg != "" {
				t.Fatalf("delete_entity: %q", msg)
			}

			if msg := call(t, a, "delete_memory", map[string]any{"id": id}, nil); msg != "" {
				t.Fatalf("delete_memory: %q", msg)
			}
			if msg := call(t, a, "get_memory", map[string]any{"id": id}, nil); !strings.Contains(msg, "not found") {
				t.Errorf("get_memory after delete = %q, want not found", msg)
			}
			var gone struct{ Deleted int }
			if msg := call(t, a, "delete_all_memories", map[string]any{"user_id": user}, &gone); msg != "" || gone.Deleted != 1 {
				t.Errorf("delete_all_memories = %+v %q, want Ann left", gone, msg)
			}

			// A wrong key is refused.
			if s, err := connect(t, srv, transport, "nm_0000000000000000_wrong"); err == nil {
				if _, err := s.ListTools(context.Background(), nil); err == nil {
					t.Errorf("a wrong key was accepted over %s", transport)
				}
			}
		})
	}
}

// TestMCPAsyncAdd: an asynchronous add_memory returns an event id whose
// status get_event_status reports until the job is done.
func TestMCPAsyncAdd(t *testing.T) {
	tenant := testcontainers.Tenant(t)
	srv, _ := neomem.Start(t, map[string]string{"NEOMEM_WORKERS": "1", "NEOMEM_WORKER_TENANTS": tenant})
	s, err := connect(t, srv, "http", srv.Key(t, tenant, false))
	if err != nil {
		t.Fatal(err)
	}
	var accepted struct {
		EventID string `json:"event_id"`
	}
	if msg := call(t, s, "add_memory", map[string]any{"user_id": "u", "infer": false, "async": true, "text": "I like tea"}, &accepted); msg != "" || accepted.EventID == "" {
		t.Fatalf("async add_memory = %+v %q", accepted, msg)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var ev struct {
			Status string
			Result *struct{ Results []any } `json:"result"`
		}
		if msg := call(t, s, "get_event_status", map[string]any{"event_id": accepted.EventID}, &ev); msg != "" {
			t.Fatal(msg)
		}
		if ev.Status == "SUCCEEDED" {
			if ev.Result == nil || len(ev.Result.Results) != 1 {
				t.Fatalf("finished job result = %+v", ev.Result)
			}
			return
		}
		if ev.Status == "FAILED" || time.Now().After(deadline) {
			t.Fatalf("job status %s", ev.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestMCPTimestamp: add_memory's timestamp dates the memories it creates,
// and search_memories naming that day ranks them by time; a timestamp out
// of range is a tool error that names it and stores nothing.
func TestMCPTimestamp(t *testing.T) {
	tenant := testcontainers.Tenant(t)
	srv, _ := neomem.Start(t, nil)
	s, err := connect(t, srv, "http", srv.Key(t, tenant, false))
	if err != nil {
		t.Fatal(err)
	}
	said := time.Date(2023, 5, 8, 13, 56, 0, 0, time.UTC)
	var added struct {
		Results []struct{ ID string } `json:"results"`
	}
	if msg := call(t, s, "add_memory", map[string]any{"user_id": "u", "infer": false, "text": "we hiked in Sintra", "timestamp": said.Unix()}, &added); msg != "" || len(added.Results) != 1 {
		t.Fatalf("add_memory with a timestamp = %+v %q", added, msg)
	}
	call(t, s, "add_memory", map[string]any{"user_id": "u", "infer": false, "text": "we hiked in the Alps"}, nil)
	var got struct {
		CreatedAt time.Time `json:"created_at"`
	}
	if msg := call(t, s, "get_memory", map[string]any{"id": added.Results[0].ID}, &got); msg != "" || !got.CreatedAt.Equal(said) {
		t.Fatalf("get_memory: created_at %v %q, want %v", got.CreatedAt, msg, said)
	}
	var found struct {
		Results []struct {
			ID string `json:"id"`
		} `json:"results"`
	}
	if msg := call(t, s, "search_memories", map[string]any{"user_id": "u", "query": "where did we hike on 8 May 2023?"}, &found); msg != "" ||
		len(found.Results) != 2 || found.Results[0].ID != added.Results[0].ID {
		t.Fatalf("search_memories naming the day = %+v %q", found, msg)
	}
	if msg := call(t, s, "add_memory", map[string]any{"user_id": "bad", "infer": false, "text": "x", "timestamp": int64(253402300800)}, nil); !strings.Contains(msg, "timestamp") {
		t.Errorf("add_memory with a timestamp past 9999 = %q, want an error naming timestamp", msg)
	}
	var page struct{ Results []memory }
	if msg := call(t, s, "get_memories", map[string]any{"user_id": "bad"}, &page); msg != "" || len(page.Results) != 0 {
		t.Errorf("a refused add stored %+v %q", page, msg)
	}
}

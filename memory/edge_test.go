package memory_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/llm"
	"github.com/neomem/neomem/llm/llmtest"
	"github.com/neomem/neomem/memory"
	"github.com/neomem/neomem/prompts"
)

func (e *env) current() []graph.Memory {
	e.t.Helper()
	page, err := e.store.ListMemories(context.Background(), e.scope, graph.ListQuery{})
	if err != nil {
		e.t.Fatal(err)
	}
	return page.Items
}

func TestDeleteAndReAddSameText(t *testing.T) {
	e := newEnv(t, memory.Config{})
	e.model.Then(extraction([]fact{{Text: "alice likes pizza"}}, nil, nil, ""))
	e.add("I like pizza")
	e.model.Then(extraction([]fact{{Text: "alice likes pizza"}}, nil, nil, ""))
	e.model.Then(llmtest.ToolCalls(
		llmtest.Call(prompts.ToolDeleteMemory, map[string]string{"id": "M1"}),
		llmtest.Call(prompts.ToolAddMemory, map[string]string{"text": "alice likes pizza", "fact": "F1"}),
	))
	res := e.add("I like pizza, really")
	if cur := e.current(); len(cur) != 1 || cur[0].Text != "alice likes pizza" {
		t.Fatalf("current memories = %+v (result %+v); the fact was lost", cur, res.Results)
	}
}

func TestDuplicateFactsInOneAdd(t *testing.T) {
	e := newEnv(t, memory.Config{})
	e.model.Then(extraction([]fact{{Text: "alice likes tea"}, {Text: "alice likes  tea"}}, nil, nil, ""))
	res := e.add("I like tea. I like tea!")
	if len(e.current()) != 1 || len(res.Results) != 1 {
		t.Fatalf("memories %d, results %+v; want one", len(e.current()), res.Results)
	}
}

func TestDecisionMayOnlyNameShownEntities(t *testing.T) {
	e := newEnv(t, memory.Config{})
	e.model.Then(extraction([]fact{{Text: "alice visited Berlin", Entities: []string{"alice", "Berlin"}}}, []ent{{"Berlin", "city"}}, []rel{{"alice", "visited", "Berlin"}}, ""))
	e.add("I visited Berlin")
	// Extraction names only Bob; the decision names Berlin (an entity that
	// exists, but was not shown) and then "I", which is the user.
	e.model.Then(extraction([]fact{{Text: "alice met Bob", Entities: []string{"Bob"}}}, []ent{{"Bob", "person"}}, nil, ""))
	e.model.Then(llmtest.ToolCalls(
		llmtest.Call(prompts.ToolAddMemory, map[string]string{"text": "alice met Bob", "fact": "F1"}),
		llmtest.Call(prompts.ToolAddGraphMemory, map[string]string{"source": "Bob", "relationship": "lives_in", "target": "Paris"}),
	))
	e.model.Then(llmtest.ToolCalls(
		llmtest.Call(prompts.ToolAddMemory, map[string]string{"text": "alice met Bob", "fact": "F1"}),
		llmtest.Call(prompts.ToolAddGraphMemory, map[string]string{"source": "I", "relationship": "met", "target": "Bob"}),
	))
	before := e.model.Calls()
	res, err := e.engine.Add(context.Background(), graph.AddRequest{Scope: e.scope, Infer: true, Messages: []graph.Message{{Role: "user", Content: "I met Bob"}}})
	if err != nil {
		t.Fatal(err)
	}
	if calls := e.model.Calls() - before; calls != 3 {
		t.Fatalf("%d calls; the unknown entity should cost one retry", calls)
	}
	if p := e.model.Requests()[before+2].Messages; !strings.Contains(p[len(p)-1].Content, "Paris") {
		t.Fatalf("the retry did not name the unknown entity: %q", p[len(p)-1].Content)
	}
	if len(res.Relations.Added) != 1 || res.Relations.Added[0].Source != "alice" {
		t.Fatalf("relations = %+v", res.Relations)
	}
	if n := e.count(`MATCH (x:__Entity__ {tenant: $tenant}) WHERE x.name IN ['I', 'Paris'] OR x.key = 'i' RETURN count(x) AS n`, nil); n != 0 {
		t.Fatalf("%d entities named I or Paris", n)
	}
	if n := e.count(`MATCH (u:__Entity__ {tenant: $tenant, key: 'alice'})-[:MET]->(:__Entity__ {key: 'bob'}) RETURN count(u) AS n`, nil); n != 1 {
		t.Fatalf("alice MET Bob: %d", n)
	}
	// The reported relation id is the stored one.
	if n := e.count(`MATCH ()-[r {id: $id}]->() RETURN count(r) AS n`, map[string]any{"id": res.Relations.Added[0].ID}); n != 1 {
		t.Fatalf("reported relation id %s not in the graph", res.Relations.Added[0].ID)
	}
}

func TestRepeatedRelationReportsStoredID(t *testing.T) {
	e := newEnv(t, memory.Config{})
	ex := extraction([]fact{{Text: "alice likes jazz", Entities: []string{"alice", "jazz"}}}, []ent{{"jazz", "genre"}}, []rel{{"alice", "likes", "jazz"}}, "")
	e.model.Then(ex)
	first := e.add("I like jazz")
	e.model.Then(ex)
	e.model.Then(llmtest.ToolCalls(
		llmtest.Call(prompts.ToolNoop, map[string]string{"id": "M1"}),
		llmtest.Call(prompts.ToolAddGraphMemory, map[string]string{"source": "alice", "relationship": "likes", "target": "jazz"}),
	))
	second := e.add("I like jazz")
	if second.Relations.Added[0].ID != first.Relations.Added[0].ID {
		t.Fatalf("repeated relation reported as %s, stored as %s", second.Relations.Added[0].ID, first.Relations.Added[0].ID)
	}
	if n := e.count(`MATCH ()-[r:LIKES {tenant: $tenant}]->() RETURN sum(r.mentions) AS n`, nil); n != 2 {
		t.Fatalf("mentions = %d, want 2", n)
	}
}

func TestAgentScopeSelfReference(t *testing.T) {
	e := newEnv(t, memory.Config{})
	e.scope = graph.Scope{Tenant: e.tenant, AgentID: "bot"}
	e.model.Then(extraction([]fact{{Text: "the user likes tea", Entities: []string{"I", "tea"}}}, []ent{{"I", "person"}, {"tea", "drink"}}, []rel{{"I", "likes", "tea"}}, ""))
	res := e.add("I like tea")
	if len(res.Relations.Rejected) != 1 || !strings.Contains(res.Relations.Rejected[0].Reason, "user_id") {
		t.Fatalf("rejected = %+v", res.Relations.Rejected)
	}
	if n := e.count(`MATCH (x:__Entity__ {tenant: $tenant}) WHERE x.key = 'i' RETURN count(x) AS n`, nil); n != 0 {
		t.Fatal("an entity named I was stored")
	}
}

func TestPunctuationUserID(t *testing.T) {
	e := newEnv(t, memory.Config{})
	e.scope.UserID = "???"
	e.model.Then(extraction([]fact{{Text: "??? likes tea", Entities: []string{"I", "tea"}}}, []ent{{"tea", "drink"}}, []rel{{"I", "likes", "tea"}}, ""))
	e.add("I like tea")
	if n := e.count(`MATCH (u:__Entity__ {tenant: $tenant, is_user: true, key: 'user:???'})-[:LIKES]->() RETURN count(u) AS n`, nil); n != 1 {
		t.Fatalf("user entity with a fallback key: %d", n)
	}
}

func TestUpdateKeepsMentionsMetadataAndExpiry(t *testing.T) {
	e := newEnv(t, memory.Config{})
	e.model.Then(extraction([]fact{{Text: "alice works at Acme in Paris", Entities: []string{"alice", "Acme", "Paris"}}},
		[]ent{{"Acme", "company"}, {"Paris", "city"}}, nil, ""))
	_, err := e.engine.Add(context.Background(), graph.AddRequest{Scope: e.scope, Infer: true, Metadata: map[string]any{"source": "crm", "team": "a"},
		Messages: []graph.Message{{Role: "user", Content: "I work at Acme in Paris"}}})
	if err != nil {
		t.Fatal(err)
	}
	e.model.Then(extraction([]fact{{Text: "alice is a senior engineer"}}, nil, nil, ""))
	e.model.Then(llmtest.ToolCalls(llmtest.Call(prompts.ToolUpdateMemory, map[string]string{"id": "M1", "text": "alice works at Acme in Paris as a senior engineer", "fact": "F1"})))
	_, err = e.engine.Add(context.Background(), graph.AddRequest{Scope: e.scope, Infer: true, Metadata: map[string]any{"team": "b"},
		Messages: []graph.Message{{Role: "user", Content: "I'm a senior engineer now"}}})
	if err != nil {
		t.Fatal(err)
	}
	cur := e.current()
	if len(cur) != 1 || cur[0].Metadata["source"] != "crm" || cur[0].Metadata["team"] != "b" {
		t.Fatalf("current = %+v; metadata should merge", cur)
	}
	if n := e.count(`MATCH (m:Memory {tenant: $tenant})-[:MENTIONS]->(x) WHERE m.invalid_at IS NULL RETURN count(x) AS n`, nil); n < 2 {
		t.Fatalf("the new version mentions %d entities; it should keep Acme and Paris", n)
	}
}

func TestNestedScopesStayApart(t *testing.T) {
	e := newEnv(t, memory.Config{})
	withAgent := e.scope
	withAgent.AgentID = "bot"
	e.model.Then(extraction([]fact{{Text: "alice likes cheese pizza"}}, nil, nil, ""))
	if _, err := e.engine.Add(context.Background(), graph.AddRequest{Scope: withAgent, Infer: true, Messages: []graph.Message{{Role: "user", Content: "I like cheese pizza"}}}); err != nil {
		t.Fatal(err)
	}
	// An add in the user's own scope does not see (or move) the agent's.
	e.model.Then(extraction([]fact{{Text: "alice likes cheese pizza"}}, nil, nil, ""))
	res := e.add("I like cheese pizza")
	if res.Usage.LLMCalls != 1 || res.Results[0].Event != graph.EventAdd {
		t.Fatalf("user-scope add = %+v; it saw the agent scope's memory", res)
	}
	if n := e.count(`MATCH (m:Memory {tenant: $tenant, user_id: 'alice', agent_id: 'bot'}) WHERE m.invalid_at IS NULL RETURN count(m) AS n`, nil); n != 1 {
		t.Fatalf("agent-scope memories = %d", n)
	}
}

func TestNoOrphanEntitiesFromRejectedRelations(t *testing.T) {
	e := newEnv(t, memory.Config{})
	e.model.Then(extraction([]fact{{Text: "alice knows things"}}, []ent{{"Bob", "person"}}, []rel{{"Bob", "knows", "bob"}}, ""))
	res := e.add("Bob knows Bob")
	if len(res.Relations.Rejected) != 1 {
		t.Fatalf("rejected = %+v", res.Relations.Rejected)
	}
	if n := e.count(`MATCH (x:__Entity__ {tenant: $tenant, key: 'bob'}) RETURN count(x) AS n`, nil); n != 0 {
		t.Fatalf("orphan entity Bob stored (%d)", n)
	}
}

func TestWordBoundaryMentions(t *testing.T) {
	e := newEnv(t, memory.Config{})
	e.model.Then(extraction([]fact{{Text: "alice plans an annual trip with Ann"}, {Text: "alice plans an annual trip"}}, []ent{{"Ann", "person"}}, nil, ""))
	e.add("I plan an annual trip with Ann")
	if n := e.count(`MATCH (m:Memory {tenant: $tenant, text: 'alice plans an annual trip'})-[:MENTIONS]->(:__Entity__ {key: 'ann'}) RETURN count(m) AS n`, nil); n != 0 {
		t.Fatal(`"annual" mentions Ann`)
	}
	if n := e.count(`MATCH (m:Memory {tenant: $tenant, text: 'alice plans an annual trip with Ann'})-[:MENTIONS]->(:__Entity__ {key: 'ann'}) RETURN count(m) AS n`, nil); n != 1 {
		t.Fatal("the fact naming Ann does not mention her")
	}
}

func TestLeaseReleasedAfterDecisionFailure(t *testing.T) {
	e := newEnv(t, memory.Config{LeaseWait: 3 * time.Second})
	e.model.Then(extraction([]fact{{Text: "alice likes tea"}}, nil, nil, ""))
	e.add("I like tea")
	bad := llmtest.ToolCalls(llmtest.Call(prompts.ToolUpdateMemory, map[string]string{"id": "M7", "text": "x"}))
	e.model.Then(extraction([]fact{{Text: "alice likes green tea"}}, nil, nil, "")).Then(bad).Then(bad)
	if _, err := e.engine.Add(context.Background(), graph.AddRequest{Scope: e.scope, Infer: true, Messages: []graph.Message{{Role: "user", Content: "green tea"}}}); err == nil {
		t.Fatal("add with bad decisions succeeded")
	}
	e.model.Then(extraction([]fact{{Text: "alice likes black tea"}}, nil, nil, "")).Then(llmtest.ToolCalls(llmtest.Call(prompts.ToolAddMemory, map[string]string{"text": "alice likes black tea", "fact": "F1"})))
	e.add("black tea") // fails after LeaseWait if the lock was kept
}

func TestBadMetadataRefusedBeforeModelCalls(t *testing.T) {
	e := newEnv(t, memory.Config{})
	_, err := e.engine.Add(context.Background(), graph.AddRequest{Scope: e.scope, Infer: true, Metadata: map[string]any{"": 1},
		Messages: []graph.Message{{Role: "user", Content: "x"}}})
	if !errors.Is(err, graph.Invalid) || e.model.Calls() != 0 {
		t.Fatalf("bad metadata: %v after %d model calls", err, e.model.Calls())
	}
}

// TestConcurrentUpdatesLoseNothing: adds that each extend the same memory,
// run at once, all land — each decides on the state the previous one left.
func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	e := newEnv(t, memory.Config{})
	e.model.Then(extraction([]fact{{Text: "alice likes tea"}}, nil, nil, ""))
	e.add("I like tea")
	drink := regexp.MustCompile(`drink (\w+)`)
	e.model.Respond(func(req llm.Request) (llm.Response, error) {
		p := req.Messages[len(req.Messages)-1].Content
		if req.ToolChoice.Mode == llm.ToolForce {
			return extraction([]fact{{Text: "alice likes " + drink.FindStringSubmatch(p)[1]}}, nil, nil, ""), nil
		}
		old := regexp.MustCompile(`M1: "([^"]*)"`).FindStringSubmatch(p)[1]
		f := regexp.MustCompile(`F1: "alice likes ([^"]*)"`).FindStringSubmatch(p)[1]
		return llmtest.ToolCalls(llmtest.Call(prompts.ToolUpdateMemory, map[string]string{"id": "M1", "text": old + ", " + f, "fact": "F1"})), nil
	})
	drinks := []string{"coffee", "cocoa", "juice", "water", "milk"}
	var wg sync.WaitGroup
	errs := make(chan error, len(drinks))
	for _, d := range drinks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.engine.Add(context.Background(), graph.AddRequest{Scope: e.scope, Infer: true,
				Messages: []graph.Message{{Role: "user", Content: "I also drink " + d}}})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	cur := e.current()
	if len(cur) != 1 {
		t.Fatalf("%d current memories, want 1", len(cur))
	}
	for _, d := range drinks {
		if !strings.Contains(cur[0].Text, d) {
			t.Fatalf("current memory %q lost %q", cur[0].Text, d)
		}
	}
	if n := e.count(`MATCH (m:Memory {tenant: $tenant}) WHERE m.invalid_at IS NOT NULL RETURN count(m) AS n`, nil); n != int64(len(drinks)) {
		t.Fatalf("%d old versions, want %d", n, len(drinks))
	}
}

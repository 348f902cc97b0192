package memory_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neomem/neomem/cypher"
	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/llm"
	"github.com/neomem/neomem/llm/llmtest"
	"github.com/neomem/neomem/memory"
	"github.com/neomem/neomem/prompts"
	"github.com/neomem/neomem/testcontainers"
)

const dims = 384

var (
	hash     = llmtest.NewHashEmbedder(dims)
	bootOnce sync.Once
	bootErr  error
)

// env is one test's engine over a real Neo4j, with a scripted model.
type env struct {
	t      *testing.T
	store  *cypher.Store
	model  *llmtest.Scripted
	engine *memory.Engine
	tenant string
	scope  graph.Scope
}

func newEnv(t *testing.T, cfg memory.Config) *env {
	t.Helper()
	s, err := cypher.New(testcontainers.Driver(t), cypher.Config{Dimensions: dims})
	if err != nil {
		t.Fatal(err)
	}
	bootOnce.Do(func() { bootErr = s.Bootstrap(context.Background()) })
	if bootErr != nil {
		t.Fatal(bootErr)
	}
	tenant := testcontainers.Tenant(t)
	model := llmtest.NewScripted().FailOn(t)
	if cfg.MemoryMinScore == 0 {
		cfg.MemoryMinScore = 0.2
	}
	eng, err := memory.New(s, memory.Models{Embedder: hash, Chat: model}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, store: s, model: model, engine: eng, tenant: tenant, scope: graph.Scope{Tenant: tenant, UserID: "alice"}}
}

// add runs one infer=true add and checks, by the fake's own count, that it
// made at most two LLM calls (and that the engine's usage says the same).
func (e *env) add(content string) graph.AddResult {
	e.t.Helper()
	before := e.model.Calls()
	res, err := e.engine.Add(context.Background(), graph.AddRequest{Scope: e.scope, Infer: true,
		Messages: []graph.Message{{Role: "user", Content: content}}, Audit: graph.Audit{RequestID: "req-" + graph.NewID()}})
	if err != nil {
		e.t.Fatalf("Add(%q): %v", content, err)
	}
	calls := e.model.Calls() - before
	if calls > 2 || calls != res.Usage.LLMCalls {
		e.t.Fatalf("Add(%q) made %d LLM calls (usage says %d), want at most 2", content, calls, res.Usage.LLMCalls)
	}
	return res
}

// count runs a counting query (returning n) against Neo4j itself.
func (e *env) count(q string, params map[string]any) int64 {
	e.t.Helper()
	if params == nil {
		params = map[string]any{}
	}
	params["tenant"] = e.tenant
	res, err := neo4j.ExecuteQuery(context.Background(), testcontainers.Driver(e.t), q, params, neo4j.EagerResultTransformer)
	if err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	n, _, err := neo4j.GetRecordValue[int64](res.Records[0], "n")
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

type fact struct {
	Text     string   `json:"text"`
	Entities []string `json:"entities,omitempty"`
}
type ent struct {
	Name string `json:"name"`
	Type string `json:"type"`
}
type rel struct {
	Source       string `json:"source"`
	Relationship string `json:"relationship"`
	Target       string `json:"target"`
}

// extraction scripts the extraction call's reply.
func extraction(facts []fact, ents []ent, rels []rel, userName string) llm.Response {
	args := map[string]any{"facts": facts, "entities": ents, "relations": rels}
	if userName != "" {
		args["user_name"] = userName
	}
	return llmtest.ToolCalls(llmtest.Call(prompts.ToolExtract, args))
}

func TestAddCreatesMemoriesEntitiesAndTypedRelation(t *testing.T) {
	e := newEnv(t, memory.Config{})
	e.model.Then(extraction(
		[]fact{{Text: "alice works at Google as a software engineer", Entities: []string{"I", "Google"}}},
		[]ent{{"I", "person"}, {"Google", "organization"}},
		[]rel{{"I", "works at", "Google"}}, ""))
	res := e.add("I work at Google as a software engineer.")
	if len(res.Results) != 1 || res.Results[0].Event != graph.EventAdd || len(res.Relations.Added) != 1 {
		t.Fatalf("result = %+v", res)
	}
	if res.Usage.LLMCalls != 1 {
		t.Fatalf("LLM calls = %d; with nothing existing the decision call is skipped", res.Usage.LLMCalls)
	}
	checks := []struct {
		what string
		q    string
		want int64
	}{
		{"memory", `MATCH (m:Memory {tenant: $tenant, user_id: 'alice', kind: 'fact'}) WHERE m.text = 'alice works at Google as a software engineer' AND m.invalid_at IS NULL RETURN count(m) AS n`, 1},
		{"user entity with Person label", `MATCH (u:__Entity__:Person {tenant: $tenant, key: 'alice', is_user: true}) RETURN count(u) AS n`, 1},
		{"organisation", `MATCH (g:__Entity__:Organization {tenant: $tenant, key: 'google', name: 'Google'}) RETURN count(g) AS n`, 1},
		{"typed relation", `MATCH (:__Entity__ {tenant: $tenant, key: 'alice'})-[r:WORKS_AT]->(:__Entity__ {tenant: $tenant, key: 'google'}) WHERE r.invalid_at IS NULL AND r.tenant = $tenant RETURN count(r) AS n`, 1},
		{"mentions", `MATCH (m:Memory {tenant: $tenant})-[:MENTIONS]->(x:__Entity__) RETURN count(x) AS n`, 2},
		{"events", `MATCH (ev:Event {tenant: $tenant, op: 'ADD'}) RETURN count(ev) AS n`, 4}, // memory, 2 entities, relation
		{"entity vectors", `MATCH (x:__Entity__ {tenant: $tenant}) WHERE size(x.embedding) = 384 RETURN count(x) AS n`, 2},
	}
	for _, c := range checks {
		if got := e.count(c.q, nil); got != c.want {
			t.Errorf("%s: %d, want %d", c.what, got, c.want)
		}
	}
}

// moveSeattleToAustin adds "alice lives in Seattle", then the message that
// moves her to Austin (an update of that memory and of its LIVES_IN
// relation), and returns a time between the two adds and the second add.
func (e *env) moveSeattleToAustin(move string) (time.Time, graph.AddResult) {
	e.t.Helper()
	e.model.Then(extraction(
		[]fact{{Text: "alice lives in Seattle", Entities: []string{"alice", "Seattle"}}},
		[]ent{{"Seattle", "city"}}, []rel{{"alice", "lives_in", "Seattle"}}, ""))
	e.add("I live in Seattle.")
	between := time.Now()
	time.Sleep(10 * time.Millisecond)

	e.model.Then(extraction(
		[]fact{{Text: "alice lives in Austin", Entities: []string{"alice", "Austin"}}},
		[]ent{{"Austin", "city"}}, []rel{{"I", "lives_in", "Austin"}}, ""))
	e.model.Then(llmtest.ToolCalls(
		llmtest.Call(prompts.ToolUpdateMemory, map[string]string{"id": "M1", "text": "alice lives in Austin", "fact": "F1"}),
		llmtest.Call(prompts.ToolUpdateGraphMemory, map[string]string{"id": "R1", "target": "Austin"}),
	))
	return between, e.add(move)
}

func TestMovedFromSeattleToAustin(t *testing.T) {
	e := newEnv(t, memory.Config{})
	between, res := e.moveSeattleToAustin("I moved from Seattle to Austin.")
	if len(res.Relations.Updated) != 1 || res.Relations.Updated[0].Target != "Austin" || res.Relations.Updated[0].Previous.Target != "Seattle" {
		t.Fatalf("relations = %+v", res.Relations)
	}
	if res.Results[0].Event != graph.EventUpdate || res.Results[0].PreviousMemory != "alice lives in Seattle" {
		t.Fatalf("results = %+v", res.Results)
	}
	// The decision call saw the old memory and relation by short ids only.
	decide := e.model.Requests()[2]
	if prompt := decide.Messages[1].Content; !strings.Contains(prompt, "M1") || !strings.Contains(prompt, "R1") || strings.Contains(prompt, res.Results[0].ID) {
		t.Fatalf("decision prompt does not name candidates by short ids:\n%s", prompt)
	}

	ctx := context.Background()
	current, err := e.store.Relations(ctx, e.scope, graph.RelationQuery{})
	if err != nil || len(current) != 1 || current[0].Target != "Austin" || current[0].Type != "LIVES_IN" {
		t.Fatalf("current relations = %+v, %v; want Austin only", current, err)
	}
	past, err := e.store.Relations(ctx, e.scope, graph.RelationQuery{AsOf: &between})
	if err != nil || len(past) != 1 || past[0].Target != "Seattle" {
		t.Fatalf("relations as of before the move = %+v, %v; want Seattle", past, err)
	}
	all, err := e.store.Relations(ctx, e.scope, graph.RelationQuery{IncludeInvalid: true})
	if err != nil || len(all) != 2 {
		t.Fatalf("all relations = %+v, %v", all, err)
	}
	if n := e.count(`MATCH (:__Entity__ {tenant: $tenant})-[r:LIVES_IN]->(:__Entity__ {key: 'seattle'}) WHERE r.invalid_at IS NOT NULL RETURN count(r) AS n`, nil); n != 1 {
		t.Fatalf("invalidated Seattle relation: %d", n)
	}
	// History shows both versions of the relation and of the memory.
	old := past[0]
	hist, err := e.store.History(ctx, e.scope, old.ID)
	if err != nil || len(hist) < 2 || hist[0].Op != graph.OpAdd || hist[len(hist)-1].Op != graph.OpUpdate {
		t.Fatalf("relation history = %+v, %v", hist, err)
	}
	if n := e.count(`MATCH (new:Memory {tenant: $tenant})-[:SUPERSEDES]->(old:Memory {tenant: $tenant}) WHERE new.invalid_at IS NULL AND old.invalid_at IS NOT NULL AND old.text = 'alice lives in Seattle' RETURN count(*) AS n`, nil); n != 1 {
		t.Fatalf("memory version chain: %d", n)
	}
}

func TestSameFactTwiceIsNone(t *testing.T) {
	e := newEnv(t, memory.Config{})
	ex := extraction([]fact{{Text: "alice likes pizza"}}, nil, nil, "")
	e.model.Then(ex)
	first := e.add("I like pizza.")
	e.model.Then(ex)
	e.model.Then(llmtest.ToolCalls(llmtest.Call(prompts.ToolNoop, map[string]string{"id": "M1"})))
	second := e.add("I like pizza!")
	if len(second.Results) != 1 || second.Results[0].Event != graph.EventNone || second.Results[0].ID != first.Results[0].ID {
		t.Fatalf("second add = %+v, want NONE for %s", second.Results, first.Results[0].ID)
	}
	// A model that adds the identical text again still adds nothing.
	e.model.Then(ex)
	e.model.Then(llmtest.ToolCalls(llmtest.Call(prompts.ToolAddMemory, map[string]string{"text": "alice likes pizza"})))
	third := e.add("I like pizza.")
	if third.Results[0].Event != graph.EventNone {
		t.Fatalf("third add = %+v", third.Results)
	}
	if n := e.count(`MATCH (m:Memory {tenant: $tenant}) RETURN count(m) AS n`, nil); n != 1 {
		t.Fatalf("memories = %d, want 1", n)
	}
}

func TestPizzaUpdateKeepsPreviousVersion(t *testing.T) {
	e := newEnv(t, memory.Config{})
	e.model.Then(extraction([]fact{{Text: "alice likes cheese pizza"}}, nil, nil, ""))
	first := e.add("I like cheese pizza.")
	e.model.Then(extraction([]fact{{Text: "alice likes cheese and pepperoni pizza"}}, nil, nil, ""))
	e.model.Then(llmtest.ToolCalls(llmtest.Call(prompts.ToolUpdateMemory, map[string]string{"id": "M1", "text": "alice likes cheese and pepperoni pizza", "fact": "F1"})))
	res := e.add("Actually I like cheese and pepperoni pizza.")
	r := res.Results[0]
	if r.Event != graph.EventUpdate || r.PreviousMemory != "alice likes cheese pizza" || r.Memory != "alice likes cheese and pepperoni pizza" {
		t.Fatalf("update result = %+v", r)
	}
	old, err := e.store.GetMemory(context.Background(), e.scope, first.Results[0].ID)
	if err != nil || old.InvalidAt == nil {
		t.Fatalf("old version = %+v, %v; want invalidated", old, err)
	}
	page, err := e.store.ListMemories(context.Background(), e.scope, graph.ListQuery{})
	if err != nil || len(page.Items) != 1 || page.Items[0].Text != r.Memory {
		t.Fatalf("current memories = %+v, %v", page.Items, err)
	}
}

func TestEntityResolution(t *testing.T) {
	// 0.8 lets the hashing embedder's "SR-2023-052" (score 0.857 with
	// "SR-2023-053") come back as a candidate, so the numbers rule is what
	// keeps the two apart.
	e := newEnv(t, memory.Config{EntityMinScore: 0.8})
	e.scope.UserID = "u-7"
	e.model.Then(extraction(
		[]fact{{Text: "u-7 is called Maolin and lives in Paris", Entities: []string{"I", "Paris"}}},
		[]ent{{"Maolin", "person"}, {"Paris", "city"}}, []rel{{"I", "lives_in", "Paris"}}, "Maolin"))
	e.add("Hi, I'm Maolin and I live in Paris.")
	// Later the user's name comes back as a plain entity.
	e.model.Then(extraction(
		[]fact{{Text: "Maolin's sister Ana lives in Rome", Entities: []string{"Maolin", "Ana", "Rome"}}},
		[]ent{{"Maolin", "person"}, {"Ana", "person"}, {"Rome", "city"}},
		[]rel{{"Ana", "sister_of", "Maolin"}, {"Ana", "lives_in", "Rome"}}, ""))
	e.model.Then(llmtest.ToolCalls(
		llmtest.Call(prompts.ToolAddMemory, map[string]string{"text": "Maolin's sister Ana lives in Rome", "fact": "F1"}),
		llmtest.Call(prompts.ToolAddGraphMemory, map[string]string{"source": "Ana", "relationship": "sister_of", "target": "Maolin"}),
		llmtest.Call(prompts.ToolAddGraphMemory, map[string]string{"source": "Ana", "relationship": "lives_in", "target": "Rome"}),
	))
	e.add("My sister Ana lives in Rome.")
	if n := e.count(`MATCH (u:__Entity__ {tenant: $tenant}) WHERE u.key IN ['u-7', 'maolin'] OR 'maolin' IN u.aliases RETURN count(u) AS n`, nil); n != 1 {
		t.Fatalf("entities for the user (I, u-7, Maolin) = %d, want 1", n)
	}
	if n := e.count(`MATCH (:__Entity__ {key: 'ana', tenant: $tenant})-[:SISTER_OF]->(u:__Entity__ {tenant: $tenant, is_user: true}) RETURN count(u) AS n`, nil); n != 1 {
		t.Fatalf("Ana SISTER_OF the user entity: %d", n)
	}

	// Ticket numbers: similar names, different numbers, two entities.
	for _, id := range []string{"SR-2023-052", "SR-2023-053"} {
		e.model.Then(extraction(
			[]fact{{Text: "ticket " + id + " is about a broken printer", Entities: []string{id}}},
			[]ent{{id, "ticket"}}, []rel{{"u-7", "reported", id}}, ""))
		e.model.Respond(func(req llm.Request) (llm.Response, error) {
			return llmtest.ToolCalls(
				llmtest.Call(prompts.ToolAddMemory, map[string]string{"text": "ticket " + id + " is about a broken printer", "fact": "F1"}),
				llmtest.Call(prompts.ToolAddGraphMemory, map[string]string{"source": "u-7", "relationship": "reported", "target": id}),
			), nil
		})
		e.add("I reported " + id)
	}
	if n := e.count(`MATCH (x:__Entity__:Ticket {tenant: $tenant}) RETURN count(x) AS n`, nil); n != 2 {
		t.Fatalf("ticket entities = %d, want 2 (numbers differ)", n)
	}
}

func TestHostileRelationshipNames(t *testing.T) {
	e := newEnv(t, memory.Config{})
	e.model.Then(extraction(
		[]fact{{Text: "alice works at Acme", Entities: []string{"alice", "Acme"}}},
		[]ent{{"Acme", "organization"}, {"Tokyo", "city"}},
		[]rel{
			{"alice", "works-at", "Acme"},
			{"alice", "works at…", "Acme"},
			{"alice", "likes`) DETACH DELETE n //", "Acme"},
			{"alice", "住んでいる", "Tokyo"},
			{"alice", "x' OR 1=1", "Tokyo"},
		}, ""))
	res := e.add("I work at Acme and live in Tokyo.")
	if len(res.Relations.Rejected) != 2 {
		t.Fatalf("rejected = %+v, want the two injection attempts", res.Relations.Rejected)
	}
	for _, r := range res.Relations.Rejected {
		if r.Reason == "" {
			t.Fatalf("rejection without a reason: %+v", r)
		}
	}
	if n := e.count(`MATCH (:__Entity__ {tenant: $tenant})-[r:WORKS_AT]->() RETURN count(r) AS n`, nil); n != 1 {
		t.Fatalf("WORKS_AT relations = %d, want 1 (works-at and works at… are the same type)", n)
	}
	if n := e.count("MATCH (:__Entity__ {tenant: $tenant})-[r:`住んでいる`]->() RETURN count(r) AS n", nil); n != 1 {
		t.Fatalf("non-ASCII relation = %d, want 1", n)
	}
	if n := e.count(`MATCH (x {tenant: $tenant}) RETURN count(x) AS n`, nil); n < 4 {
		t.Fatalf("nodes = %d: something was deleted", n)
	}
}

func TestSameUserTwoTenants(t *testing.T) {
	a := newEnv(t, memory.Config{})
	b := newEnv(t, memory.Config{})
	b.scope.UserID = a.scope.UserID
	ex := extraction([]fact{{Text: "alice likes chess", Entities: []string{"alice", "chess"}}}, []ent{{"chess", "game"}}, []rel{{"alice", "likes", "chess"}}, "")
	a.model.Then(ex)
	a.add("I like chess.")
	b.model.Then(ex)
	res := b.add("I like chess.")
	// Tenant B sees nothing of A: no candidates, so no decision call, and
	// its own entities.
	if res.Usage.LLMCalls != 1 || res.Results[0].Event != graph.EventAdd {
		t.Fatalf("tenant B's add = %+v; it saw tenant A's data", res)
	}
	for _, x := range []*env{a, b} {
		if n := x.count(`MATCH (u:__Entity__ {tenant: $tenant, key: 'alice'})-[:LIKES]->(c:__Entity__ {tenant: $tenant}) RETURN count(*) AS n`, nil); n != 1 {
			t.Fatalf("tenant %s: %d LIKES relations within the tenant, want 1", x.tenant, n)
		}
	}
	if n := a.count(`MATCH (x {tenant: $tenant})-[r]-(y) WHERE y.tenant <> $tenant RETURN count(r) AS n`, nil); n != 0 {
		t.Fatalf("%d relationships cross tenants", n)
	}
}

func TestConcurrentAddsOneScope(t *testing.T) {
	e := newEnv(t, memory.Config{})
	// The model answers from the request: extraction from the message,
	// decision adds every new fact and relation.
	e.model.Respond(func(req llm.Request) (llm.Response, error) {
		if req.ToolChoice.Mode == llm.ToolForce {
			msg := req.Messages[len(req.Messages)-1].Content
			i := strings.Index(msg, "fact #")
			n := strings.Fields(msg[i+len("fact #"):])[0]
			return extraction([]fact{{Text: "alice visited Google office number " + n, Entities: []string{"alice", "Google"}}},
				[]ent{{"Google", "organization"}}, []rel{{"alice", "visited", "Google"}}, ""), nil
		}
		return llmtest.ToolCalls(
			llmtest.Call(prompts.ToolAddMemory, map[string]string{"text": factIn(req), "fact": "F1"}),
			llmtest.Call(prompts.ToolAddGraphMemory, map[string]string{"source": "alice", "relationship": "visited", "target": "Google"}),
		), nil
	})
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := e.engine.Add(context.Background(), graph.AddRequest{Scope: e.scope, Infer: true,
				Messages: []graph.Message{{Role: "user", Content: fmt.Sprintf("Today I visited Google, fact #%d here", i)}}})
			if err == nil && res.Usage.LLMCalls > 2 {
				err = fmt.Errorf("%d LLM calls", res.Usage.LLMCalls)
			}
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
	checks := []struct {
		what string
		q    string
		want int64
	}{
		{"Google entities", `MATCH (g:__Entity__ {tenant: $tenant, key: 'google'}) RETURN count(g) AS n`, 1},
		{"user entities", `MATCH (u:__Entity__ {tenant: $tenant, key: 'alice'}) RETURN count(u) AS n`, 1},
		{"memories", `MATCH (m:Memory {tenant: $tenant}) WHERE m.invalid_at IS NULL RETURN count(m) AS n`, 20},
		{"memory ADD events", `MATCH (ev:Event {tenant: $tenant, op: 'ADD', target_kind: 'memory'}) RETURN count(ev) AS n`, 20},
		{"one current VISITED relation", `MATCH (:__Entity__ {tenant: $tenant})-[r:VISITED]->() WHERE r.invalid_at IS NULL RETURN count(r) AS n`, 1},
		{"its mentions", `MATCH (:__Entity__ {tenant: $tenant})-[r:VISITED]->() RETURN sum(r.mentions) AS n`, 20},
	}
	for _, c := range checks {
		if got := e.count(c.q, nil); got != c.want {
			t.Errorf("%s: %d, want %d", c.what, got, c.want)
		}
	}
}

// factIn returns the text of F1 as the decision prompt shows it.
func factIn(req llm.Request) string {
	m := regexp.MustCompile(`F1: "([^"]*)"`).FindStringSubmatch(req.Messages[len(req.Messages)-1].Content)
	if m == nil {
		return "?"
	}
	return m[1]
}

// failingApply is a store whose Apply transaction fails at its last
// statement, after the entities and memories of the plan were written in it:
// the plan gets one more relation whose ends do not exist, which the store
// detects inside the transaction and rolls everything back.
type failingApply struct {
	*cypher.Store
}

func (f failingApply) Apply(ctx context.Context, p graph.Plan, l graph.Lease) error {
	p.Relations = append(p.Relations, graph.RelationOp{Op: graph.OpAdd, Relation: graph.Relation{
		ID: graph.NewID(), SourceID: graph.NewID(), TargetID: graph.NewID(), Type: "FORCED_FAILURE"}})
	return f.Store.Apply(ctx, p, l)
}

func TestFailureBetweenDecisionAndApplyWritesNothing(t *testing.T) {
	e := newEnv(t, memory.Config{})
	eng, err := memory.New(failingApply{e.store}, memory.Models{Embedder: hash, Chat: e.model}, memory.Config{})
	if err != nil {
		t.Fatal(err)
	}
	e.model.Then(extraction([]fact{{Text: "alice owns a cat", Entities: []string{"alice", "cat"}}}, []ent{{"cat", "animal"}}, []rel{{"alice", "owns", "cat"}}, ""))
	_, err = eng.Add(context.Background(), graph.AddRequest{Scope: e.scope, Infer: true, Messages: []graph.Message{{Role: "user", Content: "I own a cat"}}})
	if !errors.Is(err, graph.Conflict) {
		t.Fatalf("Add with a failing apply = %v, want the store's Conflict", err)
	}
	if n := e.count(`MATCH (x {tenant: $tenant}) WHERE NOT x:ScopeLock RETURN count(x) AS n`, nil); n != 0 {
		t.Fatalf("%d nodes visible after a failed add", n)
	}
	// The lock was released: the next add does not wait for it.
	e.model.Then(extraction([]fact{{Text: "alice owns a cat"}}, nil, nil, ""))
	start := time.Now()
	e.add("I own a cat")
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("next add took %s: the failed add kept the lock", d)
	}
}

func TestMalformedRepliesRetryOnceThenFail(t *testing.T) {
	e := newEnv(t, memory.Config{})
	bad := llm.Response{ToolCalls: []llm.ToolCall{{ID: "c", Name: prompts.ToolExtract, Arguments: json.RawMessage(`{"facts": "not a list"}`)}}}
	// A bad reply, then a good one: the add succeeds and the retry showed
	// the model what was wrong.
	e.model.Then(bad).Then(extraction([]fact{{Text: "alice likes tea"}}, nil, nil, ""))
	res, err := e.engine.Add(context.Background(), graph.AddRequest{Scope: e.scope, Infer: true, Messages: []graph.Message{{Role: "user", Content: "I like tea"}}})
	if err != nil || len(res.Results) != 1 || res.Usage.LLMCalls != 2 {
		t.Fatalf("Add after one bad reply = %+v, %v", res, err)
	}
	retry := e.model.Requests()[1]
	if last := retry.Messages[len(retry.Messages)-1]; last.Role != llm.RoleUser || !strings.Contains(last.Content, "facts") {
		t.Fatalf("retry message does not show the problem: %+v", last)
	}
	// Unknown candidate id in the decision, twice: the add fails, nothing new.
	e.model.Then(extraction([]fact{{Text: "alice likes green tea"}}, nil, nil, ""))
	unknown := llmtest.ToolCalls(llmtest.Call(prompts.ToolUpdateMemory, map[string]string{"id": "M9", "text": "x"}))
	e.model.Then(unknown).Then(unknown)
	_, err = e.engine.Add(context.Background(), graph.AddRequest{Scope: e.scope, Infer: true, Messages: []graph.Message{{Role: "user", Content: "I like green tea"}}})
	if err == nil || !errors.Is(err, graph.Unavailable) || !strings.Contains(err.Error(), "M9") {
		t.Fatalf("Add with an unknown id twice = %v", err)
	}
	if n := e.count(`MATCH (m:Memory {tenant: $tenant}) RETURN count(m) AS n`, nil); n != 1 {
		t.Fatalf("memories = %d, want 1", n)
	}
}

func TestAddWithoutInfer(t *testing.T) {
	e := newEnv(t, memory.Config{})
	res, err := e.engine.Add(context.Background(), graph.AddRequest{Scope: e.scope, Messages: []graph.Message{
		{Role: "system", Content: "be nice"}, {Role: "user", Content: "hello"}, {Role: "assistant", Content: "hi!", Name: "bot"},
	}, Metadata: map[string]any{"source": "chat"}})
	if err != nil || len(res.Results) != 2 || res.Usage.LLMCalls != 0 || res.Usage.EmbeddingCalls != 1 {
		t.Fatalf("raw add = %+v, %v", res, err)
	}
	if n := e.count(`MATCH (m:Memory {tenant: $tenant, kind: 'raw', meta_source: 'chat'}) RETURN count(m) AS n`, nil); n != 2 {
		t.Fatalf("raw memories = %d", n)
	}
}

func TestProceduralMemory(t *testing.T) {
	e := newEnv(t, memory.Config{})
	e.scope = graph.Scope{Tenant: e.tenant, AgentID: "agent-1"}
	e.model.Then(llm.Response{Text: "1. Action: opened https://example.com\n   Output: <html>…</html>\n2. Status: done"})
	res, err := e.engine.Add(context.Background(), graph.AddRequest{Scope: e.scope, MemoryType: graph.TypeProcedural,
		Messages: []graph.Message{{Role: "assistant", Content: "I opened https://example.com and got <html>…</html>"}}})
	if err != nil || len(res.Results) != 1 || res.Usage.LLMCalls != 1 {
		t.Fatalf("procedural add = %+v, %v", res, err)
	}
	if n := e.count(`MATCH (m:Memory {tenant: $tenant, kind: 'procedural', agent_id: 'agent-1', meta_memory_type: 'procedural'}) RETURN count(m) AS n`, nil); n != 1 {
		t.Fatalf("procedural memories = %d", n)
	}
	_, err = e.engine.Add(context.Background(), graph.AddRequest{Scope: graph.Scope{Tenant: e.tenant, UserID: "u"}, MemoryType: graph.TypeProcedural,
		Messages: []graph.Message{{Role: "assistant", Content: "x"}}})
	if !errors.Is(err, graph.Invalid) {
		t.Fatalf("procedural without agent_id = %v", err)
	}
}

func TestImagesAreDescribedFirst(t *testing.T) {
	e := newEnv(t, memory.Config{})
	vision := llmtest.NewScripted(llm.Response{Text: "A golden retriever on a beach holding a red frisbee."}).FailOn(t)
	eng, err := memory.New(e.store, memory.Models{Embedder: hash, Chat: e.model, Vision: vision}, memory.Config{})
	if err != nil {
		t.Fatal(err)
	}
	e.model.Then(extraction([]fact{{Text: "alice has a golden retriever"}}, nil, nil, ""))
	img := graph.Image{URL: "https://example.com/dog.jpg"}
	_, err = eng.Add(context.Background(), graph.AddRequest{Scope: e.scope, Infer: true,
		Messages: []graph.Message{{Role: "user", Content: "This is my dog", Images: []graph.Image{img}}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := vision.Requests()[0].Messages[1].Images; len(got) != 1 || got[0].URL != img.URL {
		t.Fatalf("vision model got images %+v", got)
	}
	if p := e.model.Requests()[0].Messages[1].Content; !strings.Contains(p, "golden retriever on a beach") {
		t.Fatalf("extraction prompt lacks the description:\n%s", p)
	}
	_, err = e.engine.Add(context.Background(), graph.AddRequest{Scope: e.scope, Infer: true,
		Messages: []graph.Message{{Role: "user", Content: "and this", Images: []graph.Image{img}}}})
	if !errors.Is(err, graph.Invalid) || !strings.Contains(err.Error(), "vision") {
		t.Fatalf("image without a vision model = %v", err)
	}
}

func TestCustomInstructions(t *testing.T) {
	e := newEnv(t, memory.Config{})
	eng, err := memory.New(e.store, memory.Models{Embedder: hash, Chat: e.model}, memory.Config{Instructions: "Only record food preferences."})
	if err != nil {
		t.Fatal(err)
	}
	e.model.Then(extraction(nil, nil, nil, ""))
	_, err = eng.Add(context.Background(), graph.AddRequest{Scope: e.scope, Infer: true, Prompt: "Write facts in French.",
		Messages: []graph.Message{{Role: "user", Content: "I like cheese"}}})
	if err != nil {
		t.Fatal(err)
	}
	req := e.model.Requests()[0]
	all := req.Messages[0].Content + req.Messages[1].Content
	if !strings.Contains(all, "Only record food preferences.") || !strings.Contains(all, "Write facts in French.") {
		t.Fatalf("extraction prompt lacks the instructions:\n%s", all)
	}
}

func TestInferWithoutChatModel(t *testing.T) {
	e := newEnv(t, memory.Config{})
	eng, err := memory.New(e.store, memory.Models{Embedder: hash}, memory.Config{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = eng.Add(context.Background(), graph.AddRequest{Scope: e.scope, Infer: true, Messages: []graph.Message{{Role: "user", Content: "x"}}})
	if !errors.Is(err, graph.Invalid) || !strings.Contains(err.Error(), "NEOMEM_LLM_PROVIDER") {
		t.Fatalf("infer without a chat model = %v", err)
	}
}

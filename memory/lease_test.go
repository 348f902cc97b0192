package memory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/llm"
	"github.com/neomem/neomem/llm/llmtest"
	"github.com/neomem/neomem/memory"
	"github.com/neomem/neomem/prompts"
	"github.com/neomem/neomem/testcontainers"
)

// slowDecision scripts an add whose decision call (made under the scope's
// lock) takes d, calling during() halfway through.
func slowDecision(e *env, text string, d time.Duration, during func()) {
	e.model.Then(extraction([]fact{{Text: text}}, nil, nil, ""))
	e.model.Respond(func(llm.Request) (llm.Response, error) {
		time.Sleep(d / 2)
		during()
		time.Sleep(d / 2)
		return llmtest.ToolCalls(llmtest.Call(prompts.ToolAddMemory, map[string]string{"text": text, "fact": "F1"})), nil
	})
}

// TestHeartbeatKeepsLeaseThroughSlowModel: an add whose model call takes
// several lease TTLs keeps its scope's lock the whole time.
func TestHeartbeatKeepsLeaseThroughSlowModel(t *testing.T) {
	const ttl = time.Second
	e := newEnv(t, memory.Config{LeaseTTL: ttl})
	e.model.Then(extraction([]fact{{Text: "alice likes tea"}}, nil, nil, ""))
	e.add("I like tea")

	var intruder error
	slowDecision(e, "alice likes green tea", 3*ttl, func() {
		_, intruder = e.store.AcquireLease(context.Background(), e.scope, "intruder", time.Minute, 0)
	})
	e.add("I like green tea")
	if !errors.Is(intruder, graph.Unavailable) {
		t.Fatalf("another holder took the lock %v into an add that heartbeats a %v lease: %v", 3*ttl/2, ttl, intruder)
	}
}

// TestDeadHoldersLeaseLapses: a holder that stops heartbeating (a crashed
// server) blocks the scope for at most its TTL.
func TestDeadHoldersLeaseLapses(t *testing.T) {
	const ttl = 1500 * time.Millisecond
	// The engine's own lease keeps its default: only the dead holder's is
	// short.
	e := newEnv(t, memory.Config{})
	if _, err := e.store.AcquireLease(context.Background(), e.scope, "crashed", ttl, 0); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	e.model.Then(extraction([]fact{{Text: "alice likes tea"}}, nil, nil, ""))
	e.add("I like tea")
	if waited := time.Since(start); waited > ttl+2*time.Second {
		t.Fatalf("add waited %v for a dead holder's %v lease", waited, ttl)
	}
}

// TestLostLeaseWritesNothing: when a holder's lease is taken over while it
// works (it lapsed), its add fails with Conflict and writes nothing.
func TestLostLeaseWritesNothing(t *testing.T) {
	const ttl = 2 * time.Second
	e := newEnv(t, memory.Config{LeaseTTL: ttl})
	e.model.Then(extraction([]fact{{Text: "alice likes tea"}}, nil, nil, ""))
	e.add("I like tea")

	d := testcontainers.Driver(t)
	slowDecision(e, "alice likes green tea", 2*ttl, func() {
		// Expire the lock by Neo4j's clock, as if heartbeats had stopped,
		// and let another holder take it.
		_, err := neo4j.ExecuteQuery(context.Background(), d,
			`MATCH (l:ScopeLock {scope_key: $key}) SET l.expires_at = datetime() - duration('PT1S')`,
			map[string]any{"key": e.scope.Key()}, neo4j.EagerResultTransformer)
		if err != nil {
			t.Error(err)
		}
		if _, err := e.store.AcquireLease(context.Background(), e.scope, "successor", time.Minute, 0); err != nil {
			t.Errorf("successor: %v", err)
		}
	})
	_, err := e.engine.Add(context.Background(), graph.AddRequest{Scope: e.scope, Infer: true,
		Messages: []graph.Message{{Role: "user", Content: "I like green tea"}}})
	// Conflict when the heartbeat or the write's fencing sees the
	// successor; Unavailable when a loaded Neo4j let no renewal through for
	// a whole TTL first. Either way the add stops.
	if !errors.Is(err, graph.Conflict) && !errors.Is(err, graph.Unavailable) {
		t.Fatalf("add whose lease was taken over = %v, want Conflict (or Unavailable)", err)
	}
	if n := e.count(`MATCH (m:Memory {tenant: $tenant}) WHERE m.text CONTAINS 'green' RETURN count(m) AS n`, nil); n != 0 {
		t.Fatalf("%d memories written by an add that lost its lease", n)
	}
}

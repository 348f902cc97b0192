package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/neomem/neomem/testcontainers/neomem"
)

// leaseTTL is the servers' NEOMEM_LEASE_TTL: a killed server's scope lock
// lapses at most this long after its last heartbeat.
const leaseTTL = 5 * time.Second

// takeoverBound is the stated bound for another server's add to the scope
// of a killed one: the lease, plus a few seconds for the add itself.
const takeoverBound = leaseTTL + 5*time.Second

// slowDecision holds the killed server in its decision call (under the
// scope's lock) far longer than the test needs to kill it there.
const slowDecision = 30 * time.Second

// node is one server process with its own fake model.
type node struct {
	name  string
	model *neomem.FakeLLM
	srv   *neomem.Server
	env   []string
}

// TestServerCrashMidAddReleasesScope runs three servers on one Neo4j with
// NEOMEM_LEASE_TTL=5s. Server A is SIGKILLed inside the slow decision call
// of an infer=true add, holding the scope's lock; server B's add to the same
// scope must then succeed within takeoverBound, and Neo4j must hold no
// partial write. Repeated NEOMEM_CHAOS_KILLS times, rotating the servers.
func TestServerCrashMidAddReleasesScope(t *testing.T) {
	cfg := loadSettings(t)
	d := startNeo4j(t)
	tenant := "chaos-crash-" + randomHex(4)
	nodes := make([]*node, 3)
	for i := range nodes {
		n := &node{name: fmt.Sprintf("neomem-%c", 'a'+i)}
		n.model = neomem.StartFakeLLM(t, "fakellm-"+n.name)
		// The models answer at once except where a reply says otherwise;
		// one attempt per model call, so a reply is never used twice.
		n.env = serverEnv(d, n.model, tenant, map[string]string{
			"NEOMEM_LEASE_TTL":      leaseTTL.String(),
			"NEOMEM_MODEL_ATTEMPTS": "1",
			"NEOMEM_MODEL_TIMEOUT":  "60s",
		})
		// One after the other: the first bootstraps the schema.
		n.srv = neomem.StartServer(t, n.name, n.env)
		nodes[i] = n
	}

	client := &http.Client{Timeout: 90 * time.Second}
	var takeovers durations
	for rep := range cfg.kills {
		a, b := nodes[rep%3], nodes[(rep+1)%3]
		user := fmt.Sprintf("crash-%02d-%s", rep, randomHex(3))
		lives := user + " lives in Austin"
		works := user + " works at Google"

		// 1. A memory in the scope, so the next add has a candidate and
		// makes its decision call under the lock.
		a.model.Script(extractReply([]fact{{lives, []string{"I", "Austin"}}},
			[]ent{{"I", "person"}, {"Austin", "location"}}, []rel{{"I", "lives_in", "Austin"}}))
		r := post(context.Background(), client, a.srv.URL+"/memories", addBody(user, "I live in Austin", true), nil)
		if r.err != nil || r.status != http.StatusOK {
			t.Fatalf("rep %d: seed add on %s = %d %v %s", rep, a.name, r.status, r.err, r.body)
		}

		// 2. An add on A whose decision call is slow; kill A inside it.
		a.model.Script(
			extractReply([]fact{{lives, []string{"I", "Austin"}}}, []ent{{"I", "person"}, {"Austin", "location"}}, nil),
			neomem.Reply{DelayMS: ptr(slowDecision.Milliseconds()), ToolCalls: []neomem.ToolCall{{Name: "noop", Arguments: map[string]string{"id": "F1"}}}})
		crashed := make(chan response, 1)
		go func() {
			crashed <- post(context.Background(), client, a.srv.URL+"/memories", addBody(user, "I still live in Austin", true), nil)
		}()
		waitInFlight(t, a, 20*time.Second)
		if held := d.query(`
MATCH (l:ScopeLock {tenant: $tenant, user_id: $user})
WHERE l.token IS NOT NULL AND l.expires_at > datetime()
RETURN count(l) AS n`, map[string]any{"tenant": tenant, "user": user}); held[0].Values[0].(int64) != 1 {
			t.Fatalf("rep %d: %s is in its decision call but the scope's lock is not held", rep, a.name)
		}
		killed := time.Now()
		a.srv.Kill()
		if r := <-crashed; r.err == nil {
			t.Fatalf("rep %d: the add on the killed %s answered %d %s", rep, a.name, r.status, r.body)
		}

		// 3. B adds to the same scope: it waits for A's lease to lapse.
		b.model.Script(
			extractReply([]fact{{lives, []string{"I", "Austin"}}, {works, []string{"I", "Google"}}},
				[]ent{{"I", "person"}, {"Austin", "location"}, {"Google", "organization"}}, []rel{{"I", "works_at", "Google"}}),
			neomem.Reply{ToolCalls: []neomem.ToolCall{
				{Name: "noop", Arguments: map[string]string{"id": "F1"}},
				{Name: "add_memory", Arguments: map[string]string{"text": works, "fact": "F2"}},
				{Name: "add_graph_memory", Arguments: map[string]string{"source": user, "relationship": "works_at", "target": "Google"}},
			}})
		r = post(context.Background(), client, b.srv.URL+"/memories", addBody(user, "I work at Google", true), nil)
		took := time.Since(killed)
		takeovers = append(takeovers, took)
		t.Logf("rep %d: %s killed mid-add; %s's add to the scope answered %d after %v", rep, a.name, b.name, r.status, took.Round(time.Millisecond))
		if r.err != nil || r.status != http.StatusOK {
			t.Fatalf("rep %d: add on %s after the kill = %d %v %s", rep, b.name, r.status, r.err, r.body)
		}
		if took > takeoverBound {
			t.Errorf("rep %d: add on %s succeeded %v after the kill, want within %v (NEOMEM_LEASE_TTL %v + 5s)",
				rep, b.name, took.Round(time.Millisecond), takeoverBound, leaseTTL)
		}
		var res addResult
		if err := json.Unmarshal(r.body, &res); err != nil || !hasEvent(res, works, "ADD") {
			t.Errorf("rep %d: add on %s = %s, want an ADD of %q", rep, b.name, r.body, works)
		}
		for _, n := range []*node{a, b} {
			if st := n.model.Stats(); st["pending"] != 0 || st["in_flight"] != 0 {
				t.Errorf("rep %d: %s's model has %d replies pending and %d calls in flight, want 0 and 0", rep, n.name, st["pending"], st["in_flight"])
			}
		}

		// 4. No partial writes: the scope holds the seed and B's memory
		// only, and the tenant's graph is whole.
		rec := d.query(`
MATCH (m:Memory {tenant: $tenant, user_id: $user})
RETURN count(m) AS n, collect(m.text) AS texts`, map[string]any{"tenant": tenant, "user": user})[0]
		if n, _ := rec.Get("n"); n.(int64) != 2 {
			texts, _ := rec.Get("texts")
			t.Errorf("rep %d: the scope holds %d memories %v, want 2 (the seed and %s's add)", rep, n, texts, b.name)
		}
		if in := d.check(tenant); !in.ok() {
			t.Errorf("rep %d: partial writes: %v", rep, in)
		} else if rep == cfg.kills-1 {
			t.Logf("integrity after %d kills: %v", cfg.kills, in)
		}

		// 5. A comes back for the next repetitions.
		if rep < cfg.kills-1 {
			a.srv = neomem.StartServer(t, a.name, a.env)
		}
	}
	t.Logf("%d kills: add on another server after the kill succeeded in %v (bound %v)", cfg.kills, takeovers, takeoverBound)
}

// waitInFlight waits until n's model has taken its last queued reply and is
// holding the call (the slow decision).
func waitInFlight(t *testing.T, n *node, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		st := n.model.Stats()
		if st["pending"] == 0 && st["in_flight"] == 1 {
			return
		}
		if n.srv.Exited() || time.Now().After(deadline) {
			t.Fatalf("%s never reached its slow decision call (model stats %v)", n.name, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func hasEvent(res addResult, text, event string) bool {
	for _, r := range res.Results {
		if r.Memory == text && r.Event == event {
			return true
		}
	}
	return false
}

func ptr[T any](v T) *T { return &v }

// fact, ent and rel are the extraction tool's argument shapes
// (prompts.ExtractTool).
type fact struct {
	Text     string   `json:"text"`
	Entities []string `json:"entities"`
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

// extractReply is the reply to the extraction call (LLM call 1).
func extractReply(facts []fact, ents []ent, rels []rel) neomem.Reply {
	if rels == nil {
		rels = []rel{}
	}
	return neomem.Reply{ToolCalls: []neomem.ToolCall{{Name: "extract_memories", Arguments: map[string]any{"facts": facts, "entities": ents, "relations": rels}}}}
}

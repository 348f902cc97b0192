package memory_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/llm"
	"github.com/neomem/neomem/llm/llmtest"
	"github.com/neomem/neomem/memory"
	"github.com/neomem/neomem/prompts"
)

// conversation is a fixed multi-turn conversation: one add per exchange.
var conversation = [][2]string{
	{"Hi! I'm Alice. I just moved to Austin from Seattle for a new job at Dell.", "Welcome to Austin! How do you like it so far?"},
	{"It's hot, but I love the food. Tacos at Veracruz are my new favourite.", "Veracruz is famous for its migas tacos."},
	{"My sister Emma still lives in Seattle with her dog Biscuit.", "Do you visit them often?"},
	{"Every Christmas. I'm allergic to cats, so Emma's dog is perfect.", "Good to know about the allergy."},
	{"At Dell I work on storage firmware with my manager Priya.", "Storage firmware sounds challenging."},
	{"I'm training for the Austin Marathon in February.", "How many miles a week are you running?"},
	{"About 30 miles a week. I run along Lady Bird Lake every morning.", "That's a beautiful route."},
	{"Actually, I no longer like tacos that much; I'm vegetarian since last month.", "Austin has great vegetarian options too."},
}

var capitalised = regexp.MustCompile(`\b[A-Z][a-z]+(?: [A-Z][a-z]+)*\b`)

// synthetic answers like a diligent model: every user sentence a fact, every
// capitalised name an entity related to the user; every fact and relation
// added.
func synthetic(req llm.Request) (llm.Response, error) {
	if req.ToolChoice.Mode == llm.ToolForce {
		user := req.Messages[len(req.Messages)-1].Content
		var facts []fact
		var ents []ent
		var rels []rel
		for _, m := range regexp.MustCompile(`"role": ?"user"[^}]*"content": ?"([^"]*)"|user[^:]*: "([^"]*)"`).FindAllStringSubmatch(user, -1) {
			text := m[1] + m[2]
			for _, s := range strings.Split(text, ". ") {
				if s = strings.TrimSpace(s); s != "" {
					facts = append(facts, fact{Text: "alice: " + s})
				}
			}
			for _, name := range capitalised.FindAllString(text, -1) {
				if name == "I" || name == "Hi" || name == "Actually" || name == "It" || name == "My" || name == "At" || name == "Every" || name == "About" {
					continue
				}
				ents = append(ents, ent{Name: name, Type: "thing"})
				rels = append(rels, rel{Source: "alice", Relationship: "related_to", Target: name})
			}
		}
		if len(facts) == 0 {
			facts = []fact{{Text: "alice said something"}}
		}
		return extraction(facts, ents, rels, "Alice"), nil
	}
	p := req.Messages[len(req.Messages)-1].Content
	var calls []llm.ToolCall
	for _, m := range regexp.MustCompile(`- (F\d+): "([^"]*)"`).FindAllStringSubmatch(p, -1) {
		calls = append(calls, llmtest.Call(prompts.ToolAddMemory, map[string]string{"text": m[2], "fact": m[1]}))
	}
	section := p[strings.Index(p, "## New relations"):strings.Index(p, "## Existing relations")]
	for _, m := range regexp.MustCompile(`- source "([^"]*)", relationship "([^"]*)", target "([^"]*)"`).FindAllStringSubmatch(section, -1) {
		calls = append(calls, llmtest.Call(prompts.ToolAddGraphMemory, map[string]string{"source": m[1], "relationship": m[2], "target": m[3]}))
	}
	if len(calls) == 0 {
		calls = append(calls, llmtest.Call(prompts.ToolNoop, map[string]string{}))
	}
	return llmtest.ToolCalls(calls...), nil
}

// TestTokensPerAdd measures the model work of infer=true adds over a fixed
// multi-turn conversation (8 exchanges, one add each) with a synthetic model;
// tokens are the fake's estimate of 4 bytes a token. The README quotes its
// output: go test -run TestTokensPerAdd -v ./memory/
func TestTokensPerAdd(t *testing.T) {
	e := newEnv(t, memory.Config{})
	e.model.Respond(synthetic)
	var total graph.Usage
	for i, turn := range conversation {
		before := e.model.Calls()
		res, err := e.engine.Add(context.Background(), graph.AddRequest{Scope: e.scope, Infer: true, Messages: []graph.Message{
			{Role: "user", Content: turn[0]}, {Role: "assistant", Content: turn[1]},
		}, Audit: graph.Audit{RequestID: fmt.Sprint("turn-", i)}})
		if err != nil {
			t.Fatalf("turn %d: %v", i, err)
		}
		if calls := e.model.Calls() - before; calls > 2 {
			t.Fatalf("turn %d made %d LLM calls", i, calls)
		}
		total.LLMCalls += res.Usage.LLMCalls
		total.PromptTokens += res.Usage.PromptTokens
		total.CompletionTokens += res.Usage.CompletionTokens
		total.EmbeddingCalls += res.Usage.EmbeddingCalls
	}
	n := float64(len(conversation))
	t.Logf("%d adds: %.2f LLM calls/add, %.0f prompt tokens/add, %.0f completion tokens/add, %.2f embedding calls/add (estimated at 4 bytes/token)",
		len(conversation), float64(total.LLMCalls)/n, float64(total.PromptTokens)/n, float64(total.CompletionTokens)/n, float64(total.EmbeddingCalls)/n)
	mems := e.count(`MATCH (m:Memory {tenant: $tenant}) WHERE m.invalid_at IS NULL RETURN count(m) AS n`, nil)
	rels := e.count(`MATCH (:__Entity__ {tenant: $tenant})-[r]->() WHERE r.invalid_at IS NULL RETURN count(r) AS n`, nil)
	t.Logf("graph after the conversation: %d memories, %d relations", mems, rels)
	if total.PromptTokens == 0 || mems < int64(len(conversation)) || rels == 0 {
		t.Fatal("the synthetic model did not extract from the conversation")
	}
}

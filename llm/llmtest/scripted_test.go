package llmtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neomem/neomem/llm"
)

func TestScriptedQueueThenFunctionThenUnexpected(t *testing.T) {
	s := NewScripted(llm.Response{Text: "first"}).ThenError(errors.New("boom"))
	ctx := context.Background()
	r, err := s.Chat(ctx, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi there"}}})
	if err != nil || r.Text != "first" || r.Usage.PromptTokens == 0 || r.Usage.CompletionTokens == 0 {
		t.Fatalf("first call = %+v, %v", r, err)
	}
	if _, err := s.Chat(ctx, llm.Request{}); err == nil || err.Error() != "boom" {
		t.Fatalf("second call error = %v, want boom", err)
	}
	if _, err := s.Chat(ctx, llm.Request{}); err == nil || !strings.Contains(err.Error(), "unexpected chat call #3") {
		t.Fatalf("third call error = %v, want unexpected", err)
	}
	s.Respond(func(req llm.Request) (llm.Response, error) {
		return llm.Response{Text: "echo " + req.Messages[0].Content, Usage: llm.Usage{PromptTokens: 7, CompletionTokens: 3}}, nil
	})
	r, err = s.Chat(ctx, llm.Request{Messages: []llm.Message{{Content: "x"}}})
	if err != nil || r.Text != "echo x" || r.Usage.PromptTokens != 7 {
		t.Fatalf("function reply = %+v, %v", r, err)
	}
	if s.Calls() != 4 || s.Unexpected() != 1 || s.Pending() != 0 {
		t.Fatalf("calls %d unexpected %d pending %d", s.Calls(), s.Unexpected(), s.Pending())
	}
	if got := s.Requests()[0].Messages[0].Content; got != "hi there" {
		t.Fatalf("recorded request = %q", got)
	}
}

type recorder struct{ msgs []string }

func (r *recorder) Errorf(f string, a ...any) { r.msgs = append(r.msgs, fmt.Sprintf(f, a...)) }

func TestScriptedReportsUnexpectedToTest(t *testing.T) {
	rec := &recorder{}
	s := NewScripted().FailOn(rec)
	_, _ = s.Chat(context.Background(), llm.Request{})
	if len(rec.msgs) != 1 {
		t.Fatalf("FailOn recorded %v", rec.msgs)
	}
}

func TestScriptedConcurrent(t *testing.T) {
	s := NewScripted()
	for i := range 100 {
		s.Then(llm.Response{Text: fmt.Sprint(i)})
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]bool{}
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				r, err := s.Chat(context.Background(), llm.Request{})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seen[r.Text] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != 100 || s.Calls() != 100 {
		t.Fatalf("%d distinct replies over %d calls, want 100", len(seen), s.Calls())
	}
}

func TestToolCallsHelper(t *testing.T) {
	r := ToolCalls(Call("add_memory", map[string]any{"text": "likes pizza"}), Call("noop", struct{}{}))
	want := []llm.ToolCall{
		{ID: "call_0", Name: "add_memory", Arguments: json.RawMessage(`{"text":"likes pizza"}`)},
		{ID: "call_1", Name: "noop", Arguments: json.RawMessage(`{}`)},
	}
	if diff := cmp.Diff(want, r.ToolCalls); diff != "" {
		t.Fatalf("ToolCalls (-want +got):\n%s", diff)
	}
}

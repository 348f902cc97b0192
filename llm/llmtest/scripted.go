package llmtest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/neomem/neomem/llm"
)

// Scripted is a deterministic chat model for tests: it answers from a queue of
// replies, or with a function of the request, records every request, and
// fails on calls nobody scripted. Safe for concurrent use.
type Scripted struct {
	mu       sync.Mutex
	queue    []reply
	fn       func(llm.Request) (llm.Response, error)
	requests []llm.Request
	usage    llm.Usage
	// unexpected counts calls that found neither a queued reply nor a function.
	unexpected int
	tb         interface{ Errorf(string, ...any) }
}

type reply struct {
	resp llm.Response
	err  error
}

// NewScripted returns a model that answers with the given replies in order.
func NewScripted(replies ...llm.Response) *Scripted {
	s := &Scripted{}
	for _, r := range replies {
		s.queue = append(s.queue, reply{resp: r})
	}
	return s
}

// FailOn makes unexpected calls also report tb.Errorf (a *testing.T), so a
// test fails even if the code under test swallows the error.
func (s *Scripted) FailOn(tb interface{ Errorf(string, ...any) }) *Scripted {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tb = tb
	return s
}

// Then queues a reply.
func (s *Scripted) Then(resp llm.Response) *Scripted {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, reply{resp: resp})
	return s
}

// ThenError queues a failure.
func (s *Scripted) ThenError(err error) *Scripted {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, reply{err: err})
	return s
}

// Respond answers every call that finds the queue empty with fn.
func (s *Scripted) Respond(fn func(llm.Request) (llm.Response, error)) *Scripted {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fn = fn
	return s
}

// Name identifies the fake.
func (s *Scripted) Name() string { return "llmtest/scripted" }

// Chat records req and returns the next queued reply, else fn's answer, else
// an error. Replies without usage get a deterministic estimate (about four
// bytes a token) so token counts are never zero in benchmarks.
func (s *Scripted) Chat(ctx context.Context, req llm.Request) (llm.Response, error) {
	if err := ctx.Err(); err != nil {
		return llm.Response{}, err
	}
	s.mu.Lock()
	s.requests = append(s.requests, cloneRequest(req))
	var r reply
	switch {
	case len(s.queue) > 0:
		r, s.queue = s.queue[0], s.queue[1:]
	case s.fn != nil:
		fn := s.fn
		s.mu.Unlock()
		resp, err := fn(req)
		s.mu.Lock()
		r = reply{resp: resp, err: err}
	default:
		s.unexpected++
		n := len(s.requests)
		tb := s.tb
		s.mu.Unlock()
		err := fmt.Errorf("llmtest: unexpected chat call #%d (nothing scripted)", n)
		if tb != nil {
			tb.Errorf("%v", err)
		}
		return llm.Response{}, err
	}
	if r.err == nil && r.resp.Usage == (llm.Usage{}) {
		r.resp.Usage = EstimateUsage(req, r.resp)
	}
	if r.err == nil {
		s.usage = s.usage.Add(r.resp.Usage)
	}
	s.mu.Unlock()
	return r.resp, r.err
}

// Requests returns a copy of every request received, in order.
func (s *Scripted) Requests() []llm.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]llm.Request(nil), s.requests...)
}

// Calls returns how many calls were made (including unexpected ones).
func (s *Scripted) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// Unexpected returns how many calls found nothing scripted.
func (s *Scripted) Unexpected() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unexpected
}

// Pending returns how many queued replies were not used.
func (s *Scripted) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// Usage returns the summed usage of every successful call.
func (s *Scripted) Usage() llm.Usage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.usage
}

// EstimateUsage approximates token counts at four bytes a token, the usual
// rule of thumb for English with BPE tokenizers. Deterministic.
func EstimateUsage(req llm.Request, resp llm.Response) llm.Usage {
	in := 0
	for _, m := range req.Messages {
		in += len(m.Content) + 4
		for _, tc := range m.ToolCalls {
			in += len(tc.Name) + len(tc.Arguments)
		}
	}
	for _, t := range req.Tools {
		in += len(t.Name) + len(t.Description) + len(t.Parameters)
	}
	out := len(resp.Text)
	for _, tc := range resp.ToolCalls {
		out += len(tc.Name) + len(tc.Arguments)
	}
	return llm.Usage{PromptTokens: (in + 3) / 4, CompletionTokens: (out + 3) / 4}
}

func cloneRequest(r llm.Request) llm.Request {
	r.Messages = append([]llm.Message(nil), r.Messages...)
	r.Tools = append([]llm.Tool(nil), r.Tools...)
	return r
}

// Call builds a tool call with args marshalled as its JSON arguments; it
// panics on arguments that cannot be marshalled (a test bug).
func Call(name string, args any) llm.ToolCall {
	b, err := json.Marshal(args)
	if err != nil {
		panic(err)
	}
	return llm.ToolCall{ID: "call_" + strings.ToLower(name), Name: name, Arguments: b}
}

// ToolCalls builds a response made of tool calls, with distinct ids.
func ToolCalls(calls ...llm.ToolCall) llm.Response {
	for i := range calls {
		calls[i].ID = fmt.Sprintf("call_%d", i)
	}
	return llm.Response{ToolCalls: calls, FinishReason: "tool_calls"}
}

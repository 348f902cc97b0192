package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/neomem/neomem/llm"
	"github.com/neomem/neomem/llm/llmtest"
)

// slowModel is the scripted model with pauses: each chat call waits, after
// taking its reply from the queue and before answering, for that reply's own
// delay_ms, else for the -delay default. Chaos tests use it to keep a server
// inside a model call (holding a scope's lock) long enough to kill it there.
// A call whose client goes away stops waiting at once. Safe for concurrent
// use.
type slowModel struct {
	model *llmtest.Scripted
	def   time.Duration

	mu sync.Mutex
	// delays runs parallel to the model's queue: delays[i] belongs to the
	// i-th queued reply (negative: use def). Only queue and Chat change
	// either, under mu, so the two never drift apart.
	delays   []time.Duration
	inFlight int
}

func newSlowModel(def time.Duration) *slowModel {
	return &slowModel{model: llmtest.NewScripted(), def: def}
}

// Name identifies the fake.
func (s *slowModel) Name() string { return s.model.Name() }

// queue adds replies with their delays (negative: the default).
func (s *slowModel) queue(resps []llm.Response, delays []time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range resps {
		s.model.Then(r)
		s.delays = append(s.delays, delays[i])
	}
}

// Chat takes the next reply, then waits its delay (or ctx's end).
func (s *slowModel) Chat(ctx context.Context, req llm.Request) (llm.Response, error) {
	s.mu.Lock()
	before := s.model.Pending()
	resp, err := s.model.Chat(ctx, req)
	wait := s.def
	// A call that ended before taking a reply (its context was already
	// done, or nothing was queued) leaves the delays alone.
	if s.model.Pending() < before {
		if d := s.delays[0]; d >= 0 {
			wait = d
		}
		s.delays = s.delays[1:]
	}
	s.inFlight++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return llm.Response{}, ctx.Err()
		case <-t.C:
		}
	}
	return resp, err
}

// state returns the replies still queued and the calls being answered (in
// their delay).
func (s *slowModel) state() (pending, inFlight int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.model.Pending(), s.inFlight
}

// delayScript is the part of a script this command adds to llmtest.Script:
// {"replies":[{"delay_ms":3000,"tool_calls":[…]}]}.
type delayScript struct {
	Replies []struct {
		DelayMS *int64 `json:"delay_ms"`
	} `json:"replies"`
}

// parseScript reads a script file or /v1/_script body: the replies and each
// one's delay (negative when it has none).
func parseScript(b []byte) ([]llm.Response, []time.Duration, error) {
	var sc llmtest.Script
	if err := json.Unmarshal(b, &sc); err != nil {
		return nil, nil, err
	}
	var ds delayScript
	if err := json.Unmarshal(b, &ds); err != nil {
		return nil, nil, err
	}
	delays := make([]time.Duration, len(ds.Replies))
	for i, r := range ds.Replies {
		delays[i] = -1
		if r.DelayMS != nil {
			if *r.DelayMS < 0 {
				return nil, nil, fmt.Errorf("replies[%d].delay_ms: must not be negative", i)
			}
			delays[i] = time.Duration(*r.DelayMS) * time.Millisecond
		}
	}
	return sc.Responses(), delays, nil
}

// handler serves the OpenAI API from srv, except the two routes that know
// about delays: POST /v1/_script (queues replies with their delay_ms) and
// GET /v1/_stats (srv's counters plus pending and in_flight).
func handler(srv *llmtest.OpenAIServer, model *slowModel) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := strings.TrimSuffix(r.URL.Path, "/")
		switch {
		case r.Method == http.MethodPost && strings.HasSuffix(path, "/_script"):
			b, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
			if err != nil {
				writeError(w, http.StatusBadRequest, "body: "+err.Error())
				return
			}
			resps, delays, err := parseScript(b)
			if err != nil {
				writeError(w, http.StatusBadRequest, "body: "+err.Error())
				return
			}
			model.queue(resps, delays)
			pending, _ := model.state()
			writeJSON(w, map[string]int{"queued": len(resps), "pending": pending})
		case r.Method == http.MethodGet && strings.HasSuffix(path, "/_stats"):
			st := srv.Stats()
			pending, inFlight := model.state()
			writeJSON(w, map[string]int{
				"chat_calls": st.ChatCalls, "embedding_calls": st.EmbeddingCalls, "embedded_texts": st.EmbeddedTexts,
				"prompt_tokens": st.PromptTokens, "completion_tokens": st.CompletionTokens, "embedding_tokens": st.EmbeddingTokens,
				"pending": pending, "in_flight": inFlight,
			})
		default:
			srv.ServeHTTP(w, r)
		}
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": "invalid_request_error", "code": nil}})
}

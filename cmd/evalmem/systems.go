package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/neomem/neomem/client"
)

// Item is one thing a system stores: a turn or an observation.
type Item struct {
	Text     string
	Metadata map[string]any // includes "dia_ids": []string and "session", "date"
	// At is when it was said (the session's date), zero when unknown:
	// neomem's adds send it as their timestamp; Mem0 OSS refuses the field
	// (its platform-only temporal parameter), so it keeps the date in the
	// metadata only.
	At time.Time
}

// timestamp is the add timestamp of items (one session's): the first
// one's time in Unix seconds, 0 (none) when unknown.
func timestamp(items []Item) int64 {
	if len(items) == 0 || items[0].At.IsZero() {
		return 0
	}
	return items[0].At.Unix()
}

// Hit is one search result, best first.
type Hit struct {
	Text     string
	Metadata map[string]any
	Score    float64
}

// System is one memory system under evaluation.
type System interface {
	Name() string
	// Ingest stores items (one session of one conversation) under user.
	Ingest(ctx context.Context, user string, items []Item) error
	// Search returns up to k hits for query among user's memories.
	Search(ctx context.Context, user, query string, k int) ([]Hit, error)
	Close() error
}

// diaIDs reads the dia_ids a memory's metadata carries ([]string, or []any
// of strings once it has been through JSON).
func diaIDs(md map[string]any) []string {
	switch v := md["dia_ids"].(type) {
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case string:
		return parseDiaIDs(v)
	}
	return nil
}

// neomemSystem evaluates neomem through its REST API, with the Go client.
type neomemSystem struct {
	name string
	c    *client.Client
	// weights are the searches' own fusion settings (nil: the server's).
	weights *client.SearchWeights
	// shared: a variant that searches the memories another stored.
	shared bool
	// infer runs the real pipeline: window turns per add, extracted by the
	// configured model.
	infer  bool
	window int
}

func (s *neomemSystem) Name() string { return s.name }

// maxMessages is how many messages one add carries (the API's limit is 200).
const maxMessages = 100

// Shared reports that the system searches another's memories: evalMode
// stores nothing through it.
func (s *neomemSystem) Shared() bool { return s.shared }

func (s *neomemSystem) Ingest(ctx context.Context, user string, items []Item) error {
	if s.infer {
		return s.ingestInfer(ctx, user, items)
	}
	for chunk := range slices.Chunk(items, maxMessages) {
		req := client.AddRequest{UserID: user, Infer: client.Bool(false), Timestamp: timestamp(chunk)}
		for _, it := range chunk {
			req.Messages = append(req.Messages, client.Turn{Role: "user", Content: it.Text, Metadata: it.Metadata})
		}
		if _, err := s.c.Add(ctx, req); err != nil {
			return fmt.Errorf("%s: add: %w", s.name, err)
		}
	}
	return nil
}

// ingestInfer sends window turns per add with infer=true. An inferred fact
// comes from several messages, so the add's metadata names all the turns
// of its window (dia_ids) and the session's number and date.
func (s *neomemSystem) ingestInfer(ctx context.Context, user string, items []Item) error {
	for chunk := range slices.Chunk(items, max(1, s.window)) {
		req := client.AddRequest{UserID: user, Infer: client.Bool(true), Timestamp: timestamp(chunk)}
		var ids []string
		md := map[string]any{}
		for _, it := range chunk {
			req.Messages = append(req.Messages, client.Turn{Role: "user", Content: it.Text})
			ids = append(ids, diaIDs(it.Metadata)...)
			maps.Copy(md, it.Metadata)
		}
		md["dia_ids"] = ids
		req.Metadata = md
		if _, err := s.c.Add(ctx, req); err != nil {
			return fmt.Errorf("%s: add: %w", s.name, err)
		}
	}
	return nil
}

func (s *neomemSystem) Search(ctx context.Context, user, query string, k int) ([]Hit, error) {
	res, err := s.c.Search(ctx, client.SearchRequest{Query: query, UserID: user, TopK: k, Weights: s.weights})
	if err != nil {
		return nil, fmt.Errorf("%s: search: %w", s.name, err)
	}
	out := make([]Hit, 0, len(res.Results))
	for _, m := range res.Results {
		out = append(out, Hit{Text: m.Memory, Metadata: m.Metadata, Score: m.Score})
	}
	return out, nil
}

func (s *neomemSystem) Close() error { return nil }

package client

import (
	"context"
	"errors"
	"iter"
	"net/http"
)

// Bool returns a pointer to v, for AddRequest.Infer.
func Bool(v bool) *bool { return &v }

// Float returns a pointer to v, for SearchWeights.
func Float(v float64) *float64 { return &v }

// Int returns a pointer to v, for SearchWeights.RrfK.
func Int(v int) *int { return &v }

// errAsyncAdd is Add's answer to a request that asks to be asynchronous.
var errAsyncAdd = errors.New("neomem: Add of a request with Async set: use AddAsync, which returns the event to poll")

// Add adds memories from conversation turns to the scope of req's ids (at
// least one of UserID, AgentID, RunID) and returns what it did: a result per
// memory added, updated or deleted, and the relations changed.
//
// By default the server's model extracts facts from the turns (Infer nil or
// true); with Infer: Bool(false) each turn is stored as it is, without a
// model call. req.Async must be false: AddAsync queues an add instead.
func (c *Client) Add(ctx context.Context, req AddRequest, opts ...CallOption) (*AddResponse, error) {
	if req.Async {
		return nil, errAsyncAdd
	}
	var out AddResponse
	if _, err := c.do(ctx, http.MethodPost, "/memories", nil, req, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// AddAsync queues an add (req as for Add) and returns at once with the id of
// its event (EventAccepted.EventID); the server's workers run the adds of one
// scope in order. Event reports where it stands, WaitEvent waits for its
// result.
func (c *Client) AddAsync(ctx context.Context, req AddRequest, opts ...CallOption) (*EventAccepted, error) {
	req.Async = true
	var out EventAccepted
	if _, err := c.do(ctx, http.MethodPost, "/memories", nil, req, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// Search returns the memories of a scope closest to req.Query, best first,
// and the relations around them. Set TopK (default 10), Threshold (a
// minimum similarity in [0, 1]), Filters (Mem0's filter language, also over
// metadata), AsOf (what was valid at a time), IncludeInvalid, and Explain
// (each result's Memory.Explain says how it ranked).
func (c *Client) Search(ctx context.Context, req SearchRequest) (*SearchResponse, error) {
	var out SearchResponse
	if _, err := c.do(ctx, http.MethodPost, "/search", nil, req, &out, nil); err != nil {
		return nil, err
	}
	return &out, nil
}

// Get returns one memory, current or invalidated; Memory.Version is what
// IfMatch takes.
func (c *Client) Get(ctx context.Context, id string) (*Memory, error) {
	var out Memory
	if _, err := c.do(ctx, http.MethodGet, idPath("/memories/", id), nil, nil, &out, nil); err != nil {
		return nil, err
	}
	return &out, nil
}

// List returns one page of a scope's memories, oldest first: at most
// p.Limit (default 100, at most 1000) from p.Cursor on. The page's
// NextCursor, when not empty, is the next page's Cursor. p.Filters is a
// filter as a JSON object, such as {"OR":[{"user_id":"a"},{"user_id":"b"}]}
// to list two scopes at once.
func (c *Client) List(ctx context.Context, p ListMemoriesParams) (*MemoryPage, error) {
	var out MemoryPage
	if _, err := c.do(ctx, http.MethodGet, "/memories", queryOf(p), nil, &out, nil); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListAll iterates over all of a scope's memories (p as for List, from
// p.Cursor on), oldest first, fetching pages of p.Limit as it goes. An error
// ends the iteration, as its last pair:
//
//	for m, err := range c.ListAll(ctx, client.ListMemoriesParams{UserID: "alice"}) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(m.Memory)
//	}
func (c *Client) ListAll(ctx context.Context, p ListMemoriesParams) iter.Seq2[Memory, error] {
	return func(yield func(Memory, error) bool) {
		for {
			page, err := c.List(ctx, p)
			if err != nil {
				yield(Memory{}, err)
				return
			}
			for _, m := range page.Results {
				if !yield(m, nil) {
					return
				}
			}
			if page.NextCursor == "" || len(page.Results) == 0 {
				return
			}
			p.Cursor = page.NextCursor
		}
	}
}

// Update changes a memory's text and/or metadata (at least one) and returns
// it at its new version; the change is recorded in its history. With
// IfMatch, only while the memory is at that version (else ErrPrecondition).
func (c *Client) Update(ctx context.Context, id string, req UpdateRequest, opts ...CallOption) (*Memory, error) {
	var out Memory
	if _, err := c.do(ctx, http.MethodPut, idPath("/memories/", id), nil, req, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete deletes a memory for good; its history stays. With IfMatch, only
// while the memory is at that version (else ErrPrecondition).
func (c *Client) Delete(ctx context.Context, id string, opts ...CallOption) error {
	_, err := c.do(ctx, http.MethodDelete, idPath("/memories/", id), nil, nil, nil, opts)
	return err
}

// DeleteAll deletes every memory and entity of a scope (at least one of
// UserID, AgentID, RunID, or a Filters of nothing but their equalities) and
// returns how many it deleted. With Purge their history goes too (erasure).
func (c *Client) DeleteAll(ctx context.Context, p DeleteAllMemoriesParams, opts ...CallOption) (int, error) {
	var out Deleted
	if _, err := c.do(ctx, http.MethodDelete, "/memories", queryOf(p), nil, &out, opts); err != nil {
		return 0, err
	}
	return out.Deleted, nil
}

// History returns a memory's events (ADD, UPDATE, DELETE…), oldest first,
// with who made each change.
func (c *Client) History(ctx context.Context, id string) ([]HistoryEntry, error) {
	var out []HistoryEntry
	if _, err := c.do(ctx, http.MethodGet, idPath("/memories/", id)+"/history", nil, nil, &out, nil); err != nil {
		return nil, err
	}
	return out, nil
}

package main

import (
	"context"
	"fmt"
	"time"

	"github.com/neomem/neomem/cypher"
	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/llm/llmtest"
)

// loader writes a layout's synthetic memories straight into Neo4j with
// Store.CreateMemories (what an infer=false add runs after embedding:
// memory, ADD event, vector and full-text index entries), in batches, one
// writer; much faster than through the API.
type loader struct {
	store    *cypher.Store
	embedder *llmtest.HashEmbedder
	batch    int
	// timeout bounds one batch: index merges can stall a batch for
	// minutes, which the ingest numbers should show.
	timeout time.Duration
	actor   string // the audit's actor
	role    string // of every memory ("": none)
	log     func(string, ...any)
}

// load generates the memories of ts in order from c (the same ones for the
// same seed and stream) and, when write is set, stores them. each, when not
// nil, sees every memory with the index of its tenant in ts and its own in
// the tenant. The result has the first and last id; the times and batches
// only when write is set.
func (l loader) load(ctx context.Context, c *corpus, ts []tenant, write bool, each func(ti, i int, m graph.Memory)) (IngestResult, error) {
	out := IngestResult{Batch: l.batch}
	for _, t := range ts {
		out.Memories += t.Size
	}
	var batchTimes []time.Duration
	batch := make([]graph.Memory, 0, l.batch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		qctx, cancel := context.WithTimeout(ctx, l.timeout)
		defer cancel()
		t := time.Now()
		_, err := l.store.CreateMemories(qctx, batch, graph.Audit{ActorID: l.actor})
		batchTimes = append(batchTimes, time.Since(t))
		batch = batch[:0]
		if err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		return nil
	}
	start := time.Now()
	lastLog, done := start, 0
	for ti, t := range ts {
		for i := range t.Size {
			text := c.memoryText()
			m := graph.Memory{ID: c.uuid(), Scope: t.Scope, Role: l.role, Text: text, Metadata: map[string]any{"bucket": i % 100}}
			if write || each != nil {
				m.Embedding = l.embedder.Vector(text)
			}
			if out.FirstID == "" {
				out.FirstID = m.ID
			}
			out.LastID = m.ID
			if each != nil {
				each(ti, i, m)
			}
			if !write {
				continue
			}
			batch = append(batch, m)
			if len(batch) == l.batch {
				if err := flush(); err != nil {
					return out, err
				}
			}
			done++
			if time.Since(lastLog) > 15*time.Second {
				lastLog = time.Now()
				l.log("inserted %s of %s (%.0f/s)", thousands(done), thousands(out.Memories), float64(done)/time.Since(start).Seconds())
			}
		}
	}
	if err := flush(); err != nil {
		return out, err
	}
	if write {
		out.Seconds = time.Since(start).Seconds()
		out.PerSecond = float64(out.Memories) / out.Seconds
		out.Batches = len(batchTimes)
		out.BatchMS = summarize(ms(batchTimes))
	}
	return out, nil
}

package memory

import (
	"strings"
	"time"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/prompts"
)

// planFacts turns the decision's memory choices into memory operations and
// the add's results; it returns the operations and the ids of the memories
// it creates (the provenance of the add's relations). Updates and deletes
// come first: an add of a text that a changed memory had is then a real add,
// not a repeat of something that no longer holds.
func (a *addition) planFacts(dec prompts.Decision, cands graph.Candidates, now time.Time) ([]graph.MemoryOp, []string) {
	var ops []graph.MemoryOp
	byM := func(id string) (graph.ScoredMemory, bool) {
		i, ok := prompts.MemoryIndex(id, len(cands.Memories))
		if !ok {
			return graph.ScoredMemory{}, false
		}
		return cands.Memories[i], true
	}
	newMemory := func(text string, fi int, md map[string]any) graph.Memory {
		m := graph.Memory{ID: graph.NewID(), Scope: a.req.Scope, Text: text, Kind: graph.KindFact, Metadata: md,
			ActorID: a.req.Audit.ActorID, Role: a.req.Audit.Role, CreatedAt: now, UpdatedAt: now, Source: a.req.Sources()}
		if fi >= 0 && graph.HashText(a.ex.Facts[fi].Text) == graph.HashText(text) {
			m.Embedding = a.factVectors[fi]
		}
		return m
	}

	touched := map[string]bool{}
	var newIDs []string
	for _, d := range dec.Memories {
		if d.Op != graph.OpUpdate && d.Op != graph.OpDelete {
			continue
		}
		old, ok := byM(d.ID)
		if !ok || touched[old.ID] {
			continue
		}
		touched[old.ID] = true
		if d.Op == graph.OpDelete {
			ops = append(ops, graph.MemoryOp{Op: graph.OpDelete, OldID: old.ID, Memory: old.Memory})
			a.results = append(a.results, graph.Result{ID: old.ID, Memory: old.Text, Event: graph.EventDelete})
			continue
		}
		fi := a.factIndex(d.Fact, d.Text)
		// The new version keeps what the old one had: metadata (the
		// request's keys on top), provenance, expiry; its MENTIONS are the
		// old ones plus those of the new text (the store copies the old).
		m := newMemory(d.Text, fi, mergeMaps(old.Metadata, a.req.Metadata))
		m.Source, m.ExpiresAt = old.Source, old.ExpiresAt
		ops = append(ops, graph.MemoryOp{Op: graph.OpUpdate, OldID: old.ID, Memory: m, Mentions: a.about(fi, d.Text)})
		a.results = append(a.results, graph.Result{ID: m.ID, Memory: m.Text, Event: graph.EventUpdate, PreviousMemory: old.Text})
		newIDs = append(newIDs, m.ID)
	}
	existing := map[string]graph.ScoredMemory{}
	for _, c := range cands.Memories {
		if !touched[c.ID] {
			existing[c.Hash] = c
		}
	}
	added := map[string]bool{}
	for _, d := range dec.Memories {
		if d.Op != graph.OpAdd {
			continue
		}
		h := graph.HashText(d.Text)
		if c, ok := existing[h]; ok {
			// The exact text exists already: nothing new.
			if !touched[c.ID] {
				touched[c.ID] = true
				a.results = append(a.results, graph.Result{ID: c.ID, Memory: c.Text, Event: graph.EventNone})
			}
			continue
		}
		if added[h] {
			continue // the same text twice in one add
		}
		added[h] = true
		fi := a.factIndex(d.Fact, d.Text)
		m := newMemory(d.Text, fi, a.req.Metadata)
		ops = append(ops, graph.MemoryOp{Op: graph.OpAdd, Memory: m, Mentions: a.about(fi, d.Text)})
		a.results = append(a.results, graph.Result{ID: m.ID, Memory: m.Text, Event: graph.EventAdd})
		newIDs = append(newIDs, m.ID)
	}
	for _, id := range dec.Noops {
		old, ok := byM(id)
		if fi := a.factIndex(id, ""); !ok && strings.HasPrefix(id, "F") && fi >= 0 {
			// A fact already known: report the memory that knows it — the
			// one with the same text, else the closest candidate.
			old, ok = closest(cands.Memories, a.ex.Facts[fi].Text)
		}
		if ok && !touched[old.ID] {
			touched[old.ID] = true
			a.results = append(a.results, graph.Result{ID: old.ID, Memory: old.Text, Event: graph.EventNone})
		}
	}
	return ops, newIDs
}

// factIndex finds the extracted fact a decision refers to: by its F id, else
// by identical text; -1 when none.
func (a *addition) factIndex(id, text string) int {
	if i, ok := prompts.FactIndex(id, len(a.ex.Facts)); ok {
		return i
	}
	for i, f := range a.ex.Facts {
		if graph.HashText(f.Text) == graph.HashText(text) {
			return i
		}
	}
	return -1
}

// about returns the entities a memory text is about: those its fact named
// and those the text names.
func (a *addition) about(fi int, text string) []string {
	var named []string
	if fi >= 0 {
		named = a.ex.Facts[fi].Entities
	}
	return a.ents.About(named, text)
}

func mergeMaps(base, top map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(top))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range top {
		out[k] = v
	}
	return out
}

// closest returns the candidate with the same text as fact, else the best
// scored one (candidates come best first).
func closest(cands []graph.ScoredMemory, fact string) (graph.ScoredMemory, bool) {
	for _, c := range cands {
		if c.Hash == graph.HashText(fact) {
			return c, true
		}
	}
	if len(cands) > 0 {
		return cands[0], true
	}
	return graph.ScoredMemory{}, false
}

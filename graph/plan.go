package graph

import (
	"strings"
	"time"
	"unicode"
)

// This file holds the vocabulary shared by the add pipeline (memory) and the
// store (cypher): what the one candidate read asks for and returns, and the
// plan that the one write transaction applies.

// CandidateQuery asks the store, in one read, for everything an add's
// decision needs to see.
type CandidateQuery struct {
	Scope Scope
	// FactVectors holds one embedding per new fact; for each, the MemoryLimit
	// most similar current memories of the scope with a score of at least
	// MemoryMinScore are returned.
	FactVectors    [][]float32
	MemoryLimit    int
	MemoryMinScore float64
	// Entities holds one probe per extracted entity.
	Entities []EntityProbe
	// EntityLimit bounds the vector matches per probe; EntityMinScore is
	// their minimum cosine similarity.
	EntityLimit    int
	EntityMinScore float64
	// RelationLimit bounds the current relations returned (most recently
	// updated first).
	RelationLimit int
}

// EntityProbe looks for existing entities of one extracted entity: by exact
// key (an entity's key or one of its aliases equals one of Keys), then by the
// similarity of the name's embedding.
type EntityProbe struct {
	Keys   []string
	Vector []float32
}

// Candidates is the answer to a CandidateQuery.
type Candidates struct {
	// Memories are the distinct similar memories, best score first.
	Memories []ScoredMemory
	// Entities has one list per probe, in probe order: exact matches first
	// (Exact, Score 1), then vector matches by score.
	Entities [][]ScoredEntity
	// Relations are the current relations touching any matched entity.
	Relations []Relation
}

// ScoredMemory is a memory with its similarity to a query.
type ScoredMemory struct {
	Memory
	Score float64
}

// ScoredEntity is an entity with its similarity to a probe.
type ScoredEntity struct {
	Entity
	Score float64
	Exact bool
}

// Plan is everything one add writes, applied in one transaction: all of it
// lands or none of it.
type Plan struct {
	Scope Scope
	Audit Audit
	// At is the time of the change (valid_from, invalid_at, created_at,
	// the history's events).
	At time.Time
	// SaidAt, when set, is when the add's messages were said (its
	// timestamp): the memories and relations the plan adds (not the new
	// versions of updated ones) date from it instead of At; their events
	// keep At.
	SaidAt    time.Time
	Entities  []EntityUpsert
	Memories  []MemoryOp
	Relations []RelationOp
}

// EntityUpsert creates an entity (New) or touches an existing one (by ID):
// adds aliases and the type label, counts a mention.
type EntityUpsert struct {
	ID  string
	New bool
	// Name, Key and Type are set for new entities; for existing ones a
	// non-empty Type adds that label.
	Name string
	Key  string
	Type string
	// Aliases are further keys that name this entity (e.g. the user's own
	// name on the user entity).
	Aliases []string
	// IsUser marks the entity that stands for the scope's user ("I", "me").
	IsUser    bool
	Embedding []float32
}

// MemoryOp is one fact decision. ADD creates Memory; UPDATE invalidates
// OldID and creates Memory as its new version (SUPERSEDES the old one);
// DELETE invalidates OldID. Mentions are entity ids the new memory is about.
type MemoryOp struct {
	Op       Op
	OldID    string
	Memory   Memory
	Mentions []string
}

// RelationOp is one relation decision. ADD creates the relation (or, when the
// same current relation exists, counts a mention); UPDATE invalidates OldID
// and creates the new one; DELETE invalidates OldID.
type RelationOp struct {
	Op       Op
	OldID    string
	Relation Relation
}

// Lease is a held scope lock: a fencing token the write transaction checks,
// so an add whose lock expired cannot apply a stale decision.
type Lease struct {
	Scope   Scope
	Holder  string
	Token   string
	Expires time.Time
}

// EntityKey normalises an entity name for exact matching: case folded,
// white space collapsed, surrounding punctuation removed. "  Maolin. " and
// "maolin" share a key; "SR-2023-052" keeps its inner punctuation.
func EntityKey(name string) string {
	f := strings.Fields(strings.ToLower(name))
	s := strings.Join(f, " ")
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSymbol(r) })
}

package graph

import "time"

// Op is what a history event records.
type Op string

// The history operations.
const (
	OpAdd        Op = "ADD"
	OpUpdate     Op = "UPDATE"
	OpDelete     Op = "DELETE"
	OpInvalidate Op = "INVALIDATE"
)

// TargetKind names what an event is about.
type TargetKind string

// The kinds of history targets.
const (
	TargetMemory   TargetKind = "memory"
	TargetRelation TargetKind = "relation"
	TargetEntity   TargetKind = "entity"
)

// Event is one entry of the append-only history. Old and New are the text
// before and after (empty where not applicable).
type Event struct {
	ID         string
	Scope      Scope
	TargetID   string
	TargetKind TargetKind
	Op         Op
	Old        string
	New        string
	At         time.Time
	Audit
}

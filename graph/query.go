package graph

import "time"

// ListQuery selects a page of a scope's memories.
type ListQuery struct {
	// Limit is the page size; 0 means the store's default page size (100), more
	// than its maximum (1000) is Invalid.
	Limit int
	// Cursor is the Next of the previous page; empty for the first page.
	Cursor string
	// IncludeInvalid includes memories that were invalidated (history).
	IncludeInvalid bool
	// Filter is the caller's parsed filter (Mem0's language), or nil.
	Filter Filter
}

// RelationQuery selects relations of a scope. The zero value selects the
// current relations (not invalidated) of the whole scope.
type RelationQuery struct {
	// EntityID, when set, keeps the relations that start or end at that
	// entity.
	EntityID string
	// AsOf, when set, selects the relations that held at that time:
	// valid_from ≤ AsOf and not invalidated before or at AsOf. It overrides
	// IncludeInvalid.
	AsOf *time.Time
	// IncludeInvalid also returns invalidated relations (the history).
	IncludeInvalid bool
	// Limit bounds the result; 0 means the store's default page size (100), more
	// than its maximum (1000) is Invalid.
	Limit int
}

// DeleteOptions tunes the delete of a whole scope.
type DeleteOptions struct {
	// Purge removes the deleted items' history too (erasure requests);
	// otherwise a DELETE event is recorded for each.
	Purge bool
}

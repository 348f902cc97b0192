package graph

import "time"

// Entity is a node of the knowledge graph: a person, organisation, place,
// thing or concept, with a type that is also its second Neo4j label.
type Entity struct {
	ID    string
	Scope Scope
	// Name is the display name; Key is its normalised form, unique per scope.
	Name string
	Key  string
	// Type is a PascalCase label produced by Label (e.g. "Person").
	Type string
	// Aliases are further normalised names of the same entity.
	Aliases []string
	// IsUser marks the entity that stands for the scope's user.
	IsUser    bool
	Embedding []float32
	Mentions  int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Relation is a typed, directed relationship between two entities, e.g.
// (Alice)-[:WORKS_AT]->(Google). Type is produced by RelationType.
type Relation struct {
	ID       string
	Scope    Scope
	SourceID string
	Source   string
	Type     string
	TargetID string
	Target   string
	// MemoryIDs are the memories the relation was learned from.
	MemoryIDs []string
	Mentions  int64
	CreatedAt time.Time
	UpdatedAt time.Time
	Validity
}

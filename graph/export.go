package graph

// Triple is a structured relation given without an LLM: "Alice WORKS_AT
// Acme", entities named (and typed) by the caller.
type Triple struct {
	Source       string
	SourceType   string
	Relationship string
	Target       string
	TargetType   string
}

// Subgraph is a scope's entities and the current relations among them.
type Subgraph struct {
	Nodes []Entity
	Edges []Relation
}

// ExportItem is one line of a scope's export: exactly one of its fields is
// set. Vectors travel with memories and entities, so an import needs no
// model.
type ExportItem struct {
	Memory *Memory
	// Mentions are the entity ids a memory item MENTIONS.
	Mentions []string
	Event    *Event
	Entity   *Entity
	Relation *Relation
}

// Imported counts what an import wrote.
type Imported struct {
	Memories, Events, Entities, Relations int
}

package prompts

import (
	"bytes"
	"encoding/json"
	"slices"
)

// ToolSpec is a tool the model may call. Parameters is a JSON Schema object
// (type object, additionalProperties false, a required list); the llm
// adapters convert it for each provider.
type ToolSpec struct {
	Name        string
	Description string
	Parameters  json.RawMessage
}

// The names of the tools.
const (
	// ToolExtract is the one forced call of the extraction prompt.
	ToolExtract = "extract_memories"
	// ToolAddMemory stores a new fact.
	ToolAddMemory = "add_memory"
	// ToolUpdateMemory replaces an existing memory (an M id) by a new text.
	ToolUpdateMemory = "update_memory"
	// ToolDeleteMemory invalidates an existing memory (an M id).
	ToolDeleteMemory = "delete_memory"
	// ToolAddGraphMemory adds a relation between two entities.
	ToolAddGraphMemory = "add_graph_memory"
	// ToolUpdateGraphMemory changes an existing relation (an R id).
	ToolUpdateGraphMemory = "update_graph_memory"
	// ToolDeleteGraphMemory invalidates an existing relation (an R id).
	ToolDeleteGraphMemory = "delete_graph_memory"
	// ToolNoop changes nothing.
	ToolNoop = "noop"
)

// decisionToolNames are the decision tools in DecisionTools' order.
var decisionToolNames = []string{
	ToolAddMemory, ToolUpdateMemory, ToolDeleteMemory,
	ToolAddGraphMemory, ToolUpdateGraphMemory, ToolDeleteGraphMemory, ToolNoop,
}

var extractTool = ToolSpec{
	Name:        ToolExtract,
	Description: "Record the facts, entities and relations extracted from the new conversation turns. Call it exactly once; use empty lists when there is nothing to remember.",
	Parameters: schema(`{
		"type": "object",
		"properties": {
			"facts": {
				"type": "array",
				"description": "Durable, self-contained facts, each one sentence in the third person that names the user.",
				"items": {
					"type": "object",
					"properties": {
						"text": {"type": "string", "description": "The fact, in the language of the conversation, with identifiers exactly as written."},
						"entities": {"type": "array", "description": "Names of the entities the fact is about, spelled as in entities.", "items": {"type": "string"}}
					},
					"required": ["text", "entities"],
					"additionalProperties": false
				}
			},
			"entities": {
				"type": "array",
				"description": "Every entity the facts are about, once each; the user is one of them.",
				"items": {
					"type": "object",
					"properties": {
						"name": {"type": "string", "description": "The entity's most complete name; identifiers exactly as written."},
						"type": {"type": "string", "description": "Person, Organization, Location, Product, Event, Concept or another short type."}
					},
					"required": ["name", "type"],
					"additionalProperties": false
				}
			},
			"relations": {
				"type": "array",
				"description": "Relations between entities, read from source to target.",
				"items": {
					"type": "object",
					"properties": {
						"source": {"type": "string", "description": "Name of the source entity, as in entities."},
						"relationship": {"type": "string", "description": "Short snake_case verb phrase, e.g. works_at, lives_in, likes."},
						"target": {"type": "string", "description": "Name of the target entity, as in entities."}
					},
					"required": ["source", "relationship", "target"],
					"additionalProperties": false
				}
			},
			"user_name": {"type": "string", "description": "The user's own name, only when they state it in these turns."}
		},
		"required": ["facts", "entities", "relations"],
		"additionalProperties": false
	}`),
}

var decisionTools = []ToolSpec{
	{
		Name:        ToolAddMemory,
		Description: "Store a new fact that no existing memory holds.",
		Parameters: schema(`{
			"type": "object",
			"properties": {
				"text": {"type": "string", "description": "The memory to store, usually the fact's text."},
				"fact": {"type": "string", "description": "The id of the new fact it comes from (F1, F2…)."}
			},
			"required": ["text"],
			"additionalProperties": false
		}`),
	},
	{
		Name:        ToolUpdateMemory,
		Description: "Replace an existing memory by an updated version when a new fact refines, extends or changes it.",
		Parameters: schema(`{
			"type": "object",
			"properties": {
				"id": {"type": "string", "description": "The id of the memory to update (M1, M2…)."},
				"text": {"type": "string", "description": "The complete updated memory; it replaces the old text."},
				"fact": {"type": "string", "description": "The id of the new fact it comes from (F1, F2…)."}
			},
			"required": ["id", "text"],
			"additionalProperties": false
		}`),
	},
	{
		Name:        ToolDeleteMemory,
		Description: "Remove an existing memory that a new fact contradicts, when the fact does not replace it.",
		Parameters: schema(`{
			"type": "object",
			"properties": {
				"id": {"type": "string", "description": "The id of the memory to remove (M1, M2…)."},
				"reason": {"type": "string", "description": "Why, in a few words."}
			},
			"required": ["id"],
			"additionalProperties": false
		}`),
	},
	{
		Name:        ToolAddGraphMemory,
		Description: "Add a new relation between two entities.",
		Parameters: schema(`{
			"type": "object",
			"properties": {
				"source": {"type": "string", "description": "Name of the source entity."},
				"relationship": {"type": "string", "description": "Short snake_case verb phrase, e.g. works_at, lives_in, likes."},
				"target": {"type": "string", "description": "Name of the target entity."},
				"source_type": {"type": "string", "description": "Type of the source entity, e.g. Person."},
				"target_type": {"type": "string", "description": "Type of the target entity, e.g. Location."}
			},
			"required": ["source", "relationship", "target"],
			"additionalProperties": false
		}`),
	},
	{
		Name:        ToolUpdateGraphMemory,
		Description: "Change an existing relation, e.g. a new target of LIVES_IN. Give only the parts that change; omitted parts keep their old values.",
		Parameters: schema(`{
			"type": "object",
			"properties": {
				"id": {"type": "string", "description": "The id of the relation to change (R1, R2…)."},
				"source": {"type": "string", "description": "The new source entity's name."},
				"relationship": {"type": "string", "description": "The new relationship, snake_case."},
				"target": {"type": "string", "description": "The new target entity's name."}
			},
			"required": ["id"],
			"additionalProperties": false
		}`),
	},
	{
		Name:        ToolDeleteGraphMemory,
		Description: "Remove an existing relation that is no longer true.",
		Parameters: schema(`{
			"type": "object",
			"properties": {
				"id": {"type": "string", "description": "The id of the relation to remove (R1, R2…)."},
				"reason": {"type": "string", "description": "Why, in a few words."}
			},
			"required": ["id"],
			"additionalProperties": false
		}`),
	},
	{
		Name:        ToolNoop,
		Description: "Change nothing: the fact or relation is already known or not worth keeping, or nothing changes at all.",
		Parameters: schema(`{
			"type": "object",
			"properties": {
				"id": {"type": "string", "description": "The id of the fact, memory or relation this is about (F1, M1, R1…), if any."},
				"reason": {"type": "string", "description": "Why, in a few words."}
			},
			"required": [],
			"additionalProperties": false
		}`),
	},
}

// ExtractTool returns the extract_memories tool, whose arguments
// ParseExtraction reads.
func ExtractTool() ToolSpec { return cloneTool(extractTool) }

// DecisionTools returns the decision tools, whose calls ParseDecision reads,
// in this order: add_memory, update_memory, delete_memory, add_graph_memory,
// update_graph_memory, delete_graph_memory, noop.
func DecisionTools() []ToolSpec {
	out := make([]ToolSpec, len(decisionTools))
	for i, t := range decisionTools {
		out[i] = cloneTool(t)
	}
	return out
}

// cloneTool copies t so a caller cannot change the package's schemas.
func cloneTool(t ToolSpec) ToolSpec {
	t.Parameters = slices.Clone(t.Parameters)
	return t
}

// schema compacts a schema written for reading. It panics on invalid JSON,
// which the tests (and every start-up) catch.
func schema(s string) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		panic("prompts: invalid tool schema: " + err.Error())
	}
	return b.Bytes()
}

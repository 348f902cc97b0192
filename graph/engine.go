package graph

// This file holds the engine's request and result types: what an add and a
// search take and return. They are vocabulary shared by the engine (memory)
// and the HTTP layer (api), which converts them to and from wire types.

import "time"

// Image is a picture attached to a message, by URL or inline bytes.
type Image struct {
	URL      string
	MIMEType string
	Data     []byte
}

// Message is one conversation turn given to Add.
type Message struct {
	// Role is "user", "assistant" or "system".
	Role string
	// Name is the speaker (actor id), optional.
	Name    string
	Content string
	// Images are attached pictures, described by the vision model.
	Images []Image
	// Metadata is this message's own metadata (its turn id, its date…):
	// an infer=false add stores it, over the request's, on the memory the
	// message becomes, so a whole session is one request and each memory
	// keeps its provenance. Inferred facts come from several messages, so
	// an add with infer refuses it.
	Metadata map[string]any `json:",omitempty"`
}

// MemoryType selects what an add produces.
type MemoryType string

// The memory types.
const (
	// TypeDefault extracts facts (infer=true) or stores messages (infer=false).
	TypeDefault MemoryType = ""
	// TypeProcedural summarises an agent's actions and outputs verbatim.
	TypeProcedural MemoryType = "procedural"
)

// AddRequest is one add.
type AddRequest struct {
	Scope    Scope
	Messages []Message
	Metadata map[string]any
	// Infer asks the model to extract facts, entities and relations;
	// without it every non-system message is stored as it is.
	Infer      bool
	MemoryType MemoryType
	// Prompt is this request's custom instructions for extraction.
	Prompt string
	// At, when set, is when the messages were said (Mem0's timestamp): the
	// memories the add creates take it as their created_at and valid_from
	// instead of the time they are written. Updates, deletes and the
	// history keep the time they happen.
	At    *time.Time `json:",omitempty"`
	Audit Audit
	// JobID is the asynchronous add (event) this add runs for: every memory
	// it creates names the job as its source, and the job keeps the raw
	// messages.
	JobID string `json:",omitempty"`
}

// MaxFutureAt is how far past the server's clock an add may be dated:
// clocks differ a little, but a fact said in the future would be valid
// before it was said, and an update made now would end it before it began.
const MaxFutureAt = 24 * time.Hour

// Said is when the add's messages were said, in UTC: At, or the zero time
// when it is not set, which the store reads as the time of the write
// (Memory.CreatedAt, Plan.SaidAt).
func (r AddRequest) Said() time.Time {
	if r.At == nil {
		return time.Time{}
	}
	return r.At.UTC()
}

// UnixAt is the time of a wire timestamp (Unix seconds), nil when absent.
func UnixAt(sec *int64) *time.Time {
	if sec == nil {
		return nil
	}
	at := time.Unix(*sec, 0).UTC()
	return &at
}

// Sources is what the memories an add creates name as their source.
func (r AddRequest) Sources() []string {
	if r.JobID == "" {
		return nil
	}
	return []string{"job:" + r.JobID}
}

// AddEvent names what an add did to one memory.
type AddEvent string

// The add events (Mem0's vocabulary).
const (
	EventAdd    AddEvent = "ADD"
	EventUpdate AddEvent = "UPDATE"
	EventDelete AddEvent = "DELETE"
	EventNone   AddEvent = "NONE"
)

// Result is one memory an add touched.
type Result struct {
	ID             string   `json:"id"`
	Memory         string   `json:"memory"`
	Event          AddEvent `json:"event"`
	PreviousMemory string   `json:"previous_memory,omitempty"`
}

// RelationResult is one relation an add touched.
type RelationResult struct {
	ID           string `json:"id"`
	Source       string `json:"source"`
	Relationship string `json:"relationship"`
	Target       string `json:"target"`
	// Previous is the replaced relation of an update.
	Previous *RelationResult `json:"previous,omitempty"`
}

// RejectedRelation is a relation the model proposed that was not written.
type RejectedRelation struct {
	Source       string `json:"source"`
	Relationship string `json:"relationship"`
	Target       string `json:"target"`
	Reason       string `json:"reason"`
}

// Relations is what an add did to the relations of the graph.
type Relations struct {
	Added       []RelationResult   `json:"added"`
	Updated     []RelationResult   `json:"updated"`
	Invalidated []RelationResult   `json:"invalidated"`
	Rejected    []RejectedRelation `json:"rejected,omitempty"`
	// RejectedLabels are entity types that could not be made into a safe
	// label; those entities keep only the base label.
	RejectedLabels []string `json:"rejected_labels,omitempty"`
}

// Usage counts the model work of one add.
type Usage struct {
	LLMCalls         int `json:"llm_calls"`
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	EmbeddingCalls   int `json:"embedding_calls"`
}

// AddResult is what Add returns.
type AddResult struct {
	Results   []Result  `json:"results"`
	Relations Relations `json:"relations"`
	Usage     Usage     `json:"usage"`
}

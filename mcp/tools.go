package mcp

import (
	"context"
	"fmt"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/neomem/neomem/graph"
)

// tools are one server's tool handlers, bound to its key.
type tools struct {
	opt Options
	key graph.APIKey
}

// Scope names whose memory a tool touches.
type Scope struct {
	UserID  string `json:"user_id,omitempty" jsonschema:"the user whose memory this is (e.g. a user name or id)"`
	AgentID string `json:"agent_id,omitempty" jsonschema:"the agent whose memory this is"`
	RunID   string `json:"run_id,omitempty" jsonschema:"the run or session whose memory this is"`
}

func (t *tools) scope(s Scope) graph.Scope {
	return graph.Scope{Tenant: t.key.Tenant, UserID: s.UserID, AgentID: s.AgentID, RunID: s.RunID}
}

func (t *tools) audit() graph.Audit { return graph.Audit{ActorID: "key:" + t.key.ID, Role: "mcp"} }

// Message is one conversation turn.
type Message struct {
	Role    string `json:"role" jsonschema:"user, assistant or system"`
	Content string `json:"content" jsonschema:"what was said"`
}

// AddInput is add_memory's input.
type AddInput struct {
	Scope
	Messages []Message      `json:"messages,omitempty" jsonschema:"the conversation turns to remember"`
	Text     string         `json:"text,omitempty" jsonschema:"shortcut for one user message"`
	Infer    *bool          `json:"infer,omitempty" jsonschema:"extract durable facts, entities and relations with the model and decide add, update, delete or nothing (default true); false stores each message as it is"`
	Metadata map[string]any `json:"metadata,omitempty" jsonschema:"key/value data stored with every memory of this add"`
	Async    bool           `json:"async,omitempty" jsonschema:"store the add as a job and return its event_id at once (see get_event_status)"`
	// Timestamp is Mem0's field: when the messages were said.
	Timestamp *int64 `json:"timestamp,omitempty" jsonschema:"when the messages were said, in Unix seconds (default: now); the memories it creates are dated then, for a conversation imported later"`
}

// AddOutput is what an add did: to memories, and to relations.
type AddOutput struct {
	Results   []graph.Result `json:"results" jsonschema:"the memories added, updated or deleted (event ADD, UPDATE, DELETE or NONE)"`
	Relations Changes        `json:"relations"`
	EventID   string         `json:"event_id,omitempty" jsonschema:"the job of an asynchronous add (see get_event_status)"`
}

// Changes are the relations an add wrote or replaced.
type Changes struct {
	Added       []Change                 `json:"added"`
	Updated     []Change                 `json:"updated"`
	Invalidated []Change                 `json:"invalidated"`
	Rejected    []graph.RejectedRelation `json:"rejected,omitempty" jsonschema:"proposed relations that were not written, with why"`
}

// Change is one relation an add touched.
type Change struct {
	ID           string `json:"id"`
	Source       string `json:"source"`
	Relationship string `json:"relationship"`
	Target       string `json:"target"`
	Previous     string `json:"previous,omitempty" jsonschema:"the relation an update replaced"`
}

func addOutput(r graph.AddResult) AddOutput {
	changes := func(rs []graph.RelationResult) []Change {
		out := make([]Change, 0, len(rs))
		for _, x := range rs {
			c := Change{ID: x.ID, Source: x.Source, Relationship: x.Relationship, Target: x.Target}
			if p := x.Previous; p != nil {
				c.Previous = p.Source + " " + p.Relationship + " " + p.Target
			}
			out = append(out, c)
		}
		return out
	}
	out := AddOutput{Results: r.Results, Relations: Changes{Added: changes(r.Relations.Added), Updated: changes(r.Relations.Updated),
		Invalidated: changes(r.Relations.Invalidated), Rejected: r.Relations.Rejected}}
	if out.Results == nil {
		out.Results = []graph.Result{}
	}
	return out
}

// SearchInput is search_memories' input.
type SearchInput struct {
	Scope
	Query          string         `json:"query" jsonschema:"what to look for, in natural language"`
	Filters        map[string]any `json:"filters,omitempty" jsonschema:"Mem0's filter language, e.g. {\"metadata.topic\": \"food\"} or {\"OR\": [{\"user_id\": \"alice\"}, {\"user_id\": \"bob\"}]} for several users"`
	TopK           int            `json:"top_k,omitempty" jsonschema:"how many memories to return (1-100, default 10)"`
	Threshold      float64        `json:"threshold,omitempty" jsonschema:"least similarity score (0-1)"`
	AsOf           string         `json:"as_of,omitempty" jsonschema:"an RFC 3339 time: what was true then"`
	IncludeInvalid bool           `json:"include_invalid,omitempty" jsonschema:"also return memories and relations that were replaced or contradicted"`
}

// Memory is one memory as the tools show it.
type Memory struct {
	ID        string         `json:"id"`
	Text      string         `json:"memory"`
	UserID    string         `json:"user_id,omitempty"`
	AgentID   string         `json:"agent_id,omitempty"`
	RunID     string         `json:"run_id,omitempty"`
	Kind      string         `json:"kind,omitempty"`
	Metadata  map[string]any `json:"metadata,omitempty"`
	Score     float64        `json:"score,omitempty"`
	Version   int64          `json:"version"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	InvalidAt *time.Time     `json:"invalid_at,omitempty"`
}

func memory(m graph.Memory) Memory {
	return Memory{ID: m.ID, Text: m.Text, UserID: m.Scope.UserID, AgentID: m.Scope.AgentID, RunID: m.Scope.RunID,
		Kind: string(m.Kind), Metadata: m.Metadata, Version: m.Version, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt, InvalidAt: m.InvalidAt}
}

// Relation is a typed relation between two entities, with its validity.
type Relation struct {
	ID        string     `json:"id"`
	Source    string     `json:"source"`
	SourceID  string     `json:"source_id"`
	Type      string     `json:"relationship"`
	Target    string     `json:"target"`
	TargetID  string     `json:"target_id"`
	ValidFrom time.Time  `json:"valid_from"`
	InvalidAt *time.Time `json:"invalid_at,omitempty"`
}

func relation(r graph.Relation) Relation {
	return Relation{ID: r.ID, Source: r.Source, SourceID: r.SourceID, Type: r.Type, Target: r.Target, TargetID: r.TargetID,
		ValidFrom: r.ValidFrom, InvalidAt: r.InvalidAt}
}

// SearchOutput is search_memories' result.
type SearchOutput struct {
	Results   []Memory   `json:"results"`
	Relations []Relation `json:"relations" jsonschema:"relations around the entities the results mention"`
}

// ListInput is get_memories' input.
type ListInput struct {
	Scope
	Filters        map[string]any `json:"filters,omitempty" jsonschema:"Mem0's filter language (see search_memories)"`
	Limit          int            `json:"limit,omitempty" jsonschema:"page size (1-1000, default 100)"`
	Cursor         string         `json:"cursor,omitempty" jsonschema:"next_cursor of the previous page"`
	IncludeInvalid bool           `json:"include_invalid,omitempty" jsonschema:"also list replaced or contradicted memories"`
}

// ListOutput is one page of memories.
type ListOutput struct {
	Results    []Memory `json:"results"`
	NextCursor string   `json:"next_cursor,omitempty" jsonschema:"pass it as cursor for the next page; absent on the last"`
}

// IDInput names one item.
type IDInput struct {
	ID string `json:"id" jsonschema:"the item's id"`
}

// GetOutput is one memory with its history.
type GetOutput struct {
	Memory
	History []Event `json:"history"`
}

// Event is one change in an item's history.
type Event struct {
	Op    string    `json:"op" jsonschema:"ADD, UPDATE, DELETE or INVALIDATE"`
	Old   string    `json:"old,omitempty"`
	New   string    `json:"new,omitempty"`
	At    time.Time `json:"at"`
	Actor string    `json:"actor_id,omitempty"`
}

// UpdateInput is update_memory's input.
type UpdateInput struct {
	ID        string         `json:"id" jsonschema:"the memory's id"`
	Text      *string        `json:"text,omitempty" jsonschema:"the new text (re-embedded)"`
	Metadata  map[string]any `json:"metadata,omitempty" jsonschema:"keys to set (null removes a key)"`
	IfVersion int64          `json:"if_version,omitempty" jsonschema:"change it only while it is at this version (from get_memory)"`
}

// DeleteInput is delete_memory's input.
type DeleteInput struct {
	ID        string `json:"id" jsonschema:"the memory's id"`
	IfVersion int64  `json:"if_version,omitempty" jsonschema:"delete it only while it is at this version"`
}

// DeleteAllInput is delete_all_memories' input.
type DeleteAllInput struct {
	Scope
	Filters map[string]any `json:"filters,omitempty" jsonschema:"only scope ids, e.g. {\"OR\": [{\"user_id\": \"alice\"}, {\"user_id\": \"bob\"}]}"`
	Purge   bool           `json:"purge,omitempty" jsonschema:"erase their history too"`
}

// Deleted says how much a delete removed.
type Deleted struct {
	Deleted int    `json:"deleted"`
	Message string `json:"message"`
}

// EntitiesInput is list_entities' input.
type EntitiesInput struct {
	Scope
	Limit int `json:"limit,omitempty" jsonschema:"how many (1-1000, default 100)"`
}

// Entity is one entity: a person, place, organisation… memories mention.
type Entity struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	UserID   string `json:"user_id,omitempty"`
	AgentID  string `json:"agent_id,omitempty"`
	RunID    string `json:"run_id,omitempty"`
	Mentions int64  `json:"mentions"`
	IsUser   bool   `json:"is_user,omitempty"`
}

func entity(e graph.Entity) Entity {
	return Entity{ID: e.ID, Name: e.Name, Type: e.Type, UserID: e.Scope.UserID, AgentID: e.Scope.AgentID, RunID: e.Scope.RunID,
		Mentions: e.Mentions, IsUser: e.IsUser}
}

// EntitiesOutput lists entities.
type EntitiesOutput struct {
	Results []Entity `json:"results"`
}

// EntityOutput is one entity with its relations, replaced ones included
// (their history).
type EntityOutput struct {
	Entity
	Relations []Relation `json:"relations"`
}

// Triple is one relation to write.
type Triple struct {
	Source       string `json:"source" jsonschema:"the source entity's name"`
	SourceType   string `json:"source_type,omitempty" jsonschema:"its type, e.g. Person"`
	Relationship string `json:"relationship" jsonschema:"the relation, e.g. works_at"`
	Target       string `json:"target" jsonschema:"the target entity's name"`
	TargetType   string `json:"target_type,omitempty" jsonschema:"its type, e.g. Organization"`
}

// RelationInput is add_relation's input.
type RelationInput struct {
	Scope
	Relations []Triple `json:"relations" jsonschema:"one or more (source, relationship, target) triples"`
}

// EventInput is get_event_status' input.
type EventInput struct {
	EventID string `json:"event_id" jsonschema:"the event_id an asynchronous add_memory returned"`
}

// EventOutput is an asynchronous add's state.
type EventOutput struct {
	ID       string     `json:"id"`
	Status   string     `json:"status" jsonschema:"PENDING, RUNNING, SUCCEEDED or FAILED"`
	Attempts int        `json:"attempts"`
	Error    string     `json:"error,omitempty"`
	Result   *AddOutput `json:"result,omitempty"`
}

func readOnly() *sdk.ToolAnnotations { return &sdk.ToolAnnotations{ReadOnlyHint: true} }

func destructive() *sdk.ToolAnnotations {
	yes := true
	return &sdk.ToolAnnotations{DestructiveHint: &yes}
}

// register adds the tools to s.
func (t *tools) register(s *sdk.Server) {
	sdk.AddTool(s, &sdk.Tool{Name: "add_memory", Description: "Remember conversation turns for a user, agent or run. With infer (the default) neomem extracts durable facts, entities and relations and reconciles them with what it already knows (add, update, delete or nothing); with infer=false each message is stored as it is. Give user_id, agent_id or run_id."}, t.add)
	sdk.AddTool(s, &sdk.Tool{Name: "search_memories", Description: "Find the memories closest to a question, with the relations around the entities they mention. Give user_id, agent_id or run_id, or filters selecting several (a shared room).", Annotations: readOnly()}, t.search)
	sdk.AddTool(s, &sdk.Tool{Name: "get_memories", Description: "List memories, oldest first, one page at a time (pass next_cursor back as cursor).", Annotations: readOnly()}, t.list)
	sdk.AddTool(s, &sdk.Tool{Name: "get_memory", Description: "One memory by id, with its version and history.", Annotations: readOnly()}, t.get)
	sdk.AddTool(s, &sdk.Tool{Name: "update_memory", Description: "Change a memory's text and/or metadata; its history keeps the old text."}, t.update)
	sdk.AddTool(s, &sdk.Tool{Name: "delete_memory", Description: "Delete one memory by id (its history stays).", Annotations: destructive()}, t.delete)
	sdk.AddTool(s, &sdk.Tool{Name: "delete_all_memories", Description: "Delete every memory and entity of a user, agent or run (or of the scopes a filter of scope ids selects).", Annotations: destructive()}, t.deleteAll)
	sdk.AddTool(s, &sdk.Tool{Name: "list_entities", Description: "The entities (people, places, organisations, …) a user's, agent's or run's memories mention, most mentioned first.", Annotations: readOnly()}, t.entities)
	sdk.AddTool(s, &sdk.Tool{Name: "get_entity", Description: "One entity by id with its relations, the replaced ones included with when they held (its history).", Annotations: readOnly()}, t.entity)
	sdk.AddTool(s, &sdk.Tool{Name: "add_relation", Description: "Write relations between named entities directly, without the model: (source, relationship, target) triples; entities are matched by name or created."}, t.addRelation)
	sdk.AddTool(s, &sdk.Tool{Name: "delete_entity", Description: "Delete an entity by id with its relations; memories that mention it stay.", Annotations: destructive()}, t.deleteEntity)
	sdk.AddTool(s, &sdk.Tool{Name: "get_event_status", Description: "The state of an asynchronous add_memory: PENDING, RUNNING, SUCCEEDED (with its result) or FAILED (with its error).", Annotations: readOnly()}, t.event)
}

func (t *tools) add(ctx context.Context, _ *sdk.CallToolRequest, in AddInput) (*sdk.CallToolResult, AddOutput, error) {
	const op = "add_memory"
	req := graph.AddRequest{Scope: t.scope(in.Scope), Infer: in.Infer == nil || *in.Infer, Metadata: in.Metadata, Audit: t.audit()}
	for _, m := range in.Messages {
		req.Messages = append(req.Messages, graph.Message{Role: m.Role, Content: m.Content})
	}
	if in.Text != "" {
		req.Messages = append(req.Messages, graph.Message{Role: "user", Content: in.Text})
	}
	if req.Metadata != nil {
		req.Metadata = graph.NormalizeNumbers(req.Metadata).(map[string]any)
	}
	req.At = graph.UnixAt(in.Timestamp)
	if in.Async {
		j, err := t.opt.Engine.Enqueue(ctx, req)
		if err != nil {
			return nil, AddOutput{}, t.toolError(op, err)
		}
		out := addOutput(graph.AddResult{})
		out.EventID = j.ID
		return nil, out, nil
	}
	res, err := t.opt.Engine.Add(ctx, req)
	if err != nil {
		return nil, AddOutput{}, t.toolError(op, err)
	}
	return nil, addOutput(res), nil
}

// filter parses a filters object.
func filter(raw map[string]any) (graph.Filter, error) {
	if raw == nil {
		return nil, nil
	}
	return graph.ParseFilter(graph.NormalizeNumbers(raw).(map[string]any))
}

func (t *tools) search(ctx context.Context, _ *sdk.CallToolRequest, in SearchInput) (*sdk.CallToolResult, SearchOutput, error) {
	const op = "search_memories"
	f, err := filter(in.Filters)
	if err != nil {
		return nil, SearchOutput{}, t.toolError(op, err)
	}
	req := graph.SearchRequest{Scope: t.scope(in.Scope).Select(f), Query: in.Query, Filter: f, TopK: in.TopK,
		Threshold: in.Threshold, IncludeInvalid: in.IncludeInvalid}
	if in.AsOf != "" {
		at, err := time.Parse(time.RFC3339Nano, in.AsOf)
		if err != nil {
			return nil, SearchOutput{}, t.toolError(op, graph.InvalidFields(op, graph.FieldError{Path: "as_of", Message: "must be an RFC 3339 time, e.g. 2026-01-02T15:04:05Z"}))
		}
		req.AsOf = &at
	}
	res, err := t.opt.Engine.Search(ctx, req)
	if err != nil {
		return nil, SearchOutput{}, t.toolError(op, err)
	}
	out := SearchOutput{Results: make([]Memory, 0, len(res.Results)), Relations: make([]Relation, 0, len(res.Relations))}
	for _, h := range res.Results {
		m := memory(h.Memory)
		m.Score = h.Score
		out.Results = append(out.Results, m)
	}
	for _, r := range res.Relations {
		out.Relations = append(out.Relations, relation(r))
	}
	return nil, out, nil
}

func (t *tools) list(ctx context.Context, _ *sdk.CallToolRequest, in ListInput) (*sdk.CallToolResult, ListOutput, error) {
	const op = "get_memories"
	f, err := filter(in.Filters)
	if err != nil {
		return nil, ListOutput{}, t.toolError(op, err)
	}
	page, err := t.opt.Store.ListMemories(ctx, t.scope(in.Scope).Select(f), graph.ListQuery{Limit: in.Limit, Cursor: in.Cursor,
		IncludeInvalid: in.IncludeInvalid, Filter: f})
	if err != nil {
		return nil, ListOutput{}, t.toolError(op, err)
	}
	out := ListOutput{Results: make([]Memory, 0, len(page.Items)), NextCursor: page.Next}
	for _, m := range page.Items {
		out.Results = append(out.Results, memory(m))
	}
	return nil, out, nil
}

func (t *tools) get(ctx context.Context, _ *sdk.CallToolRequest, in IDInput) (*sdk.CallToolResult, GetOutput, error) {
	const op = "get_memory"
	scope := graph.Scope{Tenant: t.key.Tenant}
	m, err := t.opt.Store.GetMemory(ctx, scope, in.ID)
	if err != nil {
		return nil, GetOutput{}, t.toolError(op, err)
	}
	evs, err := t.opt.Store.History(ctx, scope, in.ID)
	if err != nil {
		return nil, GetOutput{}, t.toolError(op, err)
	}
	out := GetOutput{Memory: memory(m), History: make([]Event, 0, len(evs))}
	for _, e := range evs {
		out.History = append(out.History, Event{Op: string(e.Op), Old: e.Old, New: e.New, At: e.At, Actor: e.ActorID})
	}
	return nil, out, nil
}

func (t *tools) update(ctx context.Context, _ *sdk.CallToolRequest, in UpdateInput) (*sdk.CallToolResult, Memory, error) {
	const op = "update_memory"
	if in.Text == nil && in.Metadata == nil {
		return nil, Memory{}, t.toolError(op, graph.InvalidFields(op, graph.FieldError{Path: "text", Message: "text or metadata is required"}))
	}
	patch := graph.MemoryPatch{Text: in.Text, IfVersion: in.IfVersion}
	if in.Metadata != nil {
		patch.Metadata = graph.NormalizeNumbers(in.Metadata).(map[string]any)
	}
	m, err := t.opt.Engine.Update(ctx, graph.Scope{Tenant: t.key.Tenant}, in.ID, patch, t.audit())
	if err != nil {
		return nil, Memory{}, t.toolError(op, err)
	}
	return nil, memory(m), nil
}

func (t *tools) delete(ctx context.Context, _ *sdk.CallToolRequest, in DeleteInput) (*sdk.CallToolResult, Deleted, error) {
	if err := t.opt.Store.DeleteMemory(ctx, graph.Scope{Tenant: t.key.Tenant}, in.ID, in.IfVersion, t.audit()); err != nil {
		return nil, Deleted{}, t.toolError("delete_memory", err)
	}
	return nil, Deleted{Deleted: 1, Message: "memory " + in.ID + " deleted"}, nil
}

func (t *tools) deleteAll(ctx context.Context, _ *sdk.CallToolRequest, in DeleteAllInput) (*sdk.CallToolResult, Deleted, error) {
	const op = "delete_all_memories"
	f, err := filter(in.Filters)
	if err != nil {
		return nil, Deleted{}, t.toolError(op, err)
	}
	scope, err := t.scope(in.Scope).SelectWhole(op, f)
	if err != nil {
		return nil, Deleted{}, t.toolError(op, err)
	}
	n, err := t.opt.Store.DeleteAll(ctx, scope, graph.DeleteOptions{Purge: in.Purge}, t.audit())
	if err != nil {
		return nil, Deleted{}, t.toolError(op, err)
	}
	return nil, Deleted{Deleted: n, Message: fmt.Sprintf("deleted %d memories and entities", n)}, nil
}

func (t *tools) entities(ctx context.Context, _ *sdk.CallToolRequest, in EntitiesInput) (*sdk.CallToolResult, EntitiesOutput, error) {
	es, err := t.opt.Store.Entities(ctx, t.scope(in.Scope), in.Limit)
	if err != nil {
		return nil, EntitiesOutput{}, t.toolError("list_entities", err)
	}
	out := EntitiesOutput{Results: make([]Entity, 0, len(es))}
	for _, e := range es {
		out.Results = append(out.Results, entity(e))
	}
	return nil, out, nil
}

func (t *tools) entity(ctx context.Context, _ *sdk.CallToolRequest, in IDInput) (*sdk.CallToolResult, EntityOutput, error) {
	const op = "get_entity"
	e, err := t.opt.Store.GetEntity(ctx, graph.Scope{Tenant: t.key.Tenant}, in.ID)
	if err != nil {
		return nil, EntityOutput{}, t.toolError(op, err)
	}
	rels, err := t.opt.Store.Relations(ctx, e.Scope, graph.RelationQuery{EntityID: e.ID, IncludeInvalid: true})
	if err != nil {
		return nil, EntityOutput{}, t.toolError(op, err)
	}
	out := EntityOutput{Entity: entity(e), Relations: make([]Relation, 0, len(rels))}
	for _, r := range rels {
		out.Relations = append(out.Relations, relation(r))
	}
	return nil, out, nil
}

func (t *tools) addRelation(ctx context.Context, _ *sdk.CallToolRequest, in RelationInput) (*sdk.CallToolResult, AddOutput, error) {
	triples := make([]graph.Triple, 0, len(in.Relations))
	for _, r := range in.Relations {
		triples = append(triples, graph.Triple{Source: r.Source, SourceType: r.SourceType, Relationship: r.Relationship,
			Target: r.Target, TargetType: r.TargetType})
	}
	res, err := t.opt.Engine.AddRelations(ctx, t.scope(in.Scope), triples, t.audit())
	if err != nil {
		return nil, AddOutput{}, t.toolError("add_relation", err)
	}
	return nil, addOutput(res), nil
}

func (t *tools) deleteEntity(ctx context.Context, _ *sdk.CallToolRequest, in IDInput) (*sdk.CallToolResult, Deleted, error) {
	n, err := t.opt.Store.DeleteEntity(ctx, graph.Scope{Tenant: t.key.Tenant}, in.ID, t.audit())
	if err != nil {
		return nil, Deleted{}, t.toolError("delete_entity", err)
	}
	return nil, Deleted{Deleted: 1 + n, Message: fmt.Sprintf("deleted the entity and %d relations", n)}, nil
}

func (t *tools) event(ctx context.Context, _ *sdk.CallToolRequest, in EventInput) (*sdk.CallToolResult, EventOutput, error) {
	j, err := t.opt.Store.GetJob(ctx, t.key.Tenant, in.EventID)
	if err != nil {
		return nil, EventOutput{}, t.toolError("get_event_status", err)
	}
	out := EventOutput{ID: j.ID, Status: string(j.Status), Attempts: j.Attempts, Error: j.Error}
	if j.Result != nil {
		r := addOutput(*j.Result)
		out.Result = &r
	}
	return nil, out, nil
}

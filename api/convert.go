package api

import (
	"errors"

	"github.com/go-playground/validator/v10"

	"github.com/neomem/neomem/graph"
)

// validate checks single values against validator tags (the wire types are
// generated, so rules are applied field by field where they are read).
var validate = validator.New(validator.WithRequiredStructEnabled())

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// memory converts a memory to its wire form (Mem0's shape: the text is
// "memory", scope ids promoted).
func memory(m graph.Memory) Memory {
	md := m.Metadata
	if md == nil {
		md = map[string]any{}
	}
	return Memory{
		Id: m.ID, Memory: m.Text, Hash: m.Hash, Metadata: md, Kind: MemoryKind(m.Kind),
		UserId: optional(m.Scope.UserID), AgentId: optional(m.Scope.AgentID), RunId: optional(m.Scope.RunID),
		ActorId: optional(m.ActorID), Role: optional(m.Role),
		CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt, ValidFrom: m.ValidFrom, InvalidAt: m.InvalidAt, ExpiresAt: m.ExpiresAt,
		Version: optional(int(m.Version)), Source: optionalSlice(m.Source),
	}
}

// optionalSlice is nil for an empty slice (the field is left out).
func optionalSlice[T any](xs []T) *[]T {
	if len(xs) == 0 {
		return nil
	}
	return &xs
}

func relation(r graph.Relation) Relation {
	out := Relation{
		Id: r.ID, Source: r.Source, SourceId: r.SourceID, Relationship: r.Type, Target: r.Target, TargetId: r.TargetID,
		ValidFrom: r.ValidFrom, InvalidAt: r.InvalidAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	if r.Mentions > 0 {
		n := int(r.Mentions)
		out.Mentions = &n
	}
	if len(r.MemoryIDs) > 0 {
		ids := append([]string(nil), r.MemoryIDs...)
		out.MemoryIds = &ids
	}
	return out
}

func entity(e graph.Entity) Entity {
	aliases := e.Aliases
	if aliases == nil {
		aliases = []string{}
	}
	return Entity{
		Id: e.ID, Name: e.Name, Key: e.Key, Type: optional(e.Type), Aliases: aliases, IsUser: e.IsUser, Mentions: int(e.Mentions),
		UserId: optional(e.Scope.UserID), AgentId: optional(e.Scope.AgentID), RunId: optional(e.Scope.RunID),
		CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt,
	}
}

func history(e graph.Event) HistoryEntry {
	return HistoryEntry{
		Id: e.ID, MemoryId: e.TargetID, Event: string(e.Op), OldMemory: optional(e.Old), NewMemory: optional(e.New),
		CreatedAt: e.At, ActorId: optional(e.ActorID), Role: optional(e.Role), RequestId: optional(e.RequestID),
	}
}

func relationChange(r graph.RelationResult) RelationChange {
	out := RelationChange{Id: r.ID, Source: r.Source, Relationship: r.Relationship, Target: r.Target}
	if r.Previous != nil {
		p := relationChange(*r.Previous)
		out.Previous = &p
	}
	return out
}

func addResponse(res graph.AddResult) AddResponse {
	var out AddResponse
	out.Results = make([]AddResult, 0, len(res.Results))
	for _, r := range res.Results {
		out.Results = append(out.Results, AddResult{Id: r.ID, Memory: r.Memory, Event: AddResultEvent(r.Event), PreviousMemory: optional(r.PreviousMemory)})
	}
	conv := func(in []graph.RelationResult) []RelationChange {
		out := make([]RelationChange, 0, len(in))
		for _, r := range in {
			out = append(out, relationChange(r))
		}
		return out
	}
	out.Relations.Added = conv(res.Relations.Added)
	out.Relations.Updated = conv(res.Relations.Updated)
	out.Relations.Invalidated = conv(res.Relations.Invalidated)
	if len(res.Relations.Rejected) > 0 {
		rej := make([]RejectedRelation, 0, len(res.Relations.Rejected))
		for _, r := range res.Relations.Rejected {
			rej = append(rej, RejectedRelation{Source: r.Source, Relationship: r.Relationship, Target: r.Target, Reason: r.Reason})
		}
		out.Relations.Rejected = &rej
	}
	if len(res.Relations.RejectedLabels) > 0 {
		labels := append([]string(nil), res.Relations.RejectedLabels...)
		out.Relations.RejectedLabels = &labels
	}
	out.Usage.LlmCalls, out.Usage.PromptTokens = res.Usage.LLMCalls, res.Usage.PromptTokens
	out.Usage.CompletionTokens, out.Usage.EmbeddingCalls = res.Usage.CompletionTokens, res.Usage.EmbeddingCalls
	return out
}

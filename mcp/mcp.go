// Package mcp serves neomem's memory to agents over the Model Context
// Protocol: twelve tools (add, search, list, get, update and delete
// memories; list, get, relate and delete entities; the status of an
// asynchronous add) over the same engine and store the REST API uses.
//
// Every server acts as one API key and so in one tenant: over HTTP
// (Handler, stateless streamable HTTP mounted by the API behind its
// API-key authentication) the key comes from the request's context; over
// standard input and output (`neomem mcp`) the command authenticates the
// key it is given before it serves. Tools report bad input, missing items
// and unavailable dependencies as tool errors whose text says what is wrong;
// an unexpected failure is reported without internals.
package mcp

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/neomem/neomem/graph"
)

// Engine runs adds, searches and updates (which need the models). Methods
// return graph error kinds and are safe for concurrent use.
type Engine interface {
	Add(ctx context.Context, req graph.AddRequest) (graph.AddResult, error)
	Enqueue(ctx context.Context, req graph.AddRequest) (graph.Job, error)
	Search(ctx context.Context, req graph.SearchRequest) (graph.SearchResponse, error)
	Update(ctx context.Context, scope graph.Scope, id string, patch graph.MemoryPatch, audit graph.Audit) (graph.Memory, error)
	AddRelations(ctx context.Context, scope graph.Scope, triples []graph.Triple, audit graph.Audit) (graph.AddResult, error)
}

// Store is the system of record's reads and deletes. Methods return graph
// error kinds and are safe for concurrent use.
type Store interface {
	GetMemory(ctx context.Context, scope graph.Scope, id string) (graph.Memory, error)
	ListMemories(ctx context.Context, scope graph.Scope, q graph.ListQuery) (graph.Page[graph.Memory], error)
	DeleteMemory(ctx context.Context, scope graph.Scope, id string, ifVersion int64, audit graph.Audit) error
	DeleteAll(ctx context.Context, scope graph.Scope, opt graph.DeleteOptions, audit graph.Audit) (int, error)
	History(ctx context.Context, scope graph.Scope, id string) ([]graph.Event, error)
	Entities(ctx context.Context, scope graph.Scope, limit int) ([]graph.Entity, error)
	GetEntity(ctx context.Context, scope graph.Scope, id string) (graph.Entity, error)
	DeleteEntity(ctx context.Context, scope graph.Scope, id string, audit graph.Audit) (int, error)
	Relations(ctx context.Context, scope graph.Scope, q graph.RelationQuery) ([]graph.Relation, error)
	GetJob(ctx context.Context, tenant, id string) (graph.Job, error)
}

// Options configures the MCP servers.
type Options struct {
	Engine Engine
	Store  Store
	// Version is the server version reported to clients.
	Version string
	// Logger logs unexpected tool failures (nil: discarded).
	Logger *slog.Logger
}

// schemas caches the tools' JSON schemas across the per-request servers of
// Handler.
var schemas = sdk.NewSchemaCache()

// NewServer returns an MCP server whose tools act as key: in its tenant,
// with its id as the actor of every change.
func NewServer(opt Options, key graph.APIKey) *sdk.Server {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	s := sdk.NewServer(&sdk.Implementation{Name: "neomem", Title: "neomem memory", Version: opt.Version}, &sdk.ServerOptions{
		Instructions: instructions,
		SchemaCache:  schemas,
	})
	t := &tools{opt: opt, key: key}
	t.register(s)
	return s
}

// Handler serves MCP over stateless streamable HTTP. Each request acts as
// the API key its context carries (graph.ContextWithKey, set by the API's
// authentication); a request without one is refused.
func Handler(opt Options) http.Handler {
	return sdk.NewStreamableHTTPHandler(func(r *http.Request) *sdk.Server {
		key, ok := graph.KeyFromContext(r.Context())
		if !ok {
			return nil
		}
		return NewServer(opt, key)
	}, &sdk.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
}

// instructions tell an agent what the server is for.
const instructions = `neomem is a long-term memory. Before answering a user, call search_memories with what you need to know; after a conversation turn worth keeping, call add_memory with the turn (infer=true lets neomem extract durable facts, entities and relations and decide whether each is new, an update or a contradiction). Every call names whose memory it touches: user_id, agent_id and/or run_id.`

// toolError turns an error into what the agent reads: the kind and what is
// wrong for the caller's mistakes and retryable failures, nothing internal
// otherwise.
func (t *tools) toolError(op string, err error) error {
	switch graph.KindOf(err) {
	case graph.Invalid, graph.NotFound, graph.Conflict, graph.Stale:
		return err
	case graph.Unavailable:
		return errors.New(op + ": temporarily unavailable (Neo4j or the model); retry later")
	}
	t.opt.Logger.Error("mcp tool failed", "tool", op, "tenant", t.key.Tenant, "err", err)
	return errors.New(op + ": internal error")
}

// Package memory is neomem's engine: the add pipeline (at most two LLM calls
// and one write transaction per add, under a heartbeated scope lease), the
// search pipeline (one embedding, one Cypher query), updates, and the
// workers that run asynchronous adds. It is the only package that combines
// entities and relations, and it declares the Store and JobQueue it needs;
// cypher.Store implements both.
package memory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/llm"
	"github.com/neomem/neomem/vector"
)

// Store is what the engine needs from the system of record. Methods return
// graph error kinds and are safe for concurrent use.
type Store interface {
	// CreateMemories stores memories (infer=false, procedural) in one
	// transaction.
	CreateMemories(ctx context.Context, mems []graph.Memory, audit graph.Audit) ([]graph.Memory, error)
	// Candidates answers everything an add's decision needs in one read.
	Candidates(ctx context.Context, q graph.CandidateQuery) (graph.Candidates, error)
	// AcquireLease takes the scope's lock (held in the database, so it holds
	// across server processes), waiting up to wait; Unavailable when busy.
	AcquireLease(ctx context.Context, scope graph.Scope, holder string, ttl, wait time.Duration) (graph.Lease, error)
	// RenewLease extends a lease that is still held (the heartbeat);
	// Conflict when it is lost.
	RenewLease(ctx context.Context, lease graph.Lease, ttl time.Duration) (graph.Lease, error)
	// ReleaseLease frees the lock if the lease still holds it.
	ReleaseLease(ctx context.Context, lease graph.Lease) error
	// Apply writes a plan in one transaction after checking the lease.
	Apply(ctx context.Context, plan graph.Plan, lease graph.Lease) error
	// Search answers one search in one query.
	Search(ctx context.Context, q graph.SearchRequest) (graph.SearchResponse, error)
	// UpdateMemory changes a memory in place, recording an UPDATE event.
	UpdateMemory(ctx context.Context, scope graph.Scope, id string, p graph.MemoryPatch, audit graph.Audit) (graph.Memory, error)
	// EnqueueJob stores an asynchronous add as a job.
	EnqueueJob(ctx context.Context, req graph.AddRequest, maxAttempts int, audit graph.Audit) (graph.Job, error)
	// UpdateMemories applies several updates in one transaction.
	UpdateMemories(ctx context.Context, scope graph.Scope, changes []graph.MemoryChange, audit graph.Audit) ([]graph.Memory, error)
}

// Config tunes the engine; zero values take the defaults.
type Config struct {
	// Instructions are the deployment's custom instructions, added to every
	// extraction prompt (a request's own prompt comes after them).
	Instructions string
	// Scores are Neo4j's vector similarity, (1 + cosine) / 2, in [0, 1].
	//
	// MemoryCandidates is how many similar memories per new fact the
	// decision sees (default 5), with a score of at least MemoryMinScore
	// (default 0.7, a cosine of 0.4).
	MemoryCandidates int
	MemoryMinScore   float64
	// EntityCandidates is how many similar entities per mention the store
	// returns (default 3); EntityMinScore is the score at or above which a
	// differently written name is the same entity (default 0.95, a cosine
	// of 0.9).
	EntityCandidates int
	EntityMinScore   float64
	// RelationLimit bounds the existing relations shown to a decision and
	// returned by a search (default 50).
	RelationLimit int
	// Fusion weighs the vector and the full-text rankings of a search
	// (zero: vector.DefaultFusion, equal weights).
	Fusion vector.Fusion
	// LeaseTTL is how long a scope's lock outlives its holder's last
	// heartbeat (default 20s): an add renews it every LeaseTTL/4 while it
	// works, so a live add keeps it however long its model calls take, and
	// the lock of a crashed server lapses at most LeaseTTL after its last
	// renewal. LeaseWait is how long an add waits for a busy lock (default
	// 90s, under the API's request time-out).
	LeaseTTL  time.Duration
	LeaseWait time.Duration
	// JobAttempts bounds the runs of an asynchronous add whose model or
	// store was unavailable before it is FAILED (default 5).
	JobAttempts int
	// Holder names this engine in scope locks and job claims (default
	// "engine-<random id>"); a server sets its host and process id, so an
	// operator sees which process holds a lock.
	Holder string
	// QueryCache is how many query vectors Search keeps, so a repeated
	// query is not embedded again (default vector.DefaultQueryCache;
	// negative: none).
	QueryCache int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (c *Config) defaults() {
	if c.MemoryCandidates <= 0 {
		c.MemoryCandidates = 5
	}
	if c.MemoryMinScore == 0 {
		c.MemoryMinScore = 0.7
	}
	if c.EntityCandidates <= 0 {
		c.EntityCandidates = 3
	}
	if c.EntityMinScore == 0 {
		c.EntityMinScore = 0.95
	}
	if c.RelationLimit <= 0 {
		c.RelationLimit = graph.DefaultRelations
	}

	if c.LeaseTTL <= 0 {
		c.LeaseTTL = DefaultLeaseTTL
	}
	if c.LeaseWait <= 0 {
		c.LeaseWait = 90 * time.Second
	}
	if c.JobAttempts <= 0 {
		c.JobAttempts = 5
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.QueryCache == 0 {
		c.QueryCache = vector.DefaultQueryCache
	}
}

// Engine runs the add pipeline. Safe for concurrent use.
type Engine struct {
	store  Store
	emb    vector.Embedder
	chat   llm.ChatModel
	vision llm.ChatModel
	cfg    Config
	// holder names this engine in scope locks.
	holder string
	// queries keeps the vectors of recent search queries (nil: none); the
	// engine has one embedder, so the cache is that embedder's.
	queries *vector.Cache
}

// Models are the engine's model seams. Chat may be nil (then only
// infer=false adds work); Vision may be nil (then images are an error).
type Models struct {
	Embedder vector.Embedder
	Chat     llm.ChatModel
	Vision   llm.ChatModel
}

// New returns an engine over store and models.
func New(store Store, m Models, cfg Config) (*Engine, error) {
	if store == nil || m.Embedder == nil {
		return nil, errors.New("memory: a store and an embedder are required")
	}
	cfg.defaults()
	var err error
	if cfg.Fusion, err = cfg.Fusion.WithDefaults(); err != nil {
		return nil, fmt.Errorf("memory: %w", err)
	}
	for _, sc := range []struct {
		name string
		v    float64
	}{{"MemoryMinScore", cfg.MemoryMinScore}, {"EntityMinScore", cfg.EntityMinScore}} {
		if sc.v < 0 || sc.v > 1 {
			return nil, fmt.Errorf("memory: %s %v is not a similarity score in [0, 1]", sc.name, sc.v)
		}
	}
	holder := cfg.Holder
	if holder == "" {
		holder = "engine-" + graph.NewID()
	}
	return &Engine{store: store, emb: m.Embedder, chat: m.Chat, vision: m.Vision, cfg: cfg, holder: holder,
		queries: vector.NewCache(cfg.QueryCache)}, nil
}

// countChat adds one chat call's usage.
func countChat(u *graph.Usage, r llm.Response) {
	u.LLMCalls++
	u.PromptTokens += r.Usage.PromptTokens
	u.CompletionTokens += r.Usage.CompletionTokens
}

// Add stores what the messages say. With Infer, one extraction call and (when
// there is anything existing to compare with) one decision call, one
// embedding batch, one candidate read and one write transaction; the scope's
// lock serialises adds for the same scope. Errors: Invalid (the request, or
// infer=true without a chat model), Unavailable (a model or Neo4j, or a
// model reply that stayed unusable after one retry), Conflict (the lock was
// lost).
func (e *Engine) Add(ctx context.Context, req graph.AddRequest) (graph.AddResult, error) {
	const op = "add"
	if err := e.validate(req); err != nil {
		return graph.AddResult{}, err
	}
	var res graph.AddResult
	msgs, err := e.describeImages(ctx, req.Messages, &res.Usage)
	if err != nil {
		return graph.AddResult{}, err
	}
	switch {
	case req.MemoryType == graph.TypeProcedural:
		err = e.addProcedural(ctx, req, msgs, &res)
	case req.Infer:
		err = e.addInferred(ctx, req, msgs, &res)
	default:
		err = e.addRaw(ctx, req, msgs, &res)
	}
	if err != nil {
		return graph.AddResult{}, wrapOnce(op, err)
	}
	finish(&res)
	return res, nil
}

// Enqueue checks an add as Add does and stores it as a job (with its raw
// messages) for the workers (RunWorkers); the job's id is the event id
// clients poll. Errors: Invalid, Conflict (graph.IsDone for a used
// idempotency key), Unavailable.
func (e *Engine) Enqueue(ctx context.Context, req graph.AddRequest) (graph.Job, error) {
	if err := e.validate(req); err != nil {
		return graph.Job{}, err
	}
	return e.store.EnqueueJob(ctx, req, e.cfg.JobAttempts, req.Audit)
}

func (e *Engine) validate(req graph.AddRequest) error {
	const op = "add"
	if err := req.Scope.ValidateSelector(op); err != nil {
		return err
	}
	var bad []graph.FieldError
	if len(req.Messages) == 0 {
		bad = append(bad, graph.FieldError{Path: "messages", Message: "at least one message is required"})
	}
	hasContent := false
	for i, m := range req.Messages {
		switch m.Role {
		case "user", "assistant", "system":
		default:
			bad = append(bad, graph.FieldError{Path: fmt.Sprintf("messages[%d].role", i), Message: "must be user, assistant or system"})
		}
		if m.Content != "" || len(m.Images) > 0 {
			if m.Role != "system" {
				hasContent = true
			}
		}
		if len(m.Content) > graph.MaxMemoryText {
			bad = append(bad, graph.FieldError{Path: fmt.Sprintf("messages[%d].content", i), Message: "is longer than 65536 bytes"})
		}
		if m.Metadata != nil {
			if req.Infer || req.MemoryType == graph.TypeProcedural {
				bad = append(bad, graph.FieldError{Path: fmt.Sprintf("messages[%d].metadata", i),
					Message: "is for infer=false adds (each message becomes one memory); an inferred fact comes from several messages: give shared metadata at the top level"})
			}
			for _, fe := range graph.FieldsOf(graph.CheckMetadata(op, m.Metadata)) {
				fe.Path = fmt.Sprintf("messages[%d].%s", i, fe.Path)
				bad = append(bad, fe)
			}
		}
	}
	if len(req.Messages) > 0 && !hasContent {
		bad = append(bad, graph.FieldError{Path: "messages", Message: "no user or assistant message has content"})
	}
	switch req.MemoryType {
	case graph.TypeDefault:
	case graph.TypeProcedural:
		if req.Scope.AgentID == "" {
			bad = append(bad, graph.FieldError{Path: "agent_id", Message: "procedural memory needs an agent_id"})
		}
	default:
		bad = append(bad, graph.FieldError{Path: "memory_type", Message: "must be empty or procedural"})
	}
	bad = append(bad, graph.FieldsOf(graph.CheckMetadata(op, req.Metadata))...)
	if req.At != nil && (req.At.Before(time.Unix(0, 0)) || req.At.After(e.cfg.Now().Add(graph.MaxFutureAt))) {
		bad = append(bad, graph.FieldError{Path: "timestamp", Message: "must be Unix seconds from 0 (1970) to now (a day of clock difference allowed): when the messages were said"})
	}
	if (req.Infer || req.MemoryType == graph.TypeProcedural) && e.chat == nil {
		bad = append(bad, graph.FieldError{Path: "infer", Message: "needs a chat model: set NEOMEM_LLM_PROVIDER or a provider key (GEMINI_API_KEY, OPENAI_API_KEY, ANTHROPIC_API_KEY), or add with infer=false"})
	}
	if len(bad) > 0 {
		return graph.InvalidFields(op, bad...)
	}
	return nil
}

// wrapOnce adds the operation to an error that has no graph kind yet.
func wrapOnce(op string, err error) error {
	var ge *graph.Error
	if errors.As(err, &ge) {
		return err
	}
	if _, ok := llm.AsProviderError(err); ok {
		return err
	}
	return graph.Wrap(graph.KindOf(err), op, err)
}

// embed embeds texts in one call, counting it.
func (e *Engine) embed(ctx context.Context, texts []string, u *graph.Usage) ([][]float32, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	u.EmbeddingCalls++
	vs, err := e.emb.Embed(ctx, texts)
	if err != nil {
		return nil, fmt.Errorf("embed: %w", err)
	}
	if err := vector.CheckBatch("embed", vs, len(texts), e.emb.Dimensions()); err != nil {
		return nil, err
	}
	return vs, nil
}

// addRaw stores every non-system message as a raw memory: one embedding
// batch, one transaction, no model call.
func (e *Engine) addRaw(ctx context.Context, req graph.AddRequest, msgs []graph.Message, res *graph.AddResult) error {
	var mems []graph.Memory
	var texts []string
	for _, m := range msgs {
		if m.Role == "system" || m.Content == "" {
			continue
		}
		mems = append(mems, graph.Memory{ID: graph.NewID(), Scope: req.Scope, ActorID: m.Name, Role: m.Role, Text: m.Content,
			Kind: graph.KindRaw, Metadata: mergeMetadata(req.Metadata, m.Metadata), Source: req.Sources(), CreatedAt: req.Said()})
		texts = append(texts, m.Content)
	}
	vs, err := e.embed(ctx, texts, &res.Usage)
	if err != nil {
		return err
	}
	for i, m := range mems {
		mems[i].Embedding = vs[i]
		res.Results = append(res.Results, graph.Result{ID: m.ID, Memory: m.Text, Event: graph.EventAdd})
	}
	audit, err := recordable(req.Audit, *res)
	if err != nil {
		return err
	}
	_, err = e.store.CreateMemories(ctx, mems, audit)
	return err
}

// mergeMetadata is the request's metadata with a message's own keys over
// it; nil maps when neither has any.
func mergeMetadata(shared, own map[string]any) map[string]any {
	if len(own) == 0 {
		return shared
	}
	out := make(map[string]any, len(shared)+len(own))
	maps.Copy(out, shared)
	maps.Copy(out, own)
	return out
}

// finish gives a result's lists their empty value instead of nil, so every
// answer (and every recorded one) has the same shape.
func finish(res *graph.AddResult) {
	if res.Results == nil {
		res.Results = []graph.Result{}
	}
	if res.Relations.Added == nil {
		res.Relations.Added = []graph.RelationResult{}
	}
	if res.Relations.Updated == nil {
		res.Relations.Updated = []graph.RelationResult{}
	}
	if res.Relations.Invalidated == nil {
		res.Relations.Invalidated = []graph.RelationResult{}
	}
}

// recordable returns audit whose Once (if any) records res, finished, as
// the write's result: the answer a retry with the same idempotency key gets.
// The caller's Once is not changed.
func recordable(audit graph.Audit, res graph.AddResult) (graph.Audit, error) {
	if audit.Once == nil {
		return audit, nil
	}
	finish(&res)
	b, err := json.Marshal(res)
	if err != nil {
		return audit, graph.Wrap(graph.Other, "record add result", err)
	}
	o := *audit.Once
	o.Result = b
	audit.Once = &o
	return audit, nil
}

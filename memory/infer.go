package memory

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/neomem/neomem/entities"
	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/llm"
	"github.com/neomem/neomem/prompts"
	"github.com/neomem/neomem/relations"
)

// addInferred is the infer=true pipeline: extract (LLM call 1), embed and
// read candidates under the scope's lock, decide (LLM call 2, skipped when
// there is nothing existing to compare with), apply in one transaction.
func (e *Engine) addInferred(ctx context.Context, req graph.AddRequest, msgs []graph.Message, res *graph.AddResult) (err error) {
	now := e.cfg.Now().UTC()
	// The model resolves relative dates from when the messages were said.
	said := cmp.Or(req.Said(), now)
	ex, err := e.extract(ctx, req, msgs, said, &res.Usage)
	if err != nil {
		return err
	}
	if len(ex.Facts) == 0 && len(ex.Relations) == 0 {
		return nil
	}
	a := newAddition(req, ex)

	// One embedding batch: the facts and the entity names.
	mentions := a.ents.Mentions()
	texts := make([]string, 0, len(ex.Facts)+len(mentions))
	for _, f := range ex.Facts {
		texts = append(texts, f.Text)
	}
	for _, m := range mentions {
		texts = append(texts, m.Name)
	}
	vs, err := e.embed(ctx, texts, &res.Usage)
	if err != nil {
		return err
	}
	a.factVectors = vs[:len(ex.Facts)]
	a.ents.SetVectors(vs[len(ex.Facts):])

	// Everything from the candidate read to the write happens under the
	// scope's lock, so no other add decides on the same state meanwhile.
	holder := e.holder + "/" + graph.NewID()
	ctx, lease, release, err := e.hold(ctx, req.Scope, holder)
	if err != nil {
		return err
	}
	defer release()
	defer func() { err = lostLease(ctx, err) }()

	cands, err := e.store.Candidates(ctx, a.query(e.cfg))
	if err != nil {
		return err
	}
	a.ents.Resolve(cands.Entities, cands.Relations, e.cfg.EntityMinScore)

	var dec prompts.Decision
	if len(cands.Memories) == 0 && len(cands.Relations) == 0 {
		dec = a.addEverything()
	} else if dec, err = e.decide(ctx, req, a, cands, said, &res.Usage); err != nil {
		return err
	}

	plan, err := a.plan(dec, cands, now)
	if err != nil {
		return err
	}
	// Texts the model rewrote and entities it named anew need vectors: one
	// more embedding batch, still outside any transaction.
	if err := e.embedMissing(ctx, &plan, &res.Usage); err != nil {
		return err
	}
	a.report(res)
	if plan.Audit, err = recordable(plan.Audit, *res); err != nil {
		return err
	}
	return e.store.Apply(ctx, plan, lease)
}

// extract is LLM call 1: one forced tool call returning facts, entities and
// relations. now is when the messages were said (relative dates in them
// count from it).
func (e *Engine) extract(ctx context.Context, req graph.AddRequest, msgs []graph.Message, now time.Time, u *graph.Usage) (prompts.Extraction, error) {
	system, user, err := prompts.Extract(prompts.ExtractData{
		Today:        now.Format("2006-01-02"),
		UserName:     userName(req.Scope),
		AgentName:    req.Scope.AgentID,
		Messages:     promptMessages(msgs),
		Instructions: e.instructions(req),
	})
	if err != nil {
		return prompts.Extraction{}, err
	}
	tool := prompts.ExtractTool()
	var ex prompts.Extraction
	err = e.chatParsed(ctx, llm.Request{
		Messages:   []llm.Message{{Role: llm.RoleSystem, Content: system}, {Role: llm.RoleUser, Content: user}},
		Tools:      toolsOf(tool),
		ToolChoice: llm.ToolChoice{Mode: llm.ToolForce, Name: tool.Name},
	}, u, func(r llm.Response) error {
		if len(r.ToolCalls) != 1 || r.ToolCalls[0].Name != tool.Name {
			return graph.InvalidFields("extraction", graph.FieldError{Path: "tool_calls",
				Message: fmt.Sprintf("call %s exactly once", tool.Name)})
		}
		var perr error
		ex, perr = prompts.ParseExtraction(r.ToolCalls[0].Arguments)
		return perr
	})
	return ex, err
}

// decide is LLM call 2: the model names, by short ids, what to do with each
// new fact and relation against the existing candidates.
func (e *Engine) decide(ctx context.Context, req graph.AddRequest, a *addition, cands graph.Candidates, now time.Time, u *graph.Usage) (prompts.Decision, error) {
	data := prompts.DecideData{Today: now.Format("2006-01-02"), UserName: userName(req.Scope), Instructions: e.instructions(req)}
	known := prompts.KnownIDs(len(a.ex.Facts), len(cands.Memories), len(cands.Relations))
	for i, f := range a.ex.Facts {
		data.Facts = append(data.Facts, prompts.Item{ID: known.Facts[i], Text: f.Text})
	}
	for i, m := range cands.Memories {
		data.Memories = append(data.Memories, prompts.Item{ID: known.Memories[i], Text: m.Text})
	}
	for i, m := range a.ents.Mentions() {
		data.Entities = append(data.Entities, prompts.EntityItem{Name: m.Name, Type: m.Type, Existing: a.ents.Existing(i)})
	}
	for _, r := range a.ex.Relations {
		data.NewRelations = append(data.NewRelations, prompts.RelationItem{Source: a.ents.Display(r.Source), Relationship: r.Relationship, Target: a.ents.Display(r.Target)})
	}
	for i, r := range cands.Relations {
		data.Relations = append(data.Relations, prompts.RelationItem{ID: known.Relations[i], Source: r.Source, Relationship: r.Type, Target: r.Target})
	}
	system, user, err := prompts.Decide(data)
	if err != nil {
		return prompts.Decision{}, err
	}
	var dec prompts.Decision
	err = e.chatParsed(ctx, llm.Request{
		Messages:   []llm.Message{{Role: llm.RoleSystem, Content: system}, {Role: llm.RoleUser, Content: user}},
		Tools:      toolsOf(prompts.DecisionTools()...),
		ToolChoice: llm.ToolChoice{Mode: llm.ToolRequired},
	}, u, func(r llm.Response) error {
		var perr error
		if dec, perr = prompts.ParseDecision(callsOf(r), known); perr != nil {
			return perr
		}
		if bad := relations.CheckEnds(dec.Relations, a.ents.Endpoint); len(bad) > 0 {
			return graph.InvalidFields("decision", bad...)
		}
		return nil
	})
	return dec, err
}

// embedMissing embeds, in one call, the plan's new memories and entities
// that have no vector yet.
func (e *Engine) embedMissing(ctx context.Context, plan *graph.Plan, u *graph.Usage) error {
	var texts []string
	var targets []*[]float32
	for i := range plan.Memories {
		m := &plan.Memories[i]
		if m.Op != graph.OpDelete && m.Memory.Embedding == nil {
			texts = append(texts, m.Memory.Text)
			targets = append(targets, &m.Memory.Embedding)
		}
	}
	for i := range plan.Entities {
		en := &plan.Entities[i]
		if en.New && en.Embedding == nil {
			texts = append(texts, en.Name)
			targets = append(targets, &en.Embedding)
		}
	}
	vs, err := e.embed(ctx, texts, u)
	if err != nil {
		return err
	}
	for i, v := range vs {
		*targets[i] = v
	}
	return nil
}

// userName is how prompts name the user: the user id, else the agent's.
func userName(s graph.Scope) string {
	if s.UserID != "" {
		return s.UserID
	}
	if s.AgentID != "" {
		return s.AgentID
	}
	return "the user"
}

// addition carries one add's state from extraction to the plan.
type addition struct {
	req         graph.AddRequest
	ex          prompts.Extraction
	ents        *entities.Set
	factVectors [][]float32
	results     []graph.Result
	relations   graph.Relations
}

// newAddition gathers the entity names the extraction mentions: those it
// listed, and those facts and relations use without listing them (without a
// type).
func newAddition(req graph.AddRequest, ex prompts.Extraction) *addition {
	var names []entities.Name
	for _, en := range ex.Entities {
		names = append(names, entities.Name{Name: en.Name, Type: en.Type})
	}
	for _, f := range ex.Facts {
		for _, n := range f.Entities {
			names = append(names, entities.Name{Name: n})
		}
	}
	for _, r := range ex.Relations {
		names = append(names, entities.Name{Name: r.Source}, entities.Name{Name: r.Target})
	}
	return &addition{req: req, ex: ex, ents: entities.NewSet(req.Scope, ex.UserName, names)}
}

func (a *addition) query(cfg Config) graph.CandidateQuery {
	return graph.CandidateQuery{
		Scope: a.req.Scope, FactVectors: a.factVectors, Entities: a.ents.Probes(),
		MemoryLimit: cfg.MemoryCandidates, MemoryMinScore: cfg.MemoryMinScore,
		EntityLimit: cfg.EntityCandidates, EntityMinScore: cfg.EntityMinScore * 0.9,
		RelationLimit: cfg.RelationLimit,
	}
}

// addEverything is the decision when nothing similar exists: every fact and
// every relation is new (and no model call is needed to say so).
func (a *addition) addEverything() prompts.Decision {
	var d prompts.Decision
	for i, f := range a.ex.Facts {
		d.Memories = append(d.Memories, prompts.MemoryDecision{Op: graph.OpAdd, Text: f.Text, Fact: prompts.FactID(i)})
	}
	for _, r := range a.ex.Relations {
		d.Relations = append(d.Relations, prompts.RelationDecision{Op: graph.OpAdd, Source: r.Source, Relationship: r.Relationship, Target: r.Target})
	}
	return d
}

// plan turns the decision into the write plan and the add's result: the
// memories (planFacts), the relations (relations.Plan) and the entities
// they use (entities.Set).
func (a *addition) plan(dec prompts.Decision, cands graph.Candidates, now time.Time) (graph.Plan, error) {
	plan := graph.Plan{Scope: a.req.Scope, Audit: a.req.Audit, At: now, SaidAt: a.req.Said()}
	var newIDs []string
	plan.Memories, newIDs = a.planFacts(dec, cands, now)
	var rels graph.Relations
	plan.Relations, rels = relations.Plan(dec.Relations, cands.Relations, a.ents.Endpoint, newIDs)
	for _, op := range plan.Relations {
		if op.Op != graph.OpDelete {
			a.ents.Use(op.Relation.SourceID)
			a.ents.Use(op.Relation.TargetID)
		}
	}
	a.relations.Added, a.relations.Updated, a.relations.Invalidated = rels.Added, rels.Updated, rels.Invalidated
	a.relations.Rejected = append(a.relations.Rejected, rels.Rejected...)
	plan.Entities = a.ents.Upserts()
	a.relations.RejectedLabels = a.ents.RejectedLabels()
	return plan, nil
}

// report fills the add's result.
func (a *addition) report(res *graph.AddResult) {
	res.Results = append(res.Results, a.results...)
	res.Relations = a.relations
	finish(res)
}

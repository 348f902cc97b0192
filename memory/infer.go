package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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
	ex, err := e.extract(ctx, req, msgs, now, &res.Usage)
	if err != nil {
		return err
	}
	if len(ex.Facts) == 0 && len(ex.Relations) == 0 {
		return nil
	}
	a := newAddition(req, ex)

	// One embedding batch: the facts and the entity names.
	texts := make([]string, 0, len(ex.Facts)+len(a.mentions))
	for _, f := range ex.Facts {
		texts = append(texts, f.Text)
	}
	for _, m := range a.mentions {
		texts = append(texts, m.Name)
	}
	vs, err := e.embed(ctx, texts, &res.Usage)
	if err != nil {
		return err
	}
	a.factVectors = vs[:len(ex.Facts)]
	a.mentionVectors = vs[len(ex.Facts):]

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
	a.resolve(cands, e.cfg.EntityMinScore)

	var dec prompts.Decision
	if len(cands.Memories) == 0 && len(cands.Relations) == 0 {
		dec = a.addEverything()
	} else if dec, err = e.decide(ctx, req, a, cands, now, &res.Usage); err != nil {
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
// relations.
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
	known := prompts.Known{}
	for i, f := range a.ex.Facts {
		id := fmt.Sprintf("F%d", i+1)
		data.Facts = append(data.Facts, prompts.Item{ID: id, Text: f.Text})
		known.Facts = append(known.Facts, id)
	}
	for i, m := range cands.Memories {
		id := fmt.Sprintf("M%d", i+1)
		data.Memories = append(data.Memories, prompts.Item{ID: id, Text: m.Text})
		known.Memories = append(known.Memories, id)
	}
	for i, m := range a.mentions {
		data.Entities = append(data.Entities, prompts.EntityItem{Name: m.Name, Type: m.Type, Existing: a.entities[i].ID != "" && !a.isNew[i]})
	}
	for _, r := range a.ex.Relations {
		data.NewRelations = append(data.NewRelations, prompts.RelationItem{Source: a.displayName(r.Source), Relationship: r.Relationship, Target: a.displayName(r.Target)})
	}
	for i, r := range cands.Relations {
		id := fmt.Sprintf("R%d", i+1)
		data.Relations = append(data.Relations, prompts.RelationItem{ID: id, Source: r.Source, Relationship: r.Type, Target: r.Target})
		known.Relations = append(known.Relations, id)
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
		return a.checkNames(dec, cands)
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
	req      graph.AddRequest
	ex       prompts.Extraction
	user     entities.User
	mentions []entities.Mention
	// byName maps an entity key (of any extracted name) to a mention index.
	byName         map[string]int
	factVectors    [][]float32
	mentionVectors [][]float32
	// entities[i] is the resolved entity of mentions[i]; isNew[i] when the
	// add creates it.
	entities       []graph.Entity
	isNew          []bool
	rejectedLabels []string

	results   []graph.Result
	relations graph.Relations
}

func newAddition(req graph.AddRequest, ex prompts.Extraction) *addition {
	a := &addition{req: req, ex: ex, user: entities.User{ID: req.Scope.UserID, Name: ex.UserName}, byName: map[string]int{}}
	var names, types []string
	add := func(n, t string) {
		names = append(names, n)
		types = append(types, t)
	}
	for _, en := range ex.Entities {
		add(en.Name, en.Type)
	}
	// Names used by facts and relations but not listed as entities are
	// entities too (without a type).
	for _, f := range ex.Facts {
		for _, n := range f.Entities {
			add(n, "")
		}
	}
	for _, r := range ex.Relations {
		add(r.Source, "")
		add(r.Target, "")
	}
	if a.user.Name != "" {
		add(a.user.Name, "Person")
	}
	if a.user.ID != "" {
		// The user is always a candidate, so "I" in the decision resolves to
		// the user's existing entity even when extraction did not name them.
		add(a.user.ID, "Person")
	}
	a.mentions, a.rejectedLabels = entities.Fold(names, types, a.user)
	for i, m := range a.mentions {
		for _, n := range m.Names {
			a.byName[graph.EntityKey(n)] = i
		}
		a.byName[m.Key] = i
	}
	return a
}

// mentionOf finds the mention an extracted or model-given name refers to.
func (a *addition) mentionOf(name string) (int, bool) {
	if a.user.Is(name) {
		for i, m := range a.mentions {
			if m.IsUser {
				return i, true
			}
		}
	}
	i, ok := a.byName[graph.EntityKey(name)]
	return i, ok
}

func (a *addition) displayName(name string) string {
	if i, ok := a.mentionOf(name); ok {
		return a.mentions[i].Name
	}
	return name
}

func (a *addition) query(cfg Config) graph.CandidateQuery {
	q := graph.CandidateQuery{
		Scope: a.req.Scope, FactVectors: a.factVectors,
		MemoryLimit: cfg.MemoryCandidates, MemoryMinScore: cfg.MemoryMinScore,
		EntityLimit: cfg.EntityCandidates, EntityMinScore: cfg.EntityMinScore * 0.9,
		RelationLimit: cfg.RelationLimit,
	}
	for i, m := range a.mentions {
		keys := []string{m.Key}
		if m.IsUser {
			keys = append(a.user.Keys(), m.Key)
		}
		q.Entities = append(q.Entities, graph.EntityProbe{Keys: keys, Vector: a.mentionVectors[i]})
	}
	return q
}

// resolve decides, for every mention, the existing entity it is or a new one.
func (a *addition) resolve(cands graph.Candidates, minScore float64) {
	a.entities = make([]graph.Entity, len(a.mentions))
	a.isNew = make([]bool, len(a.mentions))
	for i, m := range a.mentions {
		var list []graph.ScoredEntity
		if i < len(cands.Entities) {
			list = cands.Entities[i]
		}
		if ent, ok := entities.Resolve(m, list, minScore); ok {
			a.entities[i] = ent
			continue
		}
		a.isNew[i] = true
		a.entities[i] = graph.Entity{ID: graph.NewID(), Scope: a.req.Scope, Name: m.Name, Key: m.Key, Type: m.Type, IsUser: m.IsUser}
	}
}

// addEverything is the decision when nothing similar exists: every fact and
// every relation is new (and no model call is needed to say so).
func (a *addition) addEverything() prompts.Decision {
	var d prompts.Decision
	for i, f := range a.ex.Facts {
		d.Memories = append(d.Memories, prompts.MemoryDecision{Op: graph.OpAdd, Text: f.Text, Fact: fmt.Sprintf("F%d", i+1)})
	}
	for _, r := range a.ex.Relations {
		d.Relations = append(d.Relations, prompts.RelationDecision{Op: graph.OpAdd, Source: r.Source, Relationship: r.Relationship, Target: r.Target})
	}
	return d
}

// plan turns the decision into the write plan and the add's result.
func (a *addition) plan(dec prompts.Decision, cands graph.Candidates, now time.Time) (graph.Plan, error) {
	plan := graph.Plan{Scope: a.req.Scope, Audit: a.req.Audit, At: now}
	byM := func(id string) (graph.ScoredMemory, bool) {
		var n int
		if _, err := fmt.Sscanf(id, "M%d", &n); err != nil || n < 1 || n > len(cands.Memories) {
			return graph.ScoredMemory{}, false
		}
		return cands.Memories[n-1], true
	}
	used := make([]bool, len(a.mentions))
	newMemory := func(text string, fi int, md map[string]any) graph.Memory {
		m := graph.Memory{ID: graph.NewID(), Scope: a.req.Scope, Text: text, Kind: graph.KindFact, Metadata: md,
			ActorID: a.req.Audit.ActorID, Role: a.req.Audit.Role, CreatedAt: now, UpdatedAt: now, Source: a.req.Sources()}
		if fi >= 0 && graph.HashText(a.ex.Facts[fi].Text) == graph.HashText(text) {
			m.Embedding = a.factVectors[fi]
		}
		return m
	}

	// Updates and deletes first: an add of a text that a changed memory had
	// is then a real add, not a repeat of something that no longer holds.
	touched := map[string]bool{}
	var newIDs []string
	for _, d := range dec.Memories {
		if d.Op != graph.OpUpdate && d.Op != graph.OpDelete {
			continue
		}
		old, ok := byM(d.ID)
		if !ok || touched[old.ID] {
			continue
		}
		touched[old.ID] = true
		if d.Op == graph.OpDelete {
			plan.Memories = append(plan.Memories, graph.MemoryOp{Op: graph.OpDelete, OldID: old.ID, Memory: old.Memory})
			a.results = append(a.results, graph.Result{ID: old.ID, Memory: old.Text, Event: graph.EventDelete})
			continue
		}
		fi := a.factIndex(d.Fact, d.Text)
		// The new version keeps what the old one had: metadata (the
		// request's keys on top), provenance, expiry; its MENTIONS are the
		// old ones plus those of the new text (the store copies the old).
		m := newMemory(d.Text, fi, mergeMaps(old.Metadata, a.req.Metadata))
		m.Source, m.ExpiresAt = old.Source, old.ExpiresAt
		plan.Memories = append(plan.Memories, graph.MemoryOp{Op: graph.OpUpdate, OldID: old.ID, Memory: m, Mentions: a.mentionsOf(fi, d.Text, used)})
		a.results = append(a.results, graph.Result{ID: m.ID, Memory: m.Text, Event: graph.EventUpdate, PreviousMemory: old.Text})
		newIDs = append(newIDs, m.ID)
	}
	existing := map[string]graph.ScoredMemory{}
	for _, c := range cands.Memories {
		if !touched[c.ID] {
			existing[c.Hash] = c
		}
	}
	added := map[string]bool{}
	for _, d := range dec.Memories {
		if d.Op != graph.OpAdd {
			continue
		}
		h := graph.HashText(d.Text)
		if c, ok := existing[h]; ok {
			// The exact text exists already: nothing new.
			if !touched[c.ID] {
				touched[c.ID] = true
				a.results = append(a.results, graph.Result{ID: c.ID, Memory: c.Text, Event: graph.EventNone})
			}
			continue
		}
		if added[h] {
			continue // the same text twice in one add
		}
		added[h] = true
		fi := a.factIndex(d.Fact, d.Text)
		m := newMemory(d.Text, fi, a.req.Metadata)
		plan.Memories = append(plan.Memories, graph.MemoryOp{Op: graph.OpAdd, Memory: m, Mentions: a.mentionsOf(fi, d.Text, used)})
		a.results = append(a.results, graph.Result{ID: m.ID, Memory: m.Text, Event: graph.EventAdd})
		newIDs = append(newIDs, m.ID)
	}
	for _, id := range dec.Noops {
		old, ok := byM(id)
		if fi := a.factIndex(id, ""); !ok && strings.HasPrefix(id, "F") && fi >= 0 {
			// A fact already known: report the memory that knows it — the
			// one with the same text, else the closest candidate.
			old, ok = closest(cands.Memories, a.ex.Facts[fi].Text)
		}
		if ok && !touched[old.ID] {
			touched[old.ID] = true
			a.results = append(a.results, graph.Result{ID: old.ID, Memory: old.Text, Event: graph.EventNone})
		}
	}

	// Relations: endpoints are this add's entities or those of the existing
	// relations shown; nothing else (checkNames made the model keep to them).
	existingRels := map[string]graph.Relation{}
	for i, r := range cands.Relations {
		existingRels[fmt.Sprintf("R%d", i+1)] = r
	}
	ops, rejected := relations.Build(dec.Relations, existingRels, a.endpoint(cands), newIDs)
	byID := map[string]int{}
	for i := range a.mentions {
		byID[a.entities[i].ID] = i
	}
	for i := range ops {
		op := &ops[i]
		for _, id := range []string{op.Relation.SourceID, op.Relation.TargetID} {
			if j, ok := byID[id]; ok && op.Op != graph.OpDelete {
				used[j] = true
			}
		}
		switch op.Op {
		case graph.OpAdd:
			// Adding a relation that exists counts a mention on it; report
			// its id, not a new one.
			op.Relation.ID = graph.NewID()
			for _, r := range cands.Relations {
				if r.SourceID == op.Relation.SourceID && r.Type == op.Relation.Type && r.TargetID == op.Relation.TargetID {
					op.Relation.ID = r.ID
				}
			}
		case graph.OpUpdate:
			op.Relation.ID = graph.NewID()
		}
	}
	plan.Relations = ops
	a.relations.Rejected = append(a.relations.Rejected, rejected...)
	oldByID := map[string]graph.Relation{}
	for _, r := range cands.Relations {
		oldByID[r.ID] = r
	}
	for _, op := range ops {
		rr := graph.RelationResult{ID: op.Relation.ID, Source: op.Relation.Source, Relationship: op.Relation.Type, Target: op.Relation.Target}
		switch op.Op {
		case graph.OpAdd:
			a.relations.Added = append(a.relations.Added, rr)
		case graph.OpUpdate:
			old := oldByID[op.OldID]
			rr.Previous = &graph.RelationResult{ID: old.ID, Source: old.Source, Relationship: old.Type, Target: old.Target}
			a.relations.Updated = append(a.relations.Updated, rr)
		case graph.OpDelete:
			rr.ID = op.OldID
			a.relations.Invalidated = append(a.relations.Invalidated, rr)
		}
	}

	// Entities: every mention the plan uses. Two mentions may resolve to one
	// existing entity ("Google", "Google Inc"): it is touched once.
	planned := map[string]bool{}
	for i, m := range a.mentions {
		if !used[i] || planned[a.entities[i].ID] {
			continue
		}
		planned[a.entities[i].ID] = true
		ent := a.entities[i]
		up := graph.EntityUpsert{ID: ent.ID, New: a.isNew[i], Type: m.Type, IsUser: m.IsUser}
		if a.isNew[i] {
			up.Name, up.Key, up.Embedding = m.Name, m.Key, a.mentionVectors[i]
		}
		if m.IsUser {
			for _, k := range a.user.Keys() {
				if k != ent.Key && k != up.Key && !slices.Contains(ent.Aliases, k) {
					up.Aliases = append(up.Aliases, k)
				}
			}
		}
		plan.Entities = append(plan.Entities, up)
	}
	a.relations.RejectedLabels = a.rejectedLabels
	return plan, nil
}

// factIndex finds the extracted fact a decision refers to: by its F id, else
// by identical text; -1 when none.
func (a *addition) factIndex(id, text string) int {
	var n int
	if _, err := fmt.Sscanf(id, "F%d", &n); err == nil && n >= 1 && n <= len(a.ex.Facts) {
		return n - 1
	}
	for i, f := range a.ex.Facts {
		if graph.HashText(f.Text) == graph.HashText(text) {
			return i
		}
	}
	return -1
}

// mentionsOf returns the entity ids a memory text is about: the entities the
// fact named, and every mention whose name appears in the text as a whole
// word. It marks them used.
func (a *addition) mentionsOf(fi int, text string, used []bool) []string {
	var ids []string
	add := func(i int) {
		used[i] = true
		if !slices.Contains(ids, a.entities[i].ID) {
			ids = append(ids, a.entities[i].ID)
		}
	}
	if fi >= 0 {
		for _, n := range a.ex.Facts[fi].Entities {
			if i, ok := a.mentionOf(n); ok {
				add(i)
			}
		}
	}
	for i, m := range a.mentions {
		for _, n := range append([]string{m.Name}, m.Names...) {
			if !entities.IsSelf(n) && containsWord(text, n) {
				add(i)
				break
			}
		}
	}
	return ids
}

// containsWord reports whether name occurs in text (case-insensitively)
// with no letter or digit right before or after it: "Ann" is not in
// "annual".
func containsWord(text, name string) bool {
	t, n := strings.ToLower(text), strings.ToLower(strings.TrimSpace(name))
	if n == "" {
		return false
	}
	for from := 0; ; {
		i := strings.Index(t[from:], n)
		if i < 0 {
			return false
		}
		i += from
		before, _ := utf8.DecodeLastRuneInString(t[:i])
		after, _ := utf8.DecodeRuneInString(t[i+len(n):])
		if !isWordRune(before) && !isWordRune(after) {
			return true
		}
		from = i + 1
	}
}

func isWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// endpoint resolves a relation end named by the decision: a mention of this
// add, else an entity of the existing relations shown. Anything else is an
// error (checkNames already gave the model its retry for it).
func (a *addition) endpoint(cands graph.Candidates) relations.Endpoints {
	known := map[string]graph.Entity{}
	for _, r := range cands.Relations {
		known[graph.EntityKey(r.Source)] = graph.Entity{ID: r.SourceID, Name: r.Source}
		known[graph.EntityKey(r.Target)] = graph.Entity{ID: r.TargetID, Name: r.Target}
	}
	return func(name, _ string) (graph.Entity, error) {
		if i, ok := a.mentionOf(name); ok {
			return a.entities[i], nil
		}
		if ent, ok := known[graph.EntityKey(name)]; ok {
			return ent, nil
		}
		if entities.IsSelf(name) && a.user.ID == "" {
			return graph.Entity{}, fmt.Errorf("%q refers to the user, but the scope has no user_id", name)
		}
		return graph.Entity{}, fmt.Errorf("unknown entity %q", name)
	}
}

// checkNames is part of parsing the decision: every relation end it names
// must be an entity it was shown.
func (a *addition) checkNames(dec prompts.Decision, cands graph.Candidates) error {
	ends := a.endpoint(cands)
	var bad []graph.FieldError
	for i, d := range dec.Relations {
		for _, n := range []string{d.Source, d.Target} {
			if n == "" {
				continue
			}
			if _, err := ends(n, ""); err != nil {
				bad = append(bad, graph.FieldError{Path: fmt.Sprintf("relations[%d]", i),
					Message: err.Error() + "; use a name from the entities or existing relations listed"})
			}
		}
	}
	if len(bad) > 0 {
		return graph.InvalidFields("decision", bad...)
	}
	return nil
}

func mergeMaps(base, top map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(top))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range top {
		out[k] = v
	}
	return out
}

// closest returns the candidate with the same text as fact, else the best
// scored one (candidates come best first).
func closest(cands []graph.ScoredMemory, fact string) (graph.ScoredMemory, bool) {
	for _, c := range cands {
		if c.Hash == graph.HashText(fact) {
			return c, true
		}
	}
	if len(cands) > 0 {
		return cands[0], true
	}
	return graph.ScoredMemory{}, false
}

// report fills the add's result.
func (a *addition) report(res *graph.AddResult) {
	res.Results = append(res.Results, a.results...)
	res.Relations = a.relations
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

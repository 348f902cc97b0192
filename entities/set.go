package entities

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/neomem/neomem/graph"
)

// Set is the entities of one add, end to end: the names it mentions (folded,
// self references as the user), the probes the candidate read answers, the
// resolution of each mention to an existing entity or a new one, which
// entities a text is about, how a relation end names one, and the entity
// writes of the plan. Both the model's add and the structured-triples add use
// it. Not safe for concurrent use.
type Set struct {
	scope    graph.Scope
	user     User
	mentions []Mention
	// byName maps an entity key (of any extracted name) to a mention index.
	byName map[string]int
	// vectors[i] is the name embedding of mentions[i] (SetVectors).
	vectors [][]float32
	// resolved[i] is the entity of mentions[i]; isNew[i] when the add
	// creates it; used[i] when the plan writes something about it.
	resolved []graph.Entity
	isNew    []bool
	used     []bool
	rejected []string
	// known are entities of the existing relations shown to a decision,
	// by key (relation ends may name them).
	known map[string]graph.Entity
}

// Name is one entity name an add mentions, with the type label the model
// gave ("" when none).
type Name struct{ Name, Type string }

// NewSet folds the names an add mentions into mentions for scope. The
// user's stated name and id are mentions too, so "I" always resolves to the
// user's entity, existing or new.
func NewSet(scope graph.Scope, userName string, names []Name) *Set {
	s := &Set{scope: scope, user: User{ID: scope.UserID, Name: userName}, byName: map[string]int{}}
	var ns, ts []string
	for _, n := range names {
		ns, ts = append(ns, n.Name), append(ts, n.Type)
	}
	if s.user.Name != "" {
		ns, ts = append(ns, s.user.Name), append(ts, "Person")
	}
	if s.user.ID != "" {
		ns, ts = append(ns, s.user.ID), append(ts, "Person")
	}
	s.mentions, s.rejected = Fold(ns, ts, s.user)
	for i, m := range s.mentions {
		for _, n := range m.Names {
			s.byName[graph.EntityKey(n)] = i
		}
		s.byName[m.Key] = i
	}
	s.used = make([]bool, len(s.mentions))
	return s
}

// Mentions are the folded mentions, in order (their names are what the add
// embeds, one vector each, for SetVectors).
func (s *Set) Mentions() []Mention { return s.mentions }

// RejectedLabels are the type labels the normaliser refused.
func (s *Set) RejectedLabels() []string { return s.rejected }

// SetVectors gives the mentions' name embeddings, in Mentions' order.
func (s *Set) SetVectors(vs [][]float32) { s.vectors = vs }

// Probes are the candidate read's entity probes, one per mention: its key
// (the user's keys for the user) and its name vector.
func (s *Set) Probes() []graph.EntityProbe {
	out := make([]graph.EntityProbe, 0, len(s.mentions))
	for i, m := range s.mentions {
		keys := []string{m.Key}
		if m.IsUser {
			keys = append(s.user.Keys(), m.Key)
		}
		var v []float32
		if i < len(s.vectors) {
			v = s.vectors[i]
		}
		out = append(out, graph.EntityProbe{Keys: keys, Vector: v})
	}
	return out
}

// Resolve decides, for every mention, the existing entity it is (cands[i]
// answers Probes()[i]) or a new one; existing relations are remembered as
// ends a decision may name.
func (s *Set) Resolve(cands [][]graph.ScoredEntity, existing []graph.Relation, minScore float64) {
	s.resolved = make([]graph.Entity, len(s.mentions))
	s.isNew = make([]bool, len(s.mentions))
	for i, m := range s.mentions {
		var list []graph.ScoredEntity
		if i < len(cands) {
			list = cands[i]
		}
		if ent, ok := Resolve(m, list, minScore); ok {
			s.resolved[i] = ent
			continue
		}
		s.isNew[i] = true
		s.resolved[i] = graph.Entity{ID: graph.NewID(), Scope: s.scope, Name: m.Name, Key: m.Key, Type: m.Type, IsUser: m.IsUser}
	}
	s.known = map[string]graph.Entity{}
	for _, r := range existing {
		s.known[graph.EntityKey(r.Source)] = graph.Entity{ID: r.SourceID, Name: r.Source}
		s.known[graph.EntityKey(r.Target)] = graph.Entity{ID: r.TargetID, Name: r.Target}
	}
}

// Existing reports whether mention i resolved to an entity that exists.
func (s *Set) Existing(i int) bool { return s.resolved[i].ID != "" && !s.isNew[i] }

// index finds the mention an extracted or model-given name refers to.
func (s *Set) index(name string) (int, bool) {
	if s.user.Is(name) {
		for i, m := range s.mentions {
			if m.IsUser {
				return i, true
			}
		}
	}
	i, ok := s.byName[graph.EntityKey(name)]
	return i, ok
}

// Display is how prompts show a name: its mention's display name.
func (s *Set) Display(name string) string {
	if i, ok := s.index(name); ok {
		return s.mentions[i].Name
	}
	return name
}

// About returns the ids of the entities a memory text is about — the
// entities its fact named, and every mention whose name appears in the text
// as a whole word — and marks them used.
func (s *Set) About(named []string, text string) []string {
	var ids []string
	add := func(i int) {
		s.used[i] = true
		if !slices.Contains(ids, s.resolved[i].ID) {
			ids = append(ids, s.resolved[i].ID)
		}
	}
	for _, n := range named {
		if i, ok := s.index(n); ok {
			add(i)
		}
	}
	for i, m := range s.mentions {
		for _, n := range append([]string{m.Name}, m.Names...) {
			if !IsSelf(n) && containsWord(text, n) {
				add(i)
				break
			}
		}
	}
	return ids
}

// Endpoint resolves a relation end a decision names: a mention of this add,
// else an entity of the existing relations shown. Anything else is an error
// naming the problem.
func (s *Set) Endpoint(name, _ string) (graph.Entity, error) {
	if i, ok := s.index(name); ok {
		return s.resolved[i], nil
	}
	if ent, ok := s.known[graph.EntityKey(name)]; ok {
		return ent, nil
	}
	if IsSelf(name) && s.user.ID == "" {
		return graph.Entity{}, fmt.Errorf("%q refers to the user, but the scope has no user_id", name)
	}
	return graph.Entity{}, fmt.Errorf("unknown entity %q", name)
}

// Use marks the entity with id used by the plan (a relation end).
func (s *Set) Use(id string) {
	for i := range s.mentions {
		if s.resolved[i].ID == id {
			s.used[i] = true
		}
	}
}

// Upserts are the plan's entity writes: every mention the plan uses, new
// ones with their name vector, existing ones touched (a mention counted, the
// user's keys as aliases). Two mentions that resolved to one existing entity
// ("Google", "Google Inc") are one write.
func (s *Set) Upserts() []graph.EntityUpsert {
	var out []graph.EntityUpsert
	planned := map[string]bool{}
	for i, m := range s.mentions {
		ent := s.resolved[i]
		if !s.used[i] || planned[ent.ID] {
			continue
		}
		planned[ent.ID] = true
		up := graph.EntityUpsert{ID: ent.ID, New: s.isNew[i], Type: m.Type, IsUser: m.IsUser}
		if s.isNew[i] {
			up.Name, up.Key = m.Name, m.Key
			if i < len(s.vectors) {
				up.Embedding = s.vectors[i]
			}
		}
		if m.IsUser {
			for _, k := range s.user.Keys() {
				if k != ent.Key && k != up.Key && !slices.Contains(ent.Aliases, k) {
					up.Aliases = append(up.Aliases, k)
				}
			}
		}
		out = append(out, up)
	}
	return out
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

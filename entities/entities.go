// Package entities turns extracted entity mentions into graph entities:
// self references ("I", "me") become the scope's user, names are keyed for
// exact matching, and each mention is resolved against the candidates the
// store returned — by exact key or alias first, then by the similarity of the
// name's embedding, never merging names whose numbers differ.
package entities

import (
	"slices"
	"strings"
	"unicode"

	"github.com/neomem/neomem/graph"
)

// selfWords are the ways a speaker names themselves.
var selfWords = map[string]bool{
	"i": true, "me": true, "my": true, "mine": true, "myself": true,
	"user": true, "the user": true, "speaker": true, "the speaker": true,
}

// IsSelf reports whether name is a self reference ("I", "me", "my", "the
// user"), which always resolves to the user's entity.
func IsSelf(name string) bool { return selfWords[graph.EntityKey(name)] }

// User describes the scope's user as the add knows them.
type User struct {
	// ID is the scope's user_id (empty for agent- or run-only scopes).
	ID string
	// Name is the user's own name if the conversation stated it.
	Name string
}

// Keys returns the keys that name the user: the user id and, if known, the
// stated name. The first is the user entity's own key; it is never empty
// (an id that normalises to nothing, such as "???", keys as "user:???").
func (u User) Keys() []string {
	first := graph.EntityKey(u.ID)
	if first == "" {
		first = "user:" + u.ID
	}
	keys := []string{first}
	if k := graph.EntityKey(u.Name); k != "" && !slices.Contains(keys, k) {
		keys = append(keys, k)
	}
	return keys
}

// Is reports whether name refers to the user.
func (u User) Is(name string) bool {
	if u.ID == "" {
		return false
	}
	return IsSelf(name) || slices.Contains(u.Keys(), graph.EntityKey(name))
}

// Mention is one extracted entity after self references are folded into the
// user: Name as extracted (or the user's display name), its key, its type
// label ("" when none or when it could not be normalised).
type Mention struct {
	Name   string
	Key    string
	Type   string
	IsUser bool
	// Names are all the extracted names that map to this mention (for
	// looking up relation endpoints and fact entities).
	Names []string
}

// Fold merges the extracted (name, type) pairs into distinct mentions: all
// self references and the user's names into one user mention, other names by
// key. Types go through graph.Label; one that cannot be made safe is dropped
// (the entity keeps only the base label) and reported in rejected.
func Fold(names, types []string, user User) (mentions []Mention, rejected []string) {
	byKey := map[string]int{}
	add := func(name, typ string) {
		if user.ID == "" && IsSelf(name) {
			// Without a user_id, "I" names nobody we can store.
			return
		}
		m := Mention{Name: strings.TrimSpace(name), Key: graph.EntityKey(name), Names: []string{name}}
		if user.Is(name) {
			m.IsUser = true
			m.Key = user.Keys()[0]
			m.Name = user.DisplayName()
			if typ == "" {
				typ = "Person"
			}
		}
		if m.Key == "" {
			return
		}
		if typ != "" {
			label, err := graph.Label(typ)
			if err != nil {
				rejected = append(rejected, typ)
			} else {
				m.Type = label
			}
		}
		if i, ok := byKey[m.Key]; ok {
			mentions[i].Names = append(mentions[i].Names, name)
			if mentions[i].Type == "" {
				mentions[i].Type = m.Type
			}
			return
		}
		byKey[m.Key] = len(mentions)
		mentions = append(mentions, m)
	}
	for i, n := range names {
		t := ""
		if i < len(types) {
			t = types[i]
		}
		add(n, t)
	}
	return mentions, rejected
}

// DisplayName is how the user's entity is shown: the stated name, else the
// user id.
func (u User) DisplayName() string {
	if u.Name != "" {
		return u.Name
	}
	return u.ID
}

// Resolve picks the existing entity a mention is, from the candidates the
// store returned for its probe: an exact key or alias match first; else the
// most similar candidate with a score of at least minScore whose name has the
// same numbers ("SR-2023-052" never merges with "SR-2023-053") and the same
// user-ness. It reports false when the mention is a new entity.
func Resolve(m Mention, cands []graph.ScoredEntity, minScore float64) (graph.Entity, bool) {
	// The user's mention prefers the user's entity among exact matches (a
	// plain entity may carry the user's name too).
	for _, c := range cands {
		if c.Exact && c.IsUser == m.IsUser {
			return c.Entity, true
		}
	}
	for _, c := range cands {
		if c.Exact {
			return c.Entity, true
		}
	}
	for _, c := range cands {
		if c.Score < minScore || c.IsUser != m.IsUser || NumbersDiffer(m.Name, c.Name) {
			continue
		}
		return c.Entity, true
	}
	return graph.Entity{}, false
}

// NumbersDiffer reports whether a and b contain different sequences of
// digit runs: "SR-2023-052" and "SR-2023-053" differ, "Room 12" and "room
// 12" do not, and neither do two names without digits.
func NumbersDiffer(a, b string) bool {
	return !slices.Equal(digitRuns(a), digitRuns(b))
}

func digitRuns(s string) []string {
	var runs []string
	start := -1
	for i, r := range s {
		if unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			runs = append(runs, strings.TrimLeft(s[start:i], "0"))
			start = -1
		}
	}
	if start >= 0 {
		runs = append(runs, strings.TrimLeft(s[start:], "0"))
	}
	return runs
}

package graph

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Scope says whose memories an operation touches. Tenant comes from the API
// key and is always required; UserID, AgentID and RunID are the caller's scope
// ids (Mem0's vocabulary).
//
// As a selector (list, delete-all, search) an empty id is a wildcard: a scope
// with only UserID set matches that user's memories of every agent and run.
// On a write, the ids are stored as given and empty ones are absent.
//
// Any widens a selector to several scopes of the tenant: Mem0's shared room,
// a search over the memories of alice or bob. Its ids are then empty, and
// only the operations that validate with ValidateSet accept it (search,
// list, count, delete of whole scopes); every other validation refuses it,
// so a write can never target a set.
type Scope struct {
	Tenant  string
	UserID  string
	AgentID string
	RunID   string
	Any     *Scopes
}

// Scopes are the alternatives of a selector over several scopes of one
// tenant (see Scope.Any). Each sets at least one id; its Tenant is ignored.
type Scopes []Scope

// MaxScopes is the most alternatives one selector may hold.
const MaxScopes = 100

// Among returns the selector of s's tenant over the given scopes: s narrowed
// to each alternative (an alternative whose ids contradict s's is dropped).
// With one alternative left it is a plain scope; with none, ok is false:
// nothing can match, and the selector is an empty set, which ValidateSet
// refuses.
func (s Scope) Among(alts []Scope) (sel Scope, ok bool) {
	var keep Scopes
	for _, a := range alts {
		if m, ok := s.narrow(a); ok && !slices.Contains(keep, m) {
			keep = append(keep, m)
		}
	}
	switch len(keep) {
	case 0:
		return Scope{Tenant: s.Tenant, Any: &Scopes{}}, false
	case 1:
		return keep[0], true
	}
	for i := range keep {
		keep[i].Tenant = ""
	}
	return Scope{Tenant: s.Tenant, Any: &keep}, true
}

// narrow merges b's ids into s's; false when they contradict.
func (s Scope) narrow(b Scope) (Scope, bool) {
	for _, f := range []struct {
		dst *string
		v   string
	}{{&s.UserID, b.UserID}, {&s.AgentID, b.AgentID}, {&s.RunID, b.RunID}} {
		switch {
		case f.v == "":
		case *f.dst == "":
			*f.dst = f.v
		case *f.dst != f.v:
			return s, false
		}
	}
	s.Any = nil
	return s, true
}

// Limits on scope values. Ids are free text chosen by callers (user names,
// emails, session ids), so they are limited only in length and to printable
// characters.
const (
	MaxTenantLen  = 128
	MaxScopeIDLen = 256
)

// HasID reports whether at least one of UserID, AgentID, RunID is set.
func (s Scope) HasID() bool { return s.UserID != "" || s.AgentID != "" || s.RunID != "" }

// Key returns a single string that identifies the exact scope (all four parts,
// empty ones included). It backs uniqueness constraints and scope locks, where
// Neo4j would ignore nodes with a null property.
func (s Scope) Key() string {
	return s.Tenant + "\x1f" + s.UserID + "\x1f" + s.AgentID + "\x1f" + s.RunID
}

// Validate checks the tenant and the shape of the ids. It does not require an
// id: reading one item by id needs only the tenant. Use ValidateSelector for
// operations that act on a whole scope.
func (s Scope) Validate(op string) error {
	if fields := s.check(); len(fields) > 0 {
		return InvalidFields(op, fields...)
	}
	return nil
}

// ValidateSelector is Validate plus the rule that at least one scope id is
// set, for operations over a whole scope (add, list, delete-all, search).
func (s Scope) ValidateSelector(op string) error {
	fields := s.check()
	if !s.HasID() {
		fields = append(fields, FieldError{Path: "user_id", Message: "at least one of user_id, agent_id, run_id is required"})
	}
	if len(fields) > 0 {
		return InvalidFields(op, fields...)
	}
	return nil
}

// ValidateSet is ValidateSelector for the operations that also accept a
// set of scopes (Any): search, list, count and delete of whole scopes.
func (s Scope) ValidateSet(op string) error {
	if s.Any == nil {
		return s.ValidateSelector(op)
	}
	fields := Scope{Tenant: s.Tenant}.check()
	switch {
	case s.HasID():
		fields = append(fields, FieldError{Path: "user_id", Message: "cannot be combined with a set of scopes"})
	case len(*s.Any) == 0:
		fields = append(fields, FieldError{Path: "filters", Message: "select no scope: their user_id, agent_id and run_id conditions contradict each other or the request's"})
	case len(*s.Any) < 2 || len(*s.Any) > MaxScopes:
		fields = append(fields, FieldError{Path: "filters", Message: fmt.Sprintf("must select between 2 and %d scopes (user_id, agent_id, run_id alternatives)", MaxScopes)})
	}
	for i, a := range *s.Any {
		a.Tenant = s.Tenant
		for _, fe := range a.check() {
			fe.Path = fmt.Sprintf("filters.OR[%d].%s", i, fe.Path)
			fields = append(fields, fe)
		}
		if !a.HasID() {
			fields = append(fields, FieldError{Path: fmt.Sprintf("filters.OR[%d]", i), Message: "at least one of user_id, agent_id, run_id is required"})
		}
	}
	if len(fields) > 0 {
		return InvalidFields(op, fields...)
	}
	return nil
}

func (s Scope) check() []FieldError {
	var fields []FieldError
	if s.Any != nil {
		fields = append(fields, FieldError{Path: "filters", Message: "a set of scopes (an OR of user_id, agent_id, run_id) is not accepted here"})
	}
	if msg := checkTenant(s.Tenant); msg != "" {
		fields = append(fields, FieldError{Path: "tenant", Message: msg})
	}
	for _, f := range []struct{ path, v string }{{"user_id", s.UserID}, {"agent_id", s.AgentID}, {"run_id", s.RunID}} {
		if msg := checkScopeID(f.v); msg != "" {
			fields = append(fields, FieldError{Path: f.path, Message: msg})
		}
	}
	return fields
}

func checkTenant(t string) string {
	if t == "" {
		return "is required"
	}
	if len(t) > MaxTenantLen {
		return "is longer than 128 bytes"
	}
	for _, r := range t {
		if !(r < utf8.RuneSelf && (r == '-' || r == '_' || r == '.' || unicode.IsLetter(r) || unicode.IsDigit(r))) {
			return "may contain only ASCII letters, digits, '-', '_' and '.'"
		}
	}
	return ""
}

func checkScopeID(id string) string {
	if id == "" {
		return ""
	}
	if len(id) > MaxScopeIDLen {
		return "is longer than 256 bytes"
	}
	if !utf8.ValidString(id) {
		return "is not valid UTF-8"
	}
	if strings.TrimSpace(id) != id {
		return "has leading or trailing white space"
	}
	for _, r := range id {
		if unicode.IsControl(r) {
			return "contains a control character"
		}
	}
	return ""
}

// ScopeSummary is one user, agent or run of a tenant with how many current
// memories it holds (Mem0's "entities" list of users).
type ScopeSummary struct {
	// Type is "user", "agent" or "run"; Name is the id.
	Type      string
	Name      string
	Memories  int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Select narrows a selector to the scopes its filter confines matches to
// (FilterScopes): a filter {"OR": [{"user_id": "alice"}, {"user_id":
// "bob"}]} on a selector without ids selects both users' scopes (Any); one
// with {"user_id": "alice"} among other conditions selects alice's scope.
// The filter still applies on top. A filter that confines nothing leaves s
// as it is.
func (s Scope) Select(f Filter) Scope {
	alts, _ := FilterScopes(f)
	if alts == nil {
		return s
	}
	sel, _ := s.Among(alts)
	return sel
}

// FilterScopes returns the scopes a filter confines its matches to: read
// through AND and OR, the alternatives of user_id, agent_id and run_id
// equalities (and in lists) every match satisfies. It returns nil when the
// filter does not confine matches to scopes (an OR branch or the whole
// filter has no scope id, or they sit under NOT), and an empty non-nil
// list when the conditions contradict each other. exact reports that the
// filter is nothing but those alternatives, so selecting those scopes
// selects exactly the filter's matches. Past MaxScopes alternatives the
// list is cut at MaxScopes+1 (ValidateSet then refuses it).
func FilterScopes(f Filter) (alts []Scope, exact bool) {
	if f == nil {
		return nil, false
	}
	alts, confined, exact := confine(f)
	if !confined {
		return nil, false
	}
	if alts == nil {
		alts = []Scope{}
	}
	return alts, exact
}

func confine(f Filter) (alts []Scope, confined, exact bool) {
	switch x := f.(type) {
	case Cond:
		return confineCond(x)
	case And:
		alts, exact = []Scope{{}}, true
		for _, g := range x {
			ga, gc, ge := confine(g)
			exact = exact && ge
			if !gc {
				continue
			}
			confined = true
			var next []Scope
			for _, a := range alts {
				for _, b := range ga {
					if m, ok := a.narrow(b); ok && !slices.Contains(next, m) && len(next) <= MaxScopes {
						next = append(next, m)
					}
				}
			}
			alts = next
		}
		return alts, confined, exact
	case Or:
		exact = true
		for _, g := range x {
			ga, gc, ge := confine(g)
			if !gc {
				return nil, false, false
			}
			exact = exact && ge
			for _, a := range ga {
				if !slices.Contains(alts, a) && len(alts) <= MaxScopes {
					alts = append(alts, a)
				}
			}
		}
		return alts, true, exact
	}
	return nil, false, false
}

func confineCond(c Cond) (alts []Scope, confined, exact bool) {
	one := func(v any) (Scope, bool) {
		id, ok := v.(string)
		if !ok || id == "" || c.Field.Metadata {
			return Scope{}, false
		}
		switch c.Field.Name {
		case "user_id":
			return Scope{UserID: id}, true
		case "agent_id":
			return Scope{AgentID: id}, true
		case "run_id":
			return Scope{RunID: id}, true
		}
		return Scope{}, false
	}
	switch c.Op {
	case FilterEq:
		if s, ok := one(c.Value); ok {
			return []Scope{s}, true, true
		}
	case FilterIn:
		vs, _ := c.Value.([]any)
		for _, v := range vs {
			s, ok := one(v)
			if !ok {
				return nil, false, false
			}
			if !slices.Contains(alts, s) && len(alts) <= MaxScopes {
				alts = append(alts, s)
			}
		}
		return alts, len(alts) > 0, len(alts) > 0
	}
	return nil, false, false
}

// SelectWhole is the selector of a delete of whole scopes: s's ids
// narrowed by a filter that holds nothing but scope ids (equalities and in
// lists under AND and OR, FilterScopes' exact case); any other condition is
// Invalid, so such a delete never removes more than asked. Without an id or
// such a filter it is Invalid too: deleting a whole tenant is another
// operation.
func (s Scope) SelectWhole(op string, f Filter) (Scope, error) {
	if f != nil {
		if _, exact := FilterScopes(f); !exact {
			return Scope{}, InvalidFields(op, FieldError{Path: "filters", Message: "only user_id, agent_id and run_id conditions (equalities, in, under AND and OR) can select what a delete of whole scopes removes; delete other memories one by one or in a batch"})
		}
		s = s.Select(f)
	}
	if !s.HasID() && s.Any == nil {
		return Scope{}, InvalidFields(op, FieldError{Path: "user_id", Message: "at least one of user_id, agent_id, run_id is required; a whole tenant is deleted by a reset"})
	}
	return s, s.ValidateSet(op)
}

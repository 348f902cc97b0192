package graph

import (
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
type Scope struct {
	Tenant  string
	UserID  string
	AgentID string
	RunID   string
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

func (s Scope) check() []FieldError {
	var fields []FieldError
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

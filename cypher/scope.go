package cypher

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/neomem/neomem/graph"
)

// scopeToken marks where a query's scope predicate goes: {{scope m}} becomes
// "m.tenant = $tenant AND m.user_id = $user_id ..." for the variable m (a
// selector: unset ids match anything); {{exact_scope m}} also requires the
// unset ids to be unset on m (the exact scope an add writes to).
var scopeToken = regexp.MustCompile(`\{\{(scope|exact_scope) ([a-z][a-zA-Z0-9_]*)\}\}`)

// scoped is the one builder of tenant and scope predicates. It replaces every
// {{scope x}} in q with the predicate for the scope's set ids and adds the
// scope's parameters to params. A query without the token is a programming
// error: it would read or write across tenants, so scoped panics.
//
// An empty scope id is a wildcard (it adds no predicate); the tenant is always
// matched. The text depends only on which ids are set, never on their values.
func scoped(q string, s graph.Scope, params map[string]any) string {
	if !scopeToken.MatchString(q) {
		panic("cypher: query has no {{scope}} predicate: " + q)
	}
	params["tenant"] = s.Tenant
	params["user_id"] = nullable(s.UserID)
	params["agent_id"] = nullable(s.AgentID)
	params["run_id"] = nullable(s.RunID)
	if s.Any != nil {
		for i, a := range *s.Any {
			params[fmt.Sprintf("any%d_user_id", i)] = nullable(a.UserID)
			params[fmt.Sprintf("any%d_agent_id", i)] = nullable(a.AgentID)
			params[fmt.Sprintf("any%d_run_id", i)] = nullable(a.RunID)
		}
	}
	return scopeToken.ReplaceAllStringFunc(q, func(tok string) string {
		m := scopeToken.FindStringSubmatch(tok)
		if m[1] == "exact_scope" {
			if s.Any != nil {
				panic("cypher: an exact scope cannot be a set of scopes: " + q)
			}
			return exactScopeWhere(m[2], s)
		}
		return scopeWhere(m[2], s)
	})
}

func exactScopeWhere(v string, s graph.Scope) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s.tenant = $tenant", v)
	for _, id := range []struct{ prop, val string }{{"user_id", s.UserID}, {"agent_id", s.AgentID}, {"run_id", s.RunID}} {
		if id.val != "" {
			fmt.Fprintf(&b, " AND %[1]s.%[2]s = $%[2]s", v, id.prop)
		} else {
			fmt.Fprintf(&b, " AND %s.%s IS NULL", v, id.prop)
		}
	}
	return b.String()
}

// scopeWhere is the selector predicate. A set of scopes (Any) becomes an
// OR of each alternative's ids (parameters any<i>_user_id …), which the
// planner can answer with one index seek per alternative.
func scopeWhere(v string, s graph.Scope) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s.tenant = $tenant", v)
	idsWhere(&b, v, s, "")
	if s.Any != nil && len(*s.Any) == 0 {
		b.WriteString(" AND false")
	} else if s.Any != nil {
		b.WriteString(" AND (")
		for i, a := range *s.Any {
			if i > 0 {
				b.WriteString(" OR ")
			}
			b.WriteString("(true")
			idsWhere(&b, v, a, fmt.Sprintf("any%d_", i))
			b.WriteString(")")
		}
		b.WriteString(")")
	}
	return b.String()
}

// idsWhere appends " AND v.<id> = $<prefix><id>" for each id s sets.
func idsWhere(b *strings.Builder, v string, s graph.Scope, prefix string) {
	for _, id := range []struct{ prop, val string }{{"user_id", s.UserID}, {"agent_id", s.AgentID}, {"run_id", s.RunID}} {
		if id.val != "" {
			fmt.Fprintf(b, " AND %[1]s.%[2]s = $%[3]s%[2]s", v, id.prop, prefix)
		}
	}
}

// scopeProps returns the properties that store a scope on a node.
func scopeProps(s graph.Scope) map[string]any {
	return map[string]any{
		"tenant":    s.Tenant,
		"user_id":   nullable(s.UserID),
		"agent_id":  nullable(s.AgentID),
		"run_id":    nullable(s.RunID),
		"scope_key": s.Key(),
	}
}

// nullable maps "" to nil so absent ids are absent properties, not "".
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// ident backtick-quotes a label or relationship type for query text. Only
// names that passed the normaliser (graph.RelationType or graph.Label) are
// accepted; anything else is a programming error and panics rather than
// reaching Neo4j.
func ident(name string) string {
	if !graph.SafeName(name) {
		panic(fmt.Sprintf("cypher: identifier %q did not come from the normaliser", name))
	}
	return "`" + name + "`"
}

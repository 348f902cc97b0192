package cypher

import (
	"context"
	"strings"

	"github.com/neomem/neomem/graph"
)

const countMemories = `
MATCH (m:Memory)
WHERE {{scope m}}
  AND m.invalid_at IS NULL
  AND (m.expires_at IS NULL OR m.expires_at > $now){{filter}}
RETURN count(m) AS n`

// CountMemories counts the scope's current memories that pass filter (nil:
// all). Errors: Invalid, Unavailable.
func (s *Store) CountMemories(ctx context.Context, scope graph.Scope, filter graph.Filter) (int, error) {
	const op = "count memories"
	validate := scope.Validate
	if scope.Any != nil {
		validate = scope.ValidateSet
	}
	if err := validate(op); err != nil {
		return 0, err
	}
	params := map[string]any{"now": now()}
	f, err := filterClause(filter, "m", params)
	if err != nil {
		return 0, err
	}
	q := scoped(strings.Replace(countMemories, "{{filter}}", f, 1), scope, params)
	res, err := s.readRecords(ctx, q, params)
	if err != nil {
		return 0, translate(op, err)
	}
	n, _ := res[0].Get("n")
	c, _ := n.(int64)
	return int(c), nil
}

const listScopes = `
MATCH (m:Memory)
WHERE {{scope m}} AND m.invalid_at IS NULL
UNWIND [['user', m.user_id], ['agent', m.agent_id], ['run', m.run_id]] AS p
WITH p[0] AS type, p[1] AS name, m
WHERE name IS NOT NULL
RETURN type, name, count(m) AS n, min(m.created_at) AS created_at, max(m.updated_at) AS updated_at
ORDER BY type, name
LIMIT $limit`

// Scopes lists the users, agents and runs of a tenant that hold current
// memories, with how many. Errors: Invalid, Unavailable.
func (s *Store) Scopes(ctx context.Context, tenant string, limit int) ([]graph.ScopeSummary, error) {
	const op = "list scopes"
	scope := graph.Scope{Tenant: tenant}
	if err := scope.Validate(op); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > MaxPageSize {
		limit = MaxPageSize
	}
	params := map[string]any{"limit": int64(limit)}
	q := scoped(listScopes, scope, params)
	res, err := s.readRecords(ctx, q, params)
	if err != nil {
		return nil, translate(op, err)
	}
	var out []graph.ScopeSummary
	for _, rec := range res {
		m := rec.AsMap()
		n, _ := m["n"].(int64)
		out = append(out, graph.ScopeSummary{Type: str(m, "type"), Name: str(m, "name"), Memories: int(n),
			CreatedAt: timeOf(m, "created_at"), UpdatedAt: timeOf(m, "updated_at")})
	}
	return out, nil
}

package cypher

import (
	"context"
	"fmt"
	"testing"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/testcontainers"
)

func TestScoped(t *testing.T) {
	tests := []struct {
		name  string
		scope graph.Scope
		want  string
	}{
		{"tenant only", graph.Scope{Tenant: "t"}, "MATCH (m) WHERE m.tenant = $tenant RETURN m"},
		{"user", graph.Scope{Tenant: "t", UserID: "u"}, "MATCH (m) WHERE m.tenant = $tenant AND m.user_id = $user_id RETURN m"},
		{"all", graph.Scope{Tenant: "t", UserID: "u", AgentID: "a", RunID: "r"},
			"MATCH (m) WHERE m.tenant = $tenant AND m.user_id = $user_id AND m.agent_id = $agent_id AND m.run_id = $run_id RETURN m"},
		{"hostile values stay parameters", graph.Scope{Tenant: "t", AgentID: "x' OR 1=1 //"},
			"MATCH (m) WHERE m.tenant = $tenant AND m.agent_id = $agent_id RETURN m"},
		{"a set of scopes", graph.Scope{Tenant: "t", Any: &graph.Scopes{{UserID: "a"}, {UserID: "b", AgentID: "x"}}},
			"MATCH (m) WHERE m.tenant = $tenant AND ((true AND m.user_id = $any0_user_id) OR (true AND m.user_id = $any1_user_id AND m.agent_id = $any1_agent_id)) RETURN m"},
		{"an empty set matches nothing", graph.Scope{Tenant: "t", Any: &graph.Scopes{}},
			"MATCH (m) WHERE m.tenant = $tenant AND false RETURN m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := map[string]any{}
			got := scoped("MATCH (m) WHERE {{scope m}} RETURN m", tt.scope, params)
			if got != tt.want {
				t.Fatalf("scoped(%+v) = %q, want %q", tt.scope, got, tt.want)
			}
			if params["tenant"] != tt.scope.Tenant || params["agent_id"] != nullable(tt.scope.AgentID) {
				t.Fatalf("scoped(%+v) params = %v", tt.scope, params)
			}
			if tt.scope.Any != nil {
				for i, a := range *tt.scope.Any {
					if params[fmt.Sprintf("any%d_user_id", i)] != nullable(a.UserID) || params[fmt.Sprintf("any%d_agent_id", i)] != nullable(a.AgentID) {
						t.Fatalf("scoped(%+v) params = %v", tt.scope, params)
					}
				}
			}
		})
	}
}

func TestScopedPanicsWithoutToken(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("scoped accepted a query without a scope predicate")
		}
	}()
	scoped("MATCH (m:Memory) RETURN m", graph.Scope{Tenant: "t"}, map[string]any{})
}

func TestIdentRejectsRawText(t *testing.T) {
	for _, raw := range []string{"works-at", "a`b", "", "x) DETACH DELETE n //", "1ABC"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("ident(%q) did not panic", raw)
				}
			}()
			ident(raw)
		}()
	}
	if got := ident("WORKS_AT"); got != "`WORKS_AT`" {
		t.Fatalf("ident(WORKS_AT) = %s", got)
	}
}

// TestNormalisedNamesExecute runs what the normaliser makes of hostile model
// output against a real Neo4j: every accepted name becomes exactly that
// relationship type or label, and nothing else happens (no Cypher error, no
// injected clause runs).
func TestNormalisedNamesExecute(t *testing.T) {
	d := testcontainers.Driver(t)
	tenant := testcontainers.Tenant(t)
	ctx := context.Background()
	inputs := []string{
		"works-at", "works at…", "worksAt", "likes`) DETACH DELETE n //", "住んでいる", "vit à",
		"x' OR 1=1", "parent/child: of", "HTTPServer", "e\u0301le\u0300ve", "ℌ𝔢𝔩𝔩𝔬", "ǅemal", "Σσς",
	}
	accepted := 0
	for _, in := range inputs {
		relType, relErr := graph.RelationType(in)
		label, labelErr := graph.Label(in)
		if relErr != nil && labelErr != nil {
			continue
		}
		if relErr != nil {
			relType = "RELATED_TO"
		}
		if labelErr != nil {
			label = "Thing"
		}
		accepted++
		q := "CREATE (a:__Entity__:" + ident(label) + " {tenant: $tenant, name: $in})-[r:" + ident(relType) + "]->(b:__Entity__ {tenant: $tenant, name: 'b'})\n" +
			"RETURN type(r) AS type, [l IN labels(a) WHERE l <> '__Entity__'][0] AS label"
		res, err := neo4j.ExecuteQuery(ctx, d, q, map[string]any{"tenant": tenant, "in": in}, neo4j.EagerResultTransformer)
		if err != nil {
			t.Fatalf("%q → type %q, label %q: %v", in, relType, label, err)
		}
		gotType, _ := res.Records[0].Get("type")
		gotLabel, _ := res.Records[0].Get("label")
		if gotType != relType || gotLabel != label {
			t.Fatalf("%q stored as type %v, label %v; want %q, %q", in, gotType, gotLabel, relType, label)
		}
	}
	if accepted < 8 {
		t.Fatalf("only %d of %d inputs were accepted; the normaliser rejects too much", accepted, len(inputs))
	}
	// Everything created is still there: no injected DETACH DELETE ran.
	res, err := neo4j.ExecuteQuery(ctx, d, "MATCH (n:__Entity__ {tenant: $tenant}) RETURN count(n) AS n",
		map[string]any{"tenant": tenant}, neo4j.EagerResultTransformer)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.Records[0].Get("n"); n != int64(2*accepted) {
		t.Fatalf("entities = %v, want %d", n, 2*accepted)
	}
}

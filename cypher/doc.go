// Package cypher is neomem's Neo4j adapter: every Cypher text, the
// transactions, schema bootstrap, record mapping and the translation of
// driver errors into graph error kinds. It is the only package that imports
// the Neo4j driver (besides test infrastructure).
//
// Rules every query here follows:
//   - values travel only as parameters; the query text is constant except for
//     the scope predicate (from one builder, scopeWhere) and identifiers that
//     passed graph.RelationType or graph.Label (quoted by ident). Entity
//     labels and relationship types written by Apply travel as parameters
//     too, as Neo4j 5.26's dynamic labels and types (SET e:$(labels),
//     CREATE ()-[r:$(type)]->()), after the same normaliser checked them;
//   - every query over tenant data goes through the scope builder, so no query
//     can forget the tenant;
//   - no model or embedding call happens inside a transaction function:
//     callers compute vectors first and hand them in.
package cypher

// Package graph is neomem's vocabulary: memories, entities, relations, history
// events, scopes, identifiers, validity, the closed set of error kinds, and the
// one normaliser that turns free text into safe Neo4j labels and relationship
// types.
//
// It imports only the standard library, so every other package can depend on
// it and nothing here knows about Neo4j, HTTP or models.
package graph

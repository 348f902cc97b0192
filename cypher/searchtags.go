package cypher

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode"

	"github.com/neomem/neomem/graph"
)

// Search defaults and bounds.
const (
	DefaultTopK      = 10
	MaxTopK          = 100
	DefaultRRFK      = 60
	defaultRelations = 50
	// DefaultExactMax is the number of candidate memories (scope and
	// filters applied) up to which the vector step scans them exactly; above
	// it, the vector index is asked with over-fetch. See docs/benchmarks.md
	// for the measurement behind it.
	DefaultExactMax = 20000
	// annOverfetch multiplies the index share over-fetch; defaultANNMax
	// caps what one ANN call asks the index for.
	annOverfetch  = 4
	defaultANNMax = 20000
)

// searchTags returns the tokens that tag a node with its tenant and scope
// ids in the full-text indexes ("t…", "u…", "a…", "r…": hex of a hash, so
// the analyzer keeps each one token whatever the id contains). A full-text
// query requires the searcher's tags, so a small tenant's terms are found
// inside the index instead of being crowded out by other tenants' hits.
func searchTags(s graph.Scope) string {
	tags := []string{tag("t", s.Tenant)}
	if s.UserID != "" {
		tags = append(tags, tag("u", s.Tenant+"\x1f"+s.UserID))
	}
	if s.AgentID != "" {
		tags = append(tags, tag("a", s.Tenant+"\x1f"+s.AgentID))
	}
	if s.RunID != "" {
		tags = append(tags, tag("r", s.Tenant+"\x1f"+s.RunID))
	}
	return strings.Join(tags, " ")
}

func tag(prefix, v string) string {
	sum := sha256.Sum256([]byte(v))
	return prefix + hex.EncodeToString(sum[:10])
}

// luceneQuery builds a full-text query from user text: its words, each
// quoted (so no Lucene syntax of the user's survives), in the text field,
// required together with the scope's tags. It returns "" when the text has no
// word.
func luceneQuery(field, text string, s graph.Scope) string {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	if len(words) == 0 {
		return ""
	}
	if len(words) > 64 {
		words = words[:64]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "+%s:(", field)
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(`"` + w + `"`)
	}
	b.WriteString(")")
	for _, t := range strings.Fields(searchTags(s)) {
		b.WriteString(" +search_tags:" + t)
	}
	return b.String()
}

package cypher

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/neomem/neomem/graph"
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

// luceneQuery builds a full-text query from user text: the text lower-cased
// (so AND, OR, NOT are words, not operators) with every Lucene special
// character escaped, analysed by the index like the stored text, in the text
// field, required together with the scope's tags. Stop words — function
// words, and the question words and auxiliaries of a question ("what did",
// "how does") that the analyzers keep — are dropped first: a question's
// form must not rank memories, only its content words. Names and other
// content words are kept as written. It returns "" when nothing searchable
// is left.
func luceneQuery(field, text string, s graph.Scope) string {
	words := slices.DeleteFunc(strings.Fields(strings.ToLower(text)), func(w string) bool {
		return stopWords[strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })]
	})
	if len(words) > 64 {
		words = words[:64]
	}
	searchable := false
	var b strings.Builder
	fmt.Fprintf(&b, "+%s:(", field)
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		for _, r := range w {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				searchable = true
			}
			if strings.ContainsRune(luceneSpecial, r) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
	}
	if !searchable {
		return ""
	}
	b.WriteString(")")
	for _, t := range strings.Fields(searchTags(s)) {
		b.WriteString(" +search_tags:" + t)
	}
	if s.Any != nil {
		// A set of scopes: one of the alternatives' tag groups must match.
		b.WriteString(" +(")
		for i, a := range *s.Any {
			if i > 0 {
				b.WriteByte(' ')
			}
			a.Tenant = s.Tenant
			b.WriteString("(")
			for j, t := range strings.Fields(searchTags(a))[1:] {
				if j > 0 {
					b.WriteByte(' ')
				}
				b.WriteString("+search_tags:" + t)
			}
			b.WriteString(")")
		}
		b.WriteString(")")
	}
	return b.String()
}

// luceneSpecial are the characters Lucene's query parser gives a meaning.
const luceneSpecial = `+-&|!(){}[]^"~*?:\/`

// stopWords are left out of full-text queries: English function words,
// pronouns, and the question words and auxiliaries of questions.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an and are as at be been being but by for from has have had having he her hers
		him his i in into is it its me my mine of on or our ours she that the their theirs them then they this these
		those to was we were what when where which who whom whose why will would with you your yours
		do does did doing done how about there here can could should shall might must not no nor so than too
		very just also any some if am i'm it's any ever`) {
		m[w] = true
	}
	return m
}()

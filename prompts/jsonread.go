package prompts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/neomem/neomem/graph"
)

// This file holds the strict reading of model-made JSON shared by the
// parsers: objects read member by member (so duplicate and unknown fields are
// seen, and every problem gets a precise path), and a collector of problems.

// Limits of what a model may send.
const (
	// MaxTextBytes bounds a fact's or memory's text and a reason.
	MaxTextBytes = 2000
	// MaxNameBytes bounds names: entities, types, relationships, ids.
	MaxNameBytes = 200
	// MaxFacts, MaxEntities and MaxRelations bound one extraction.
	MaxFacts     = 100
	MaxEntities  = 200
	MaxRelations = 200
	// MaxCalls bounds the tool calls of one decision.
	MaxCalls = 1000
	// maxArgsBytes bounds the arguments of one tool call.
	maxArgsBytes = 1 << 20
	// maxProblems bounds the problems listed in one error; the rest are
	// counted, so a retry message stays short.
	maxProblems = 20
)

// problems collects what is wrong with a reply.
type problems struct {
	fields []graph.FieldError
	more   int
}

func (p *problems) add(path, format string, args ...any) {
	if len(p.fields) >= maxProblems {
		p.more++
		return
	}
	p.fields = append(p.fields, graph.FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
}

// err returns nil without problems, else one Invalid error listing them all.
func (p *problems) err(op string) error {
	if len(p.fields) == 0 {
		return nil
	}
	fields := p.fields
	if p.more > 0 {
		fields = append(fields, graph.FieldError{Message: fmt.Sprintf("and %d more problems", p.more)})
	}
	return graph.InvalidFields(op, fields...)
}

// member is one name/value pair of a JSON object.
type member struct {
	key   string
	value json.RawMessage
}

// object reads raw as one JSON object, members in order. It reports a
// problem at path and returns false when raw is not valid JSON, not an
// object, or names a field twice.
func (p *problems) object(path string, raw []byte) ([]member, bool) {
	if !json.Valid(raw) {
		p.add(path, "is not valid JSON")
		return nil, false
	}
	if t := jsonType(raw); t != "an object" {
		p.add(path, "must be a JSON object, got %s", t)
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // the opening brace
		p.add(path, "is not valid JSON")
		return nil, false
	}
	var ms []member
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		key, ok := tok.(string)
		if err != nil || !ok {
			p.add(path, "is not valid JSON")
			return nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			p.add(path, "is not valid JSON")
			return nil, false
		}
		if seen[key] {
			p.add(path, "has the field %s twice", quote(key))
			return nil, false
		}
		seen[key] = true
		ms = append(ms, member{key: key, value: v})
	}
	return ms, true
}

// array reads raw as a JSON array of at most max items; null is an empty
// array.
func (p *problems) array(path string, raw json.RawMessage, max int) ([]json.RawMessage, bool) {
	if isNull(raw) {
		return nil, true
	}
	if t := jsonType(raw); t != "an array" {
		p.add(path, "must be an array, got %s", t)
		return nil, false
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		p.add(path, "is not valid JSON")
		return nil, false
	}
	if len(items) > max {
		p.add(path, "has %d items; at most %d", len(items), max)
		return nil, false
	}
	return items, true
}

// str reads raw as a JSON string, trimmed, of at most max bytes; null is the
// empty string. Names (name true) may not contain control characters; texts
// may contain tabs and line breaks.
func (p *problems) str(path string, raw json.RawMessage, max int, name bool) (string, bool) {
	if isNull(raw) {
		return "", true
	}
	var s string
	if jsonType(raw) != "a string" || json.Unmarshal(raw, &s) != nil {
		p.add(path, "must be a string, got %s", jsonType(raw))
		return "", false
	}
	s = strings.TrimSpace(s)
	if len(s) > max {
		p.add(path, "is too long (%d bytes; at most %d)", len(s), max)
		return "", false
	}
	for _, r := range s {
		if unicode.IsControl(r) && (name || r != '\n' && r != '\t' && r != '\r') {
			p.add(path, "contains the control character %U", r)
			return "", false
		}
	}
	return s, true
}

// isNull reports whether raw is the JSON null.
func isNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

// jsonType names the type of a JSON value by its first byte, for messages.
func jsonType(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// quote quotes model-made text for an error message, cut to 60 bytes so a
// retry message stays short.
func quote(s string) string {
	const max = 60
	if len(s) <= max {
		return strconv.Quote(s)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…"
}

// fold is the key under which names are compared case-insensitively.
func fold(s string) string { return strings.ToLower(s) }

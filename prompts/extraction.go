package prompts

import (
	"encoding/json"
	"fmt"
)

// Extraction is what the model extracted from new conversation turns.
type Extraction struct {
	Facts     []Fact
	Entities  []Entity
	Relations []Relation
	// UserName is the user's own name when they stated it, else empty.
	UserName string
}

// Fact is one extracted fact.
type Fact struct {
	// Text is the fact, in the third person.
	Text string
	// Entities are the names of the entities the fact is about (distinct
	// case-insensitively). They are meant to be names listed in
	// Extraction.Entities but need not be.
	Entities []string
}

// Entity is one extracted entity.
type Entity struct {
	Name string
	// Type is the model's free-text type ("Person", "software engineer");
	// the engine normalises it with graph.Label.
	Type string
}

// Relation is one extracted relation, read from Source to Target.
type Relation struct {
	Source string
	// Relationship is the model's verb phrase ("works_at"); the engine
	// normalises it with graph.RelationType.
	Relationship string
	Target       string
}

const opExtraction = "parse extraction"

// ParseExtraction reads the arguments of an extract_memories call strictly.
// args must be one JSON object with only the fields facts, entities,
// relations and user_name; the lists may be absent or null (empty). Every
// item must be an object with only its own fields, the required ones (a
// fact's text; an entity's name and type; a relation's source, relationship
// and target) non-empty. Strings are trimmed; texts are at most MaxTextBytes,
// names MaxNameBytes; there are at most MaxFacts facts, MaxEntities entities
// and MaxRelations relations.
//
// Entities that repeat a name case-insensitively are merged into the first
// (its type wins), as are repeated names in a fact's entities and repeated
// relations. Names in facts and relations that are not among the entities
// are returned as they are: the engine resolves them like any other name.
//
// Every problem is reported in one graph.Invalid error whose fields have
// paths like "facts[2].text" ("arguments" for the object itself).
func ParseExtraction(args json.RawMessage) (Extraction, error) {
	var p problems
	var out Extraction
	if len(args) > maxArgsBytes {
		p.add("arguments", "are too long (%d bytes; at most %d)", len(args), maxArgsBytes)
		return Extraction{}, p.err(opExtraction)
	}
	ms, ok := p.object("arguments", args)
	if !ok {
		return Extraction{}, p.err(opExtraction)
	}
	for _, m := range ms {
		switch m.key {
		case "facts":
			items, _ := p.array("facts", m.value, MaxFacts)
			for i, raw := range items {
				if f, ok := parseFact(&p, fmt.Sprintf("facts[%d]", i), raw); ok {
					out.Facts = append(out.Facts, f)
				}
			}
		case "entities":
			items, _ := p.array("entities", m.value, MaxEntities)
			seen := map[string]bool{}
			for i, raw := range items {
				e, ok := parseEntity(&p, fmt.Sprintf("entities[%d]", i), raw)
				if ok && !seen[fold(e.Name)] {
					seen[fold(e.Name)] = true
					out.Entities = append(out.Entities, e)
				}
			}
		case "relations":
			items, _ := p.array("relations", m.value, MaxRelations)
			seen := map[Relation]bool{}
			for i, raw := range items {
				r, ok := parseRelation(&p, fmt.Sprintf("relations[%d]", i), raw)
				key := Relation{fold(r.Source), fold(r.Relationship), fold(r.Target)}
				if ok && !seen[key] {
					seen[key] = true
					out.Relations = append(out.Relations, r)
				}
			}
		case "user_name":
			out.UserName, _ = p.str("user_name", m.value, MaxNameBytes, true)
		default:
			p.add("arguments", "unknown field %s; allowed: facts, entities, relations, user_name", quote(m.key))
		}
	}
	if err := p.err(opExtraction); err != nil {
		return Extraction{}, err
	}
	return out, nil
}

func parseFact(p *problems, path string, raw json.RawMessage) (Fact, bool) {
	ms, ok := p.object(path, raw)
	if !ok {
		return Fact{}, false
	}
	var f Fact
	fields := newFieldReader(p, path)
	for _, m := range ms {
		switch m.key {
		case "text":
			f.Text = fields.str(m, MaxTextBytes, false)
		case "entities":
			items, okArr := p.array(path+".entities", m.value, MaxEntities)
			ok = ok && okArr
			seen := map[string]bool{}
			for i, v := range items {
				at := fmt.Sprintf("%s.entities[%d]", path, i)
				name, okName := p.str(at, v, MaxNameBytes, true)
				switch {
				case !okName:
					ok = false
				case name == "":
					p.add(at, "must not be empty")
					ok = false
				case !seen[fold(name)]:
					seen[fold(name)] = true
					f.Entities = append(f.Entities, name)
				}
			}
		default:
			fields.unknown(m.key, "text, entities")
		}
	}
	fields.require("text", f.Text)
	return f, ok && fields.ok
}

func parseEntity(p *problems, path string, raw json.RawMessage) (Entity, bool) {
	ms, ok := p.object(path, raw)
	if !ok {
		return Entity{}, false
	}
	var e Entity
	fields := newFieldReader(p, path)
	for _, m := range ms {
		switch m.key {
		case "name":
			e.Name = fields.str(m, MaxNameBytes, true)
		case "type":
			e.Type = fields.str(m, MaxNameBytes, true)
		default:
			fields.unknown(m.key, "name, type")
		}
	}
	fields.require("name", e.Name)
	fields.require("type", e.Type)
	return e, fields.ok
}

func parseRelation(p *problems, path string, raw json.RawMessage) (Relation, bool) {
	ms, ok := p.object(path, raw)
	if !ok {
		return Relation{}, false
	}
	var r Relation
	fields := newFieldReader(p, path)
	for _, m := range ms {
		switch m.key {
		case "source":
			r.Source = fields.str(m, MaxNameBytes, true)
		case "relationship":
			r.Relationship = fields.str(m, MaxNameBytes, true)
		case "target":
			r.Target = fields.str(m, MaxNameBytes, true)
		default:
			fields.unknown(m.key, "source, relationship, target")
		}
	}
	fields.require("source", r.Source)
	fields.require("relationship", r.Relationship)
	fields.require("target", r.Target)
	return r, fields.ok
}

// fieldReader reads the string fields of one object and remembers which
// were present, so a field that is missing is told apart from one that is
// empty or already reported as wrong.
type fieldReader struct {
	p       *problems
	path    string
	present map[string]bool
	bad     map[string]bool
	// ok is false once any problem was reported for this object.
	ok bool
}

func newFieldReader(p *problems, path string) *fieldReader {
	return &fieldReader{p: p, path: path, present: map[string]bool{}, bad: map[string]bool{}, ok: true}
}

// str reads member m as a string of at most max bytes.
func (r *fieldReader) str(m member, max int, name bool) string {
	r.present[m.key] = !isNull(m.value)
	s, ok := r.p.str(r.path+"."+m.key, m.value, max, name)
	if !ok {
		r.bad[m.key], r.ok = true, false
	}
	return s
}

// unknown reports a field the object does not have.
func (r *fieldReader) unknown(key, allowed string) {
	r.p.add(r.path, "unknown field %s; allowed: %s", quote(key), allowed)
	r.ok = false
}

// require reports key when its value is missing or empty (and was not
// reported already).
func (r *fieldReader) require(key, value string) {
	switch {
	case r.bad[key] || value != "":
	case r.present[key]:
		r.p.add(r.path+"."+key, "must not be empty")
		r.ok = false
	default:
		r.p.add(r.path+"."+key, "required")
		r.ok = false
	}
}

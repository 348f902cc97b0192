package prompts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/neomem/neomem/graph"
)

// Call is one tool call of the model's decision reply.
type Call struct {
	Name string
	// Arguments is the JSON object the model sent. Empty arguments (or
	// null), which some providers send for a call without arguments, count
	// as an empty object.
	Arguments json.RawMessage
}

// Known holds the short ids the decision prompt showed the model.
type Known struct {
	// Facts are the new facts' ids ("F1"…).
	Facts []string
	// Memories are the existing memories' ids ("M1"…).
	Memories []string
	// Relations are the existing relations' ids ("R1"…).
	Relations []string
}

// Decision is what the model decided, call by call in reply order.
type Decision struct {
	Memories  []MemoryDecision
	Relations []RelationDecision
	// Noops are the ids given to noop calls, "" for a noop without id.
	Noops []string
}

// MemoryDecision is one add_memory, update_memory or delete_memory call.
type MemoryDecision struct {
	// Op is graph.OpAdd, graph.OpUpdate or graph.OpDelete.
	Op graph.Op
	// ID is the memory's short id (an M id) for updates and deletes.
	ID string
	// Text is the new memory for adds and updates; empty for deletes.
	Text string
	// Fact is the short id (an F id) of the fact it comes from, if given.
	Fact string
}

// RelationDecision is one add_graph_memory, update_graph_memory or
// delete_graph_memory call.
type RelationDecision struct {
	// Op is graph.OpAdd, graph.OpUpdate or graph.OpDelete.
	Op graph.Op
	// ID is the relation's short id (an R id) for updates and deletes.
	ID string
	// Source, Relationship and Target are set for adds; for updates an
	// empty one keeps the old relation's value; for deletes all are empty.
	Source       string
	Relationship string
	Target       string
	// SourceType and TargetType are the entities' types, for adds, if given.
	SourceType string
	TargetType string
}

const opDecision = "parse decision"

// idKind says which ids an argument takes.
type idKind int

const (
	notID idKind = iota
	factID
	memoryID
	relationID
	anyID
)

// arg is one argument of a decision tool.
type arg struct {
	name     string
	required bool
	id       idKind
	max      int
	isName   bool
}

// decisionArgs are the arguments each decision tool takes, as in its schema
// (a test keeps the two in step).
var decisionArgs = map[string][]arg{
	ToolAddMemory: {
		{name: "text", required: true, max: MaxTextBytes},
		{name: "fact", id: factID, max: MaxNameBytes, isName: true},
	},
	ToolUpdateMemory: {
		{name: "id", required: true, id: memoryID, max: MaxNameBytes, isName: true},
		{name: "text", required: true, max: MaxTextBytes},
		{name: "fact", id: factID, max: MaxNameBytes, isName: true},
	},
	ToolDeleteMemory: {
		{name: "id", required: true, id: memoryID, max: MaxNameBytes, isName: true},
		{name: "reason", max: MaxTextBytes},
	},
	ToolAddGraphMemory: {
		{name: "source", required: true, max: MaxNameBytes, isName: true},
		{name: "relationship", required: true, max: MaxNameBytes, isName: true},
		{name: "target", required: true, max: MaxNameBytes, isName: true},
		{name: "source_type", max: MaxNameBytes, isName: true},
		{name: "target_type", max: MaxNameBytes, isName: true},
	},
	ToolUpdateGraphMemory: {
		{name: "id", required: true, id: relationID, max: MaxNameBytes, isName: true},
		{name: "source", max: MaxNameBytes, isName: true},
		{name: "relationship", max: MaxNameBytes, isName: true},
		{name: "target", max: MaxNameBytes, isName: true},
	},
	ToolDeleteGraphMemory: {
		{name: "id", required: true, id: relationID, max: MaxNameBytes, isName: true},
		{name: "reason", max: MaxTextBytes},
	},
	ToolNoop: {
		{name: "id", id: anyID, max: MaxNameBytes, isName: true},
		{name: "reason", max: MaxTextBytes},
	},
}

// ParseDecision reads the tool calls of a decision reply strictly, against
// the ids the prompt showed. It is an error when there are no calls, a tool
// is unknown, arguments are not a JSON object or have unknown fields, a
// required argument is missing or empty, an id is not a known id of the
// right kind (an M id for update_memory and delete_memory, an R id for
// update_graph_memory and delete_graph_memory, an F id for fact, any known id
// for noop), an update_graph_memory changes nothing, or two calls decide the
// same M or R id (noop changes nothing and never conflicts). Strings are
// trimmed; an empty optional argument counts as absent.
//
// Every problem is reported in one graph.Invalid error whose fields have
// paths like "calls[3].id" and messages a model can act on; FormatErrors and
// RetryMessage turn it into the retry turn.
func ParseDecision(calls []Call, known Known) (Decision, error) {
	var p problems
	switch {
	case len(calls) == 0:
		p.add("calls", "no tool calls; call noop if nothing changes")
		return Decision{}, p.err(opDecision)
	case len(calls) > MaxCalls:
		p.add("calls", "%d tool calls; at most %d", len(calls), MaxCalls)
		return Decision{}, p.err(opDecision)
	}
	ids := newIDs(known)
	decided := map[string]int{} // M or R id → index of the call that decided it
	var out Decision
	for i, c := range calls {
		path := fmt.Sprintf("calls[%d]", i)
		args, ok := readArgs(&p, path, c, ids)
		if !ok {
			continue
		}
		if id := args["id"]; id != "" && c.Name != ToolNoop {
			if j, dup := decided[id]; dup {
				p.add(path+".id", "%s was already decided by calls[%d]; make one decision per id", id, j)
				continue
			}
			decided[id] = i
		}
		switch c.Name {
		case ToolAddMemory:
			out.Memories = append(out.Memories, MemoryDecision{Op: graph.OpAdd, Text: args["text"], Fact: args["fact"]})
		case ToolUpdateMemory:
			out.Memories = append(out.Memories, MemoryDecision{Op: graph.OpUpdate, ID: args["id"], Text: args["text"], Fact: args["fact"]})
		case ToolDeleteMemory:
			out.Memories = append(out.Memories, MemoryDecision{Op: graph.OpDelete, ID: args["id"]})
		case ToolAddGraphMemory:
			out.Relations = append(out.Relations, RelationDecision{Op: graph.OpAdd,
				Source: args["source"], Relationship: args["relationship"], Target: args["target"],
				SourceType: args["source_type"], TargetType: args["target_type"]})
		case ToolUpdateGraphMemory:
			if args["source"] == "" && args["relationship"] == "" && args["target"] == "" {
				p.add(path, "update_graph_memory changes nothing; give the new source, relationship or target, or call noop")
				continue
			}
			out.Relations = append(out.Relations, RelationDecision{Op: graph.OpUpdate, ID: args["id"],
				Source: args["source"], Relationship: args["relationship"], Target: args["target"]})
		case ToolDeleteGraphMemory:
			out.Relations = append(out.Relations, RelationDecision{Op: graph.OpDelete, ID: args["id"]})
		case ToolNoop:
			out.Noops = append(out.Noops, args["id"])
		}
	}
	if err := p.err(opDecision); err != nil {
		return Decision{}, err
	}
	return out, nil
}

// readArgs checks one call's name and arguments and returns the non-empty
// argument values by name; false when any problem was reported.
func readArgs(p *problems, path string, c Call, ids ids) (map[string]string, bool) {
	spec, ok := decisionArgs[c.Name]
	if !ok {
		p.add(path+".name", "unknown tool %s; use one of %s", quote(c.Name), strings.Join(decisionToolNames, ", "))
		return nil, false
	}
	raw := []byte(c.Arguments)
	if len(bytes.TrimSpace(raw)) == 0 || isNull(raw) {
		raw = []byte("{}")
	}
	if len(raw) > maxArgsBytes {
		p.add(path+".arguments", "are too long (%d bytes; at most %d)", len(raw), maxArgsBytes)
		return nil, false
	}
	ms, ok := p.object(path+".arguments", raw)
	if !ok {
		return nil, false
	}
	vals := map[string]string{}
	reported := map[string]bool{}
	ok = true
	for _, m := range ms {
		a, found := findArg(spec, m.key)
		if !found {
			p.add(path, "unknown field %s for %s; allowed: %s", quote(m.key), c.Name, argNames(spec))
			ok = false
			continue
		}
		at := path + "." + a.name
		s, good := p.str(at, m.value, a.max, a.isName)
		switch {
		case !good:
			reported[a.name], ok = true, false
		case s == "":
			// An empty optional argument is absent; a required one is
			// reported below.
		case a.id != notID && !ids.has(a.id, s):
			p.add(at, "%s", ids.unknown(a.id, s))
			reported[a.name], ok = true, false
		default:
			vals[a.name] = s
		}
	}
	for _, a := range spec {
		if a.required && vals[a.name] == "" && !reported[a.name] {
			p.add(path+"."+a.name, "required")
			ok = false
		}
	}
	return vals, ok
}

func findArg(spec []arg, name string) (arg, bool) {
	for _, a := range spec {
		if a.name == name {
			return a, true
		}
	}
	return arg{}, false
}

func argNames(spec []arg) string {
	names := make([]string, len(spec))
	for i, a := range spec {
		names[i] = a.name
	}
	return strings.Join(names, ", ")
}

// ids are the known ids by kind.
type ids struct {
	lists [3][]string // facts, memories, relations
	kinds map[string]idKind
}

func newIDs(k Known) ids {
	var v ids
	v.lists[factID-1], v.lists[memoryID-1], v.lists[relationID-1] = k.Facts, k.Memories, k.Relations
	v.kinds = map[string]idKind{}
	for i, list := range v.lists {
		for _, id := range list {
			if _, dup := v.kinds[id]; !dup {
				v.kinds[id] = idKind(i + 1)
			}
		}
	}
	return v
}

func (v ids) has(kind idKind, id string) bool {
	if kind == anyID {
		_, ok := v.kinds[id]
		return ok
	}
	for _, known := range v.lists[kind-1] {
		if known == id {
			return true
		}
	}
	return false
}

var kindNames = [...]string{factID: "fact", memoryID: "memory", relationID: "relation"}

// unknown says why id is not a known id of kind and which ids are.
func (v ids) unknown(kind idKind, id string) string {
	if kind == anyID {
		all := append(append(append([]string(nil), v.lists[0]...), v.lists[1]...), v.lists[2]...)
		return fmt.Sprintf("unknown id %s; known: %s", quote(id), idList(all))
	}
	msg := fmt.Sprintf("unknown %s id %s", kindNames[kind], quote(id))
	if other, ok := v.kinds[id]; ok {
		msg = fmt.Sprintf("%s is a %s id, not a %s id", quote(id), kindNames[other], kindNames[kind])
	}
	list := v.lists[kind-1]
	if len(list) == 0 {
		return msg + fmt.Sprintf("; no %s ids were shown", kindNames[kind])
	}
	return msg + "; known: " + idList(list)
}

// idList lists ids for a message, at most 30 of them.
func idList(list []string) string {
	const max = 30
	if len(list) == 0 {
		return "none"
	}
	if len(list) > max {
		return strings.Join(list[:max], ", ") + fmt.Sprintf(" and %d more", len(list)-max)
	}
	return strings.Join(list, ", ")
}

// FormatErrors lists the problems of a parse error compactly, one per line
// ("- calls[3].id: unknown memory id \"M9\"; known: M1, M2"), to show the
// model in a retry turn. An error without field details is rendered as its
// message; nil as "".
func FormatErrors(err error) string {
	if err == nil {
		return ""
	}
	fields := graph.FieldsOf(err)
	if len(fields) == 0 {
		return "- " + err.Error()
	}
	lines := make([]string, len(fields))
	for i, f := range fields {
		if f.Path == "" {
			lines[i] = "- " + f.Message
		} else {
			lines[i] = "- " + f.Path + ": " + f.Message
		}
	}
	return strings.Join(lines, "\n")
}

// RetryMessage is the user message of the single retry of a decision whose
// reply err (from ParseDecision) rejected: the problems, then the request to
// reply again with tool calls only, using only the ids shown.
func RetryMessage(err error) string {
	var b strings.Builder
	if err := retryTmpl.Execute(&b, FormatErrors(err)); err != nil {
		// Unreachable: the template is parsed at start-up and its only
		// data is a string.
		panic(fmt.Sprintf("prompts: render retry message: %v", err))
	}
	return strings.TrimSpace(b.String())
}

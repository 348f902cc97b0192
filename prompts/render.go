package prompts

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/neomem/neomem/graph"
)

// Each .tmpl file defines two templates, "system" and "user", and is parsed
// into its own set, so the names do not clash between files.
//
//go:embed *.tmpl
var files embed.FS

var (
	extractTmpl    = parse("extract.tmpl")
	decideTmpl     = parse("decide.tmpl")
	proceduralTmpl = parse("procedural.tmpl")
	visionTmpl     = parse("vision.tmpl")
	retryTmpl      = parse("retry.tmpl")
)

// funcs are the helpers templates use to put user and model text into a
// prompt as data: as JSON strings, which cannot break out of their line.
var funcs = template.FuncMap{
	"quote":   quoteJSON,
	"message": messageJSON,
	"bullet":  bullet,
}

func parse(name string) *template.Template {
	return template.Must(template.New(name).Funcs(funcs).ParseFS(files, name))
}

// Message is one conversation turn given to a prompt.
type Message struct {
	// Role is "user", "assistant", "system" or "tool".
	Role string
	// Name is the speaker's name, if known.
	Name string
	// Content is the text of the turn.
	Content string
}

// ExtractData is the data of the extraction prompt.
type ExtractData struct {
	// Today is the current date as YYYY-MM-DD, to turn relative dates into
	// absolute ones. Required.
	Today string
	// UserName is how the user is called in facts: the scope's user id or a
	// known name. Required.
	UserName string
	// AgentName is the assistant's name, if it has one.
	AgentName string
	// Messages are the new conversation turns to extract from. At least one.
	Messages []Message
	// Instructions are custom instructions (per deployment, then per
	// request); blank ones are dropped.
	Instructions []string
}

// Extract renders the extraction prompt. The reply is one forced call of
// ExtractTool, read with ParseExtraction. It returns an Invalid error when
// Today is not a date, UserName is empty or there are no messages.
func Extract(d ExtractData) (system, user string, err error) {
	var p problems
	checkToday(&p, d.Today)
	if strings.TrimSpace(d.UserName) == "" {
		p.add("user_name", "required")
	}
	if len(d.Messages) == 0 {
		p.add("messages", "at least one message is required")
	}
	if err := p.err("render extract prompt"); err != nil {
		return "", "", err
	}
	d.Instructions = cleanInstructions(d.Instructions)
	return render(extractTmpl, d)
}

// Item is a fact or a memory shown to the decision prompt under a short id.
type Item struct {
	// ID is "F1", "F2"… for new facts and "M1", "M2"… for memories.
	ID   string
	Text string
}

// EntityItem is an entity shown to the decision prompt.
type EntityItem struct {
	Name string
	Type string
	// Existing is true when the entity is already in memory, false when the
	// extraction introduced it.
	Existing bool
}

// RelationItem is a relation shown to the decision prompt: new ones have no
// ID, existing ones "R1", "R2"….
type RelationItem struct {
	ID           string
	Source       string
	Relationship string
	Target       string
}

// DecideData is the data of the decision prompt.
type DecideData struct {
	// Today is the current date as YYYY-MM-DD. Required.
	Today string
	// UserName is how the user is called. Required.
	UserName string
	// Instructions are custom instructions; blank ones are dropped.
	Instructions []string
	// Facts are the new facts, with ids "F1", "F2"….
	Facts []Item
	// Memories are existing memories similar to the facts, with ids "M1"….
	Memories []Item
	// Entities are the entities the facts and relations are about.
	Entities []EntityItem
	// NewRelations are the extracted relations (no ID).
	NewRelations []RelationItem
	// Relations are existing current relations, with ids "R1"….
	Relations []RelationItem
}

// Decide renders the decision prompt. The reply is a turn of calls of
// DecisionTools, read with ParseDecision. It returns an Invalid error when
// Today is not a date, UserName is empty, there is neither a fact nor a new
// relation, or a fact, memory or relation lacks an id or repeats one.
func Decide(d DecideData) (system, user string, err error) {
	var p problems
	checkToday(&p, d.Today)
	if strings.TrimSpace(d.UserName) == "" {
		p.add("user_name", "required")
	}
	if len(d.Facts) == 0 && len(d.NewRelations) == 0 {
		p.add("facts", "at least one fact or new relation is required")
	}
	seen := map[string]string{}
	checkID := func(path, id string) {
		switch {
		case id == "":
			p.add(path, "required")
		case seen[id] != "":
			p.add(path, "duplicate id %s (also %s)", quote(id), seen[id])
		default:
			seen[id] = path
		}
	}
	for i, f := range d.Facts {
		checkID(fmt.Sprintf("facts[%d].id", i), f.ID)
	}
	for i, m := range d.Memories {
		checkID(fmt.Sprintf("memories[%d].id", i), m.ID)
	}
	for i, r := range d.Relations {
		checkID(fmt.Sprintf("relations[%d].id", i), r.ID)
	}
	if err := p.err("render decide prompt"); err != nil {
		return "", "", err
	}
	d.Instructions = cleanInstructions(d.Instructions)
	return render(decideTmpl, d)
}

// ProceduralData is the data of the procedural-memory prompt.
type ProceduralData struct {
	// Messages are the agent's execution history. At least one.
	Messages []Message
	// Instructions are custom instructions; blank ones are dropped.
	Instructions []string
	// AgentName is the agent's name, if it has one.
	AgentName string
}

// Procedural renders the prompt that summarises an agent's execution history
// into one procedural memory; the reply is plain text. It returns an Invalid
// error when there are no messages.
func Procedural(d ProceduralData) (system, user string, err error) {
	if len(d.Messages) == 0 {
		return "", "", graph.InvalidFields("render procedural prompt",
			graph.FieldError{Path: "messages", Message: "at least one message is required"})
	}
	d.Instructions = cleanInstructions(d.Instructions)
	return render(proceduralTmpl, d)
}

// VisionData is the data of the image-description prompt.
type VisionData struct {
	// Context is the text of the turn the image was attached to, if any.
	Context string
}

// Vision renders the prompt that asks a vision-capable model to describe an
// image; the caller attaches the image to the user message. The reply is
// plain text, processed like a user message.
func Vision(d VisionData) (system, user string, err error) {
	d.Context = strings.TrimSpace(d.Context)
	return render(visionTmpl, d)
}

// render executes the set's "system" and "user" templates. Surrounding white
// space is template layout and is trimmed; data never starts or ends a
// prompt, so no user text is changed.
func render(t *template.Template, data any) (system, user string, err error) {
	var s, u strings.Builder
	if err := t.ExecuteTemplate(&s, "system", data); err != nil {
		return "", "", fmt.Errorf("render %s system prompt: %w", t.Name(), err)
	}
	if err := t.ExecuteTemplate(&u, "user", data); err != nil {
		return "", "", fmt.Errorf("render %s user prompt: %w", t.Name(), err)
	}
	return strings.TrimSpace(s.String()), strings.TrimSpace(u.String()), nil
}

func checkToday(p *problems, today string) {
	if _, err := time.Parse(time.DateOnly, today); err != nil {
		p.add("today", "must be a date as YYYY-MM-DD, got %s", quote(today))
	}
}

// cleanInstructions trims the instructions and drops blank ones, in a new
// slice (the caller's is not changed).
func cleanInstructions(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// quoteJSON renders s as a JSON string. Unlike json.Marshal it keeps <, >
// and & as they are: a prompt is not HTML.
func quoteJSON(s string) (string, error) {
	return encodeJSON(s)
}

// messageJSON renders one turn as a one-line JSON object.
func messageJSON(m Message) (string, error) {
	return encodeJSON(struct {
		Role    string `json:"role"`
		Name    string `json:"name,omitempty"`
		Content string `json:"content"`
	}{m.Role, m.Name, m.Content})
}

func encodeJSON(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// bullet indents the continuation lines of a multi-line list item.
func bullet(s string) string {
	return strings.ReplaceAll(s, "\n", "\n  ")
}

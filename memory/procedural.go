package memory

import (
	"context"
	"strings"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/llm"
	"github.com/neomem/neomem/prompts"
)

// addProcedural summarises an agent's run in one call that keeps every action
// and output verbatim, and stores the summary as one procedural memory.
func (e *Engine) addProcedural(ctx context.Context, req graph.AddRequest, msgs []graph.Message, res *graph.AddResult) error {
	system, user, err := prompts.Procedural(prompts.ProceduralData{Messages: promptMessages(msgs), Instructions: e.instructions(req), AgentName: req.Scope.AgentID})
	if err != nil {
		return err
	}
	resp, err := e.chat.Chat(ctx, llm.Request{Messages: []llm.Message{{Role: llm.RoleSystem, Content: system}, {Role: llm.RoleUser, Content: user}}})
	if err != nil {
		return err
	}
	countChat(&res.Usage, resp)
	summary := strings.TrimSpace(resp.Text)
	if summary == "" {
		return graph.E(graph.Unavailable, "procedural summary", "the model returned an empty summary (nothing was written)")
	}
	vs, err := e.embed(ctx, []string{summary}, &res.Usage)
	if err != nil {
		return err
	}
	md := map[string]any{}
	for k, v := range req.Metadata {
		md[k] = v
	}
	md["memory_type"] = string(graph.TypeProcedural)
	m := graph.Memory{ID: graph.NewID(), Scope: req.Scope, Text: summary, Kind: graph.KindProcedural,
		Role: "assistant", ActorID: req.Scope.AgentID, Metadata: md, Embedding: vs[0], Source: req.Sources(), CreatedAt: req.Said()}
	res.Results = append(res.Results, graph.Result{ID: m.ID, Memory: summary, Event: graph.EventAdd})
	audit, err := recordable(req.Audit, *res)
	if err != nil {
		return err
	}
	_, err = e.store.CreateMemories(ctx, []graph.Memory{m}, audit)
	return err
}

func promptMessages(msgs []graph.Message) []prompts.Message {
	out := make([]prompts.Message, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, prompts.Message{Role: m.Role, Name: m.Name, Content: m.Content})
	}
	return out
}

// instructions are the deployment's and then the request's custom
// instructions.
func (e *Engine) instructions(req graph.AddRequest) []string {
	var out []string
	for _, s := range []string{e.cfg.Instructions, req.Prompt} {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

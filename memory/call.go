package memory

import (
	"context"
	"encoding/json"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/llm"
	"github.com/neomem/neomem/prompts"
)

// toolsOf converts the prompts' tool specs to the model seam's tools.
func toolsOf(specs ...prompts.ToolSpec) []llm.Tool {
	out := make([]llm.Tool, len(specs))
	for i, s := range specs {
		out[i] = llm.Tool{Name: s.Name, Description: s.Description, Parameters: s.Parameters}
	}
	return out
}

// callsOf converts a reply's tool calls for the strict parsers.
func callsOf(r llm.Response) []prompts.Call {
	out := make([]prompts.Call, len(r.ToolCalls))
	for i, c := range r.ToolCalls {
		out[i] = prompts.Call{Name: c.Name, Arguments: json.RawMessage(c.Arguments)}
	}
	return out
}

// chatParsed makes one model call and parses its reply with parse. A reply
// that does not parse (bad JSON, unknown tool, unknown id, missing field) is
// shown to the model with what was wrong, once; if the second reply does not
// parse either, the add fails with Unavailable and nothing is written.
func (e *Engine) chatParsed(ctx context.Context, req llm.Request, u *graph.Usage, parse func(llm.Response) error) error {
	resp, err := e.chat.Chat(ctx, req)
	if err != nil {
		return err
	}
	countChat(u, resp)
	perr := parse(resp)
	if perr == nil {
		return nil
	}
	retry := req
	retry.Messages = append(append([]llm.Message(nil), req.Messages...), llm.Message{Role: llm.RoleAssistant, Content: resp.Text, ToolCalls: resp.ToolCalls})
	for _, c := range resp.ToolCalls {
		retry.Messages = append(retry.Messages, llm.Message{Role: llm.RoleTool, ToolCallID: c.ID, Name: c.Name,
			Content: `{"error":"not applied; see the next message"}`})
	}
	retry.Messages = append(retry.Messages, llm.Message{Role: llm.RoleUser, Content: prompts.RetryMessage(perr)})
	resp, err = e.chat.Chat(ctx, retry)
	if err != nil {
		return err
	}
	countChat(u, resp)
	if err := parse(resp); err != nil {
		return &graph.Error{Kind: graph.Unavailable, Op: "model reply",
			Msg: "the model's reply could not be used, also after one retry (nothing was written)", Fields: graph.FieldsOf(err), Err: err}
	}
	return nil
}

package memory

import (
	"context"
	"strconv"
	"strings"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/llm"
	"github.com/neomem/neomem/prompts"
)

// describeImages replaces the images of each message by a description from
// the vision model (one call per message with images), so the rest of the
// pipeline sees text. Without a vision model, images are an Invalid error.
func (e *Engine) describeImages(ctx context.Context, msgs []graph.Message, u *graph.Usage) ([]graph.Message, error) {
	out := make([]graph.Message, len(msgs))
	copy(out, msgs)
	for i, m := range out {
		if len(m.Images) == 0 {
			continue
		}
		if e.vision == nil {
			return nil, graph.InvalidFields("describe image", graph.FieldError{Path: "messages[" + strconv.Itoa(i) + "].content",
				Message: "has an image, but no vision-capable model is configured (set NEOMEM_VISION_MODEL, or use gemini, openai or anthropic, whose chat models see images)"})
		}
		system, user, err := prompts.Vision(prompts.VisionData{Context: m.Content})
		if err != nil {
			return nil, err
		}
		resp, err := e.vision.Chat(ctx, llm.Request{Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: system},
			{Role: llm.RoleUser, Content: user, Images: llmImages(m.Images)},
		}})
		if err != nil {
			return nil, err
		}
		countChat(u, resp)
		desc := strings.TrimSpace(resp.Text)
		if desc == "" {
			return nil, graph.E(graph.Unavailable, "describe image", "the vision model returned no description")
		}
		parts := []string{}
		if m.Content != "" {
			parts = append(parts, m.Content)
		}
		parts = append(parts, "[image: "+desc+"]")
		out[i].Content = strings.Join(parts, "\n")
		out[i].Images = nil
	}
	return out, nil
}

func llmImages(in []graph.Image) []llm.Image {
	out := make([]llm.Image, len(in))
	for i, im := range in {
		out[i] = llm.Image{URL: im.URL, MIMEType: im.MIMEType, Data: im.Data}
	}
	return out
}

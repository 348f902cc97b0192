package langchain

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/llm"
)

// call follows the HTTP requests langchaingo makes for one model call: the
// recorder notes what came back, so that fail can build the ProviderError
// langchaingo's text-only errors cannot. It also carries the request edits
// langchaingo has no option for.
type call struct {
	provider string
	// set holds top-level request fields to add or replace (JSON values).
	set map[string]json.RawMessage
	// del names top-level request fields to remove.
	del []string
	// mergeTurns joins consecutive "messages" of one role (see mergeTurns).
	mergeTurns bool
	// keyless strips the placeholder Authorization header (see Config.token).
	keyless bool

	mu         sync.Mutex
	sent       bool   // a request reached the transport
	status     int    // status of the last response, 0 if none arrived
	retryAfter string // its Retry-After header
	err        error  // the transport's error when no response arrived
	bodyErr    error  // an error reading the response body
}

type callKey struct{}

// withCall returns ctx carrying c for the recorder.
func withCall(ctx context.Context, c *call) context.Context {
	return context.WithValue(ctx, callKey{}, c)
}

// fail turns the error langchaingo returned into a *llm.ProviderError using
// what the recorder saw: no request sent means langchaingo refused the
// request (Invalid); no response means a transport failure; a status other
// than 200 is a provider error with that status; a 200 whose body could not
// be read is a transport failure, one that could not be understood a
// malformed reply.
func (c *call) fail(ctx context.Context, err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case !c.sent && ctx.Err() != nil:
		return llm.TransportError(c.provider, ctx.Err())
	case !c.sent:
		return invalid(c.provider, err)
	case c.status == 0:
		if c.err != nil {
			// langchaingo's openai client replaces network errors by a
			// generic message; the transport's own error says more and keeps
			// context.DeadlineExceeded visible to errors.Is.
			err = c.err
		}
		return llm.TransportError(c.provider, err)
	case c.status != http.StatusOK:
		return llm.StatusError(c.provider, c.status, c.retryAfter, err)
	case c.bodyErr != nil:
		return llm.TransportError(c.provider, c.bodyErr)
	default:
		return llm.MalformedError(c.provider, err)
	}
}

// invalid builds the ProviderError for a request that was refused before it
// was sent: the caller's input cannot be expressed for this provider.
func invalid(provider string, err error) *llm.ProviderError {
	return &llm.ProviderError{Provider: provider, Kind: graph.Invalid, Msg: "request not sent", Err: err}
}

// recorder is the http.RoundTripper every adapter client uses. Requests whose
// context carries a *call are edited as the call says and their outcome is
// recorded in it; others pass through unchanged.
type recorder struct {
	base http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	c, _ := req.Context().Value(callKey{}).(*call)
	if c == nil {
		return t.base.RoundTrip(req)
	}
	out, err := c.edit(req)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.sent, c.status, c.retryAfter, c.err, c.bodyErr = true, 0, "", nil, nil
	c.mu.Unlock()

	resp, err := t.base.RoundTrip(out)

	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.err = err
		return nil, err
	}
	c.status = resp.StatusCode
	c.retryAfter = resp.Header.Get("Retry-After")
	resp.Body = &recordedBody{ReadCloser: resp.Body, c: c}
	return resp, nil
}

// edit returns req with the call's edits applied, as a clone (a RoundTripper
// must not modify its request). It closes req.Body when it replaces it.
func (c *call) edit(req *http.Request) (*http.Request, error) {
	editBody := len(c.set) > 0 || len(c.del) > 0 || c.mergeTurns
	if !editBody && !c.keyless {
		return req, nil
	}
	out := req.Clone(req.Context())
	if c.keyless && out.Header.Get("Authorization") == "Bearer "+keylessToken {
		out.Header.Del("Authorization")
	}
	if !editBody || req.Body == nil || req.Body == http.NoBody {
		return out, nil
	}
	raw, err := io.ReadAll(req.Body)
	if cerr := req.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, fmt.Errorf("edit request body: %w", err)
	}
	for _, k := range c.del {
		delete(fields, k)
	}
	for k, v := range c.set {
		fields[k] = v
	}
	if msgs, ok := fields["messages"]; ok && c.mergeTurns {
		if fields["messages"], err = mergeTurns(msgs); err != nil {
			return nil, fmt.Errorf("edit request body: %w", err)
		}
	}
	body, err := json.Marshal(fields)
	if err != nil {
		return nil, fmt.Errorf("edit request body: %w", err)
	}
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	out.ContentLength = int64(len(body))
	return out, nil
}

// turn is one message of Anthropic's Messages API, content as blocks.
type turn struct {
	Role    string            `json:"role"`
	Content []json.RawMessage `json:"content"`
}

// mergeTurns joins consecutive messages of one role into one message with
// their content blocks in order. langchaingo's Anthropic client sends only
// the first part of an assistant message, so the adapter sends text and each
// tool_use as messages of their own and each tool_result as a user message;
// merged, a turn's tool_use blocks are answered by tool_result blocks in the
// next user turn, as the API requires.
func mergeTurns(raw json.RawMessage) (json.RawMessage, error) {
	var in []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, fmt.Errorf("messages: %w", err)
	}
	out := make([]turn, 0, len(in))
	for i, m := range in {
		var blocks []json.RawMessage
		if err := json.Unmarshal(m.Content, &blocks); err != nil {
			var text string
			if json.Unmarshal(m.Content, &text) != nil {
				return nil, fmt.Errorf("message %d: content is neither blocks nor text", i)
			}
			b, _ := json.Marshal(map[string]string{"type": "text", "text": text})
			blocks = []json.RawMessage{b}
		}
		if n := len(out); n > 0 && out[n-1].Role == m.Role {
			out[n-1].Content = append(out[n-1].Content, blocks...)
			continue
		}
		out = append(out, turn{Role: m.Role, Content: blocks})
	}
	return json.Marshal(out)
}

// recordedBody notes a failure to read the response body, which is a
// transport problem rather than a malformed reply.
type recordedBody struct {
	io.ReadCloser
	c *call
}

// Read implements io.Reader.
func (b *recordedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		b.c.mu.Lock()
		b.c.bodyErr = err
		b.c.mu.Unlock()
	}
	return n, err
}

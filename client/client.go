package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// DefaultUserAgent is the User-Agent of a Client made without
// WithUserAgent.
const DefaultUserAgent = "neomem-go-client"

// Client calls one neomem server with one API key, which binds every call to
// the key's tenant. It is safe for concurrent use.
type Client struct {
	base string // scheme, host and any path prefix, without a trailing slash
	key  string
	hc   *http.Client
	ua   string
}

// Option configures a Client made by New.
type Option func(*Client)

// WithHTTPClient makes the Client send its requests with hc (timeouts,
// proxies, TLS, transports of your own) instead of http.DefaultClient.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.hc = hc
		}
	}
}

// WithUserAgent sets the User-Agent header of every request (default
// DefaultUserAgent).
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.ua = ua }
}

// New returns a Client of the server at baseURL (such as
// "http://localhost:8080", or the URL of a path it is served under) that
// authenticates with apiKey.
func New(baseURL, apiKey string, opts ...Option) *Client {
	c := &Client{base: strings.TrimRight(baseURL, "/"), key: apiKey, hc: http.DefaultClient, ua: DefaultUserAgent}
	for _, o := range opts {
		o(c)
	}
	return c
}

// CallOption configures one call by setting headers of its request:
// IdempotencyKey and IfMatch, or one of your own (a tracing header, say).
type CallOption func(http.Header)

// IdempotencyKey sends key as the request's Idempotency-Key (1 to 255
// visible ASCII characters; a UUID is a good key), which makes a write safe
// to retry: the server writes at most once per key, and a retry of the same
// request with the same key gets the first answer again without writing. The
// same key with another request is an ErrInvalid. Keys are kept for 24 hours.
// Reads ignore it.
func IdempotencyKey(key string) CallOption {
	return func(h http.Header) { h.Set("Idempotency-Key", key) }
}

// IfMatch makes Update or Delete of a memory conditional: the memory is
// changed only while it is at version (Memory.Version, also its ETag), else
// the call fails with ErrPrecondition and nothing changes. Other calls
// ignore it.
func IfMatch(version int) CallOption {
	return func(h http.Header) { h.Set("If-Match", `"`+strconv.Itoa(version)+`"`) }
}

// do sends one request and decodes a successful answer's JSON into out (when
// not nil); any other answer is an *Error. It returns the answer's status.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any, opts []CallOption) (int, error) {
	target := c.base + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, fmt.Errorf("neomem: %s %s: encode the request: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return 0, fmt.Errorf("neomem: %s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	req.Header.Set("X-API-Key", c.key)
	if c.ua != "" {
		req.Header.Set("User-Agent", c.ua)
	}
	for _, o := range opts {
		o(req.Header)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("neomem: %s %s: %w", method, path, err)
	}
	defer func() {
		// Drain what is left so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
	}()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, errorOf(resp, method, path)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp.StatusCode, fmt.Errorf("neomem: %s %s: decode the answer (%d): %w", method, path, resp.StatusCode, err)
		}
	}
	return resp.StatusCode, nil
}

// idPath is path with one escaped id appended.
func idPath(prefix, id string) string { return prefix + url.PathEscape(id) }

// queryOf encodes a generated parameters struct (fields tagged form:"name")
// as a query: zero values are left out (the server's defaults apply), times
// are RFC 3339.
func queryOf(params any) url.Values {
	q := url.Values{}
	v := reflect.ValueOf(params)
	t := v.Type()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("form"), ",")
		f := v.Field(i)
		if name == "" || f.IsZero() {
			continue
		}
		switch x := f.Interface().(type) {
		case time.Time:
			q.Set(name, x.UTC().Format(time.RFC3339Nano))
		case string:
			q.Set(name, x)
		case int:
			q.Set(name, strconv.Itoa(x))
		case bool:
			q.Set(name, strconv.FormatBool(x))
		default:
			q.Set(name, fmt.Sprint(x))
		}
	}
	return q
}

package llm

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/vector"
)

// RetryPolicy bounds each call and retries the retryable failures with
// exponential backoff and full jitter.
type RetryPolicy struct {
	// Timeout bounds one attempt (0: no bound beyond the caller's context).
	Timeout time.Duration
	// Attempts is the total number of tries, at least 1.
	Attempts int
	// BaseDelay is the first backoff; it doubles each retry up to MaxDelay.
	BaseDelay time.Duration
	MaxDelay  time.Duration
}

// DefaultRetryPolicy is used by the server unless configured otherwise.
var DefaultRetryPolicy = RetryPolicy{Timeout: 60 * time.Second, Attempts: 4, BaseDelay: 500 * time.Millisecond, MaxDelay: 20 * time.Second}

// sleep is replaced in tests.
var sleep = func(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Do runs call under the policy: each attempt gets its own time-out; an
// error that is a retryable *ProviderError (or an attempt's own time-out) is
// retried after max(backoff with jitter, Retry-After). The last error is
// returned; a time-out of the caller's context is Unavailable.
func (p RetryPolicy) Do(ctx context.Context, call func(ctx context.Context) error) error {
	attempts := max(p.Attempts, 1)
	var err error
	for i := 0; i < attempts; i++ {
		err = p.attempt(ctx, call)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return graph.Wrap(graph.Unavailable, "model call", err)
		}
		pe, ok := AsProviderError(err)
		if !ok || !pe.Retryable() || i == attempts-1 {
			return err
		}
		wait := p.backoff(i)
		if pe.RetryAfter > wait {
			wait = pe.RetryAfter
		}
		if p.MaxDelay > 0 && wait > p.MaxDelay {
			wait = p.MaxDelay
		}
		if serr := sleep(ctx, wait); serr != nil {
			return graph.Wrap(graph.Unavailable, "model call", err)
		}
	}
	return err
}

func (p RetryPolicy) attempt(ctx context.Context, call func(ctx context.Context) error) error {
	if p.Timeout <= 0 {
		return call(ctx)
	}
	actx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	err := call(actx)
	if err != nil && errors.Is(actx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		// The attempt's own time-out: retryable, whatever the adapter made of it.
		if _, ok := AsProviderError(err); !ok || !errors.Is(err, graph.Unavailable) {
			return TransportError("model", err)
		}
	}
	return err
}

// backoff is full jitter over an exponentially growing cap.
func (p RetryPolicy) backoff(retry int) time.Duration {
	base := p.BaseDelay
	if base <= 0 {
		base = 100 * time.Millisecond
	}
	capped := base << retry
	if p.MaxDelay > 0 && (capped > p.MaxDelay || capped <= 0) {
		capped = p.MaxDelay
	}
	return time.Duration(rand.Int64N(int64(capped)) + 1)
}

// WithRetry wraps a ChatModel so every call follows the policy.
func WithRetry(m ChatModel, p RetryPolicy) ChatModel { return retryChat{m, p} }

type retryChat struct {
	m ChatModel
	p RetryPolicy
}

func (r retryChat) Name() string { return r.m.Name() }

func (r retryChat) Chat(ctx context.Context, req Request) (Response, error) {
	var resp Response
	err := r.p.Do(ctx, func(ctx context.Context) error {
		var err error
		resp, err = r.m.Chat(ctx, req)
		return err
	})
	return resp, err
}

// WithRetryEmbedder wraps a vector.Embedder so every call follows the policy.
func WithRetryEmbedder(e vector.Embedder, p RetryPolicy) vector.Embedder { return retryEmbed{e, p} }

type retryEmbed struct {
	e vector.Embedder
	p RetryPolicy
}

func (r retryEmbed) Name() string    { return r.e.Name() }
func (r retryEmbed) Dimensions() int { return r.e.Dimensions() }

func (r retryEmbed) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	var out [][]float32
	err := r.p.Do(ctx, func(ctx context.Context) error {
		var err error
		out, err = r.e.Embed(ctx, texts)
		return err
	})
	return out, err
}

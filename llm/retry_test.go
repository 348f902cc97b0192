package llm

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/neomem/neomem/graph"
)

// noSleep records the waits instead of sleeping.
func noSleep(t *testing.T) *[]time.Duration {
	var waits []time.Duration
	old := sleep
	sleep = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		return ctx.Err()
	}
	t.Cleanup(func() { sleep = old })
	return &waits
}

func TestRetryRetriesRateLimitsAndServerErrors(t *testing.T) {
	waits := noSleep(t)
	p := RetryPolicy{Attempts: 4, BaseDelay: 10 * time.Millisecond, MaxDelay: time.Second}
	errs := []error{
		StatusError("p", 429, "2", errors.New("slow down")),
		StatusError("p", 503, "", errors.New("overloaded")),
		TransportError("p", errors.New("connection reset")),
		nil,
	}
	calls := 0
	err := p.Do(context.Background(), func(context.Context) error { calls++; return errs[calls-1] })
	if err != nil || calls != 4 {
		t.Fatalf("Do = %v after %d calls, want success after 4", err, calls)
	}
	if len(*waits) != 3 || (*waits)[0] != time.Second {
		// Retry-After 2s is capped at MaxDelay 1s; the others are jittered.
		t.Fatalf("waits = %v", *waits)
	}
	for _, w := range (*waits)[1:] {
		if w <= 0 || w > time.Second {
			t.Fatalf("jittered wait %v out of range", w)
		}
	}
}

func TestRetryStopsOnPermanentErrors(t *testing.T) {
	noSleep(t)
	for _, tc := range []struct {
		err  error
		kind graph.Kind
	}{
		{StatusError("p", 400, "", errors.New("bad")), graph.Invalid},
		{StatusError("p", 401, "", errors.New("key")), graph.Other},
		{MalformedError("p", errors.New("json")), graph.Other},
	} {
		calls := 0
		err := DefaultRetryPolicy.Do(context.Background(), func(context.Context) error { calls++; return tc.err })
		if calls != 1 || !errors.Is(err, tc.kind) {
			t.Errorf("%v: %d calls, kind %v; want 1 call, kind %v", tc.err, calls, graph.KindOf(err), tc.kind)
		}
	}
}

func TestRetryGivesUpAfterAttempts(t *testing.T) {
	noSleep(t)
	calls := 0
	err := RetryPolicy{Attempts: 3}.Do(context.Background(), func(context.Context) error {
		calls++
		return StatusError("p", 500, "", errors.New("down"))
	})
	if calls != 3 || !errors.Is(err, graph.Unavailable) {
		t.Fatalf("%d calls, err %v", calls, err)
	}
}

func TestRetryAttemptTimeout(t *testing.T) {
	noSleep(t)
	calls := 0
	err := RetryPolicy{Attempts: 2, Timeout: 20 * time.Millisecond}.Do(context.Background(), func(ctx context.Context) error {
		calls++
		if calls == 1 {
			<-ctx.Done() // a hung provider
			return ctx.Err()
		}
		return nil
	})
	if err != nil || calls != 2 {
		t.Fatalf("Do = %v after %d calls; a timed-out attempt should be retried", err, calls)
	}
}

func TestRetryCallerCancel(t *testing.T) {
	noSleep(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := DefaultRetryPolicy.Do(ctx, func(ctx context.Context) error { return ctx.Err() })
	if !errors.Is(err, graph.Unavailable) {
		t.Fatalf("cancelled Do = %v, want Unavailable", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	tests := map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		"-1":                            0,
		"soon":                          0,
		"Sat, 21 Nov 2026 12:00:05 GMT": 5 * time.Second,
	}
	for in, want := range tests {
		if got := ParseRetryAfter(in, now); got != want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

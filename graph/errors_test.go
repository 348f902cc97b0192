package graph

import (
	"fmt"
	"testing"
	"time"
)

// providerErr is another package's error that knows its kind and wait.
type providerErr struct{}

func (providerErr) Error() string          { return "provider: rate limited" }
func (providerErr) ErrorKind() Kind        { return Unavailable }
func (providerErr) RetryIn() time.Duration { return 7 * time.Second }

func TestKindOfClassified(t *testing.T) {
	err := fmt.Errorf("add: %w", providerErr{})
	if k := KindOf(err); k != Unavailable {
		t.Fatalf("KindOf(%v) = %v, want unavailable", err, k)
	}
	if d := RetryAfterOf(err); d != 7*time.Second {
		t.Fatalf("RetryAfterOf = %v, want 7s", d)
	}
	if KindOf(fmt.Errorf("plain")) != Other || RetryAfterOf(fmt.Errorf("plain")) != 0 {
		t.Fatal("a plain error has a kind or a wait")
	}
	if KindOf(Wrap(Invalid, "op", providerErr{})) != Invalid {
		t.Fatal("a graph error's own kind comes first")
	}
}

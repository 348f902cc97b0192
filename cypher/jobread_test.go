package cypher

import (
	"testing"
	"time"

	"github.com/neomem/neomem/graph"
)

// TestWholeJob: a read of a job that lacks what its status implies (a torn
// read of the transaction that finished or deleted it) is read again.
func TestWholeJob(t *testing.T) {
	now := time.Now()
	res := &graph.AddResult{}
	for _, c := range []struct {
		name string
		j    graph.Job
		want bool
	}{
		{"pending", graph.Job{ID: "a", Status: graph.JobPending}, true},
		{"running", graph.Job{ID: "a", Status: graph.JobRunning}, true},
		{"succeeded", graph.Job{ID: "a", Status: graph.JobSucceeded, Result: res, CompletedAt: &now}, true},
		{"succeeded without its result", graph.Job{ID: "a", Status: graph.JobSucceeded, CompletedAt: &now}, false},
		{"succeeded without its completion", graph.Job{ID: "a", Status: graph.JobSucceeded, Result: res}, false},
		{"failed", graph.Job{ID: "a", Status: graph.JobFailed, Error: "x", CompletedAt: &now}, true},
		{"failed without its error", graph.Job{ID: "a", Status: graph.JobFailed, CompletedAt: &now}, false},
		{"no id (being deleted)", graph.Job{Status: graph.JobPending}, false},
	} {
		if got := whole(c.j); got != c.want {
			t.Errorf("%s: whole = %v", c.name, got)
		}
	}
}

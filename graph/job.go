package graph

import "time"

// JobStatus is where an asynchronous add stands (Mem0's event statuses).
type JobStatus string

// The job statuses.
const (
	JobPending   JobStatus = "PENDING"
	JobRunning   JobStatus = "RUNNING"
	JobSucceeded JobStatus = "SUCCEEDED"
	JobFailed    JobStatus = "FAILED"
)

// Job is an asynchronous add: the request as it was acknowledged (its raw
// messages are the provenance of the memories it produces), where it
// stands, and its result or error. Jobs of one scope run in the order they
// were acknowledged.
type Job struct {
	ID      string
	Scope   Scope
	Status  JobStatus
	Request AddRequest
	// Attempts counts the runs started; a job that failed MaxAttempts times
	// (or with an error no retry fixes) is FAILED.
	Attempts    int
	MaxAttempts int
	Result      *AddResult
	Error       string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	StartedAt   *time.Time
	CompletedAt *time.Time
	// Token fences the worker that claimed the job: only its holder may
	// renew or finish it, until its lease lapses.
	Holder string
	Token  string
}

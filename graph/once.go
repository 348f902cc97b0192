package graph

import (
	"encoding/json"
	"errors"
	"time"
)

// Once makes one write idempotent. The store records Key with the write's
// result in the write's own transaction, so either both land or neither
// does; a later write of the same tenant with the same Key then writes
// nothing and fails with Done, and the caller answers with the recorded
// result (Recall). Keys live for a retention window (24h by default), after
// which they are cleaned up and may be used again.
type Once struct {
	// Key is the client's Idempotency-Key, unique per tenant.
	Key string
	// Fingerprint identifies the request (method, route, body): a key used
	// again for another request is the caller's mistake.
	Fingerprint string
	// Result is the answer to record, as JSON, when the caller knows it
	// before the write (an add's result is fixed by its plan); when nil the
	// store records the write's own return value.
	Result json.RawMessage
	// JobID and JobToken fence the write of an asynchronous add: it commits
	// only while the job is still claimed with JobToken, and the same
	// transaction marks the job SUCCEEDED with Result.
	JobID, JobToken string
}

// JobKeyPrefix starts the idempotency keys of jobs; clients cannot use it.
const JobKeyPrefix = "job:"

// MaxOnceKey is the longest idempotency key, in bytes.
const MaxOnceKey = 255

// Done returns the error of a write whose Once key was already recorded:
// nothing was written, and the recorded result is the answer. Its kind is
// Conflict; IsDone tells it apart.
func Done(op string) *Error {
	return &Error{Kind: Conflict, Op: op, Msg: "the idempotency key was already used", Err: errDone}
}

// IsDone reports whether err says a write's Once key was already recorded.
func IsDone(err error) bool { return errors.Is(err, errDone) }

var errDone = errors.New("recorded")

// Recorded is what the store kept for an idempotency key.
type Recorded struct {
	Key         string
	Fingerprint string
	// Result is the recorded answer (JSON); empty while a write that spans
	// several transactions (a batched delete) has not finished.
	Result    json.RawMessage
	CreatedAt time.Time
	ExpiresAt time.Time
}

package registry

import (
	"context"
	"time"
)

// Decision is what a write records that its arguments do not determine: the
// time it happens and the ID of its operation. The registry decides both
// itself (the clock, a fresh UUID) unless the context carries a Decision,
// which a replicated registry uses to decide them once, before a write is
// logged, so that every replica that applies the log records the same.
type Decision struct {
	// Time is recorded as UpdatedAt, CreatedAt, deletion and queue times,
	// event times, and token creation (a token expires TokenTTL after it);
	// retention ages (Purge, purge protection) are measured from it. The
	// registry still records the previous write's time instead when Time is
	// before it, so recorded times never go backwards.
	Time time.Time
	// Operation identifies the write (Result.Operation, Event.Operation,
	// DeleteOperation, Cleanup.Operation): 1 to 64 characters, unique per
	// write.
	Operation string
}

type decisionKey struct{}

// WithDecision returns a context whose writes record d instead of reading
// the clock and drawing an operation ID (see Decision). Every write call
// takes it; a call with a zero Time or an Operation that is empty or longer
// than 64 bytes is ErrInvalid on the decision field and changes nothing.
// New artifact IDs are not part of it: a caller that must decide them gives
// them to Register.
func WithDecision(ctx context.Context, d Decision) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	return context.WithValue(ctx, decisionKey{}, d)
}

// decide returns the time and operation ID of a write: the context's
// Decision, or a reading of the clock and a fresh ID. The clock is read
// before any lock is taken (see write).
func (r *Registry) decide(ctx context.Context) (time.Time, string, error) {
	if d, ok := ctx.Value(decisionKey{}).(Decision); ok {
		if d.Time.IsZero() {
			return time.Time{}, "", invalid("decision", "the decision's time is zero")
		}
		if d.Operation == "" || len(d.Operation) > 64 {
			return time.Time{}, "", invalid("decision", "the decision's operation ID must be 1 to 64 bytes, got %d", len(d.Operation))
		}
		return d.Time, d.Operation, nil
	}
	now, err := r.now()
	if err != nil {
		return time.Time{}, "", err
	}
	return now, newID(), nil
}

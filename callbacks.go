package registry

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strconv"
	"time"
)

// The registry calls four kinds of user code: the Clock, the Authorizer, the
// Cleaner and (through channels only) subscribers. None of them may leave
// the registry locked or half-changed, whatever it does:
//
//   - the clock is read before any lock is taken (r.now), and a panic is
//     turned into an error;
//   - the authorizer is the only callback that runs under the write lock; a
//     panic refuses, and a write it attempts is refused (r.lock) rather than
//     deadlocking;
//   - the cleaner runs outside the lock, a panic counting as a failure;
//   - subscribers receive on channels the writer never blocks on.

// callbackKey marks the context handed to an authorizer: its value is the
// registry that asked.
type callbackKey struct{}

// now reads the clock before the caller takes any lock, turning a panic into
// an error: a clock that panics, or that calls the registry, can then leave
// nothing locked and nothing half-applied.
func (r *Registry) now() (t time.Time, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("registry: the clock panicked (%v); the call was not made and nothing changed", p)
		}
	}()
	return r.clock.Now(), nil
}

// stamp returns the time a write made under the lock records: the clock's
// reading, taken before the lock, or the previous write's time when that is
// later (the reading waited for the lock while others wrote, or the clock
// went back), so that recorded times never go backwards in commit order: an
// artifact is never updated before it was created. It must be called with
// mu held.
func (r *Registry) stamp(now time.Time) time.Time {
	if now.Before(r.last) {
		now = r.last
	}
	r.last = now
	return now
}

// lock takes the writer's lock, unless the caller is an authorizer that the
// registry is running under that lock (it would wait for itself forever):
// either its ctx is the one the registry gave the authorizer, or the lock is
// held by the very goroutine that calls. The goroutine is looked up only
// when the lock is busy, so an uncontended write pays nothing for it.
func (r *Registry) lock(ctx context.Context) error {
	if ctx != nil && ctx.Value(callbackKey{}) == r {
		return errFromCallback()
	}
	if r.mu.TryLock() {
		return nil
	}
	if g := r.authzG.Load(); g != 0 && g == goroutineID() {
		return errFromCallback()
	}
	r.mu.Lock()
	return nil
}

// refuseCallback refuses a write made from inside an authorizer, for write
// calls that may finish without taking the lock (RetryCleanups with nothing
// pending, Reset before it asks the authorizer).
func (r *Registry) refuseCallback(ctx context.Context) error {
	if err := r.lock(ctx); err != nil {
		return err
	}
	r.mu.Unlock()
	return nil
}

func errFromCallback() *Error {
	return invalid("ctx", "a registry write cannot be made from inside an authorizer callback: the registry asks the authorizer "+
		"while it holds its write lock; return a decision, and make the write after the call that asked has returned")
}

// authorizerCtx returns the context handed to the authorizer: ctx, marked
// as the registry's callback context.
func (r *Registry) authorizerCtx(ctx context.Context) context.Context {
	if ctx.Value(callbackKey{}) == r {
		return ctx
	}
	return context.WithValue(ctx, callbackKey{}, r)
}

// goroutineID returns the calling goroutine's ID, parsed from the first
// line of its stack ("goroutine 42 [running]:"). It costs about a
// microsecond, so the registry calls it once per write that asks an
// authorizer, and when a writer finds the lock busy.
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return 0
	}
	return id
}

package registry

import "time"

// Option configures New.
type Option func(*Registry) error

// WithClock makes the registry read time from c (timestamps, token expiry,
// retention). c is read before any lock is taken, so it may call the
// registry; a panic fails the call with an error and changes nothing (see
// Clock).
func WithClock(c Clock) Option {
	return func(r *Registry) error {
		if isNil(c) {
			return invalid("clock", "clock is nil")
		}
		r.clock = c
		return nil
	}
}

// WithTokenTTL sets how long an idempotency token is remembered (default 8
// hours, as Lookout for Vision's ClientToken).
func WithTokenTTL(d time.Duration) Option {
	return func(r *Registry) error {
		if d <= 0 {
			return invalid("tokenTTL", "token TTL must be positive, got %v", d)
		}
		r.tokenTTL = d
		return nil
	}
}

// WithPurgeProtection refuses every hard delete of a soft-deleted artifact
// that was deleted less than d ago (ErrPurgeProtected), as Azure Key Vault's
// purge protection does.
func WithPurgeProtection(d time.Duration) Option {
	return func(r *Registry) error {
		if d < 0 {
			return invalid("purgeProtection", "purge protection must not be negative, got %v", d)
		}
		r.purgeProtection = d
		return nil
	}
}

// WithAuditLogSize sets how many events the in-memory audit log keeps
// (default 10000).
func WithAuditLogSize(n int) Option {
	return func(r *Registry) error {
		if n < 1 || n > MaxAuditLogSize {
			return invalid("auditLogSize", "audit log size %d is out of range; want 1 to %d", n, MaxAuditLogSize)
		}
		r.events = newEventLog(n)
		return nil
	}
}

// DefaultTokenTTL is how long idempotency tokens live unless WithTokenTTL
// says otherwise.
const DefaultTokenTTL = 8 * time.Hour

const defaultAuditLogSize = 10000

// MaxAuditLogSize bounds WithAuditLogSize; MaxSubscriptionBuffer bounds
// Subscribe's buffer. Both are allocated up front.
const (
	MaxAuditLogSize       = 1 << 24
	MaxSubscriptionBuffer = 1 << 20
)

// WithAuthorizer makes the registry ask a before every change. a runs under
// the write lock: it may read the registry but not write to it (such a
// write is refused with ErrInvalid), and a panic refuses (see Authorizer).
func WithAuthorizer(a Authorizer) Option {
	return func(r *Registry) error {
		if isNil(a) {
			return invalid("authorizer", "authorizer is nil")
		}
		r.authz = a
		return nil
	}
}

// WithReadAuthorization makes reads ask the authorizer for ActionRead too,
// and isolates principals (see Authorizer): to a principal, an artifact it
// may not read does not exist. Get and its variants answer ErrNotFound
// exactly as for a missing artifact, List, Lineage and Events leave it out,
// writes that name it answer as if it did not exist, and PendingCleanups
// needs ActionAdmin.
func WithReadAuthorization() Option {
	return func(r *Registry) error {
		r.authorizeReads = true
		return nil
	}
}

// WithCleaner hands the storage URIs of hard-deleted artifacts to c. c runs
// outside the lock and may call the registry; an error or a panic keeps the
// URI pending (see Cleaner).
func WithCleaner(c Cleaner) Option {
	return func(r *Registry) error {
		if isNil(c) {
			return invalid("cleaner", "cleaner is nil")
		}
		r.cleaner = c
		return nil
	}
}

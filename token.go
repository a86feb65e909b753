package registry

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxTokenLength is the longest client token (Lookout for Vision's limit).
const MaxTokenLength = 64

// expireBatch bounds how many expired tokens one write removes, so that no
// call pays for a scan of the token table; every write removes some, which
// outpaces the at most one token each write adds.
const expireBatch = 256

// tokenRow remembers one request made with a client token and its outcome,
// for the token's whole lifetime, whatever happens to its target meanwhile.
// It is keyed by (principal, token): a token is its principal's. The row is
// kept small: the request as its fields (which both decide a match and
// explain a mismatch), one of the two outcomes, and the two times.
type tokenRow struct {
	Token    string
	Request  request
	Target   string  // the artifact ID the request resolved to; it may be gone since
	Result   *Result // a delete's outcome
	Restored *record // a restore's outcome
	// RestoredAll is a RestoreOperation's outcome, parents first.
	RestoredAll []*record
	Created     time.Time
	Expires     time.Time
}

// call is what a request with a client token called.
type call uint8

const (
	callDelete call = iota + 1
	callRestore
	callRestoreOperation
)

func (c call) String() string {
	switch c {
	case callDelete:
		return "delete"
	case callRestore:
		return "restore"
	case callRestoreOperation:
		return "restore operation"
	}
	return fmt.Sprintf("call(%d)", uint8(c))
}

// request is everything that makes a request but its token, field by field:
// two requests with a token are the same request when every field is
// equal. The target is as given (an ID in canonical form, or an FQN as
// written: the two forms are different requests), the reason is part of the
// request, the cascade limit counts only with Cascade, DryRun is not part of
// it. The principal is part of the token row's key too, so that two
// principals' requests never meet; it stays here so that the request alone
// says everything it was.
type request struct {
	Target    string
	Reason    string
	Principal string
	Limit     int // the cascade limit in effect; 0 without Cascade
	Lineage   LineagePolicy
	Call      call
	Hard      bool
	Recursive bool
	Cascade   bool
	Atomic    bool
}

// deleteRequest is the request a delete with options o makes.
func deleteRequest(t target, o *DeleteOptions, principal string) request {
	r := request{Call: callDelete, Target: t.String(), Reason: o.Reason, Principal: principal,
		Hard: o.Hard, Recursive: o.Recursive, Cascade: o.Cascade, Lineage: o.Lineage, Atomic: o.Atomic}
	if o.Cascade {
		r.Limit = o.limit()
	}
	return r
}

// restoreRequest is the request a restore with options o makes.
func restoreRequest(t target, o *RestoreOptions, principal string) request {
	return request{Call: callRestore, Target: t.String(), Reason: o.Reason, Principal: principal}
}

// String names the call and its target, as a mismatch message shows the
// first request.
func (r request) String() string { return r.Call.String() + " " + r.Target }

// diff lists each field in which next differs from r, with both values:
// `hard (false then true) and reason ("old" then "new")`. Fields that only a
// delete has are left out when the calls differ, and the cascade limit when
// Cascade differs: they would only repeat what the call or Cascade says.
func (r request) diff(next request) string {
	var out []string
	add := func(field string, first, then any) {
		out = append(out, fmt.Sprintf("%s (%v then %v)", field, first, then))
	}
	if r.Call != next.Call {
		add("call", r.Call, next.Call)
	}
	if r.Target != next.Target {
		add("target", r.Target, next.Target)
	}
	if r.Call == next.Call {
		if r.Hard != next.Hard {
			add("hard", r.Hard, next.Hard)
		}
		if r.Recursive != next.Recursive {
			add("recursive", r.Recursive, next.Recursive)
		}
		if r.Cascade != next.Cascade {
			add("cascade", r.Cascade, next.Cascade)
		} else if r.Limit != next.Limit {
			add("limit", r.Limit, next.Limit)
		}
		if r.Lineage != next.Lineage {
			add("lineage", r.Lineage, next.Lineage)
		}
		if r.Atomic != next.Atomic {
			add("atomic", r.Atomic, next.Atomic)
		}
	}
	if r.Reason != next.Reason {
		add("reason", strconv.Quote(r.Reason), strconv.Quote(next.Reason))
	}
	if r.Principal != next.Principal {
		add("principal", strconv.Quote(r.Principal), strconv.Quote(next.Principal))
	}
	if len(out) == 0 {
		return "nothing" // unreachable: the requests differ
	}
	if len(out) == 1 {
		return out[0]
	}
	return strings.Join(out[:len(out)-1], ", ") + " and " + out[len(out)-1]
}

// tokenKey is the key of a token row: the principal, a separator no
// principal holds (principals have no control characters), the token.
func tokenKey(principal, token string) []byte {
	k := make([]byte, 0, len(principal)+1+len(token))
	k = append(k, principal...)
	k = append(k, nameSep)
	return append(k, token...)
}

// checkToken validates a client token: 1–64 of [a-zA-Z0-9-] (seed 004).
func checkToken(t string) error {
	if t == "" {
		return nil
	}
	if len(t) > MaxTokenLength {
		return invalid("clientToken", "client token is %d characters; at most %d are allowed", len(t), MaxTokenLength)
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return invalid("clientToken", "client token has %q at byte %d; only a-z, A-Z, 0-9 and '-' are allowed", c, i)
		}
	}
	return nil
}

// replay returns the live token row of the principal's token when the
// request matches it, nil when the token is new or expired, and
// ErrIdempotencyMismatch, naming each field that differs, when it was used
// for another request.
func (w *writeTxn) replay(token string, req request) (*tokenRow, error) {
	if token == "" {
		return nil, nil
	}
	o, err := w.First(tableTokens, indexID, tokenKey(req.Principal, token))
	if err != nil {
		return nil, fmt.Errorf("registry: token lookup: %w", err)
	}
	if o == nil {
		return nil, nil
	}
	t := o.(*tokenRow)
	if !t.Expires.After(w.now) {
		return nil, nil
	}
	if t.Request != req {
		return nil, &Error{Code: CodeIdempotencyMismatch, ID: t.Target, Field: "clientToken", Message: fmt.Sprintf(
			"client token %q was first used at %s for %s; this request differs in %s. Reuse a token only to retry the same request",
			token, t.Created.UTC().Format(time.RFC3339), t.Request, t.Request.diff(req))}
	}
	return t, nil
}

// remember stores the outcome of a request made with a token, in the same
// transaction as the request's changes. The row stays until it expires,
// whatever happens to its target: a hard delete does not drop it.
func (w *writeTxn) remember(t *tokenRow) error {
	t.Created = w.now
	t.Expires = w.now.Add(w.r.tokenTTL)
	if old, _ := w.First(tableTokens, indexID, tokenKey(t.Request.Principal, t.Token)); old != nil {
		if err := w.Delete(tableTokens, old); err != nil {
			return fmt.Errorf("registry: replace expired token: %w", err)
		}
		w.tokens--
	}
	if err := w.Insert(tableTokens, t); err != nil {
		return fmt.Errorf("registry: store token: %w", err)
	}
	w.tokens++
	return nil
}

// expireTokens removes up to expireBatch expired tokens, oldest first,
// through the expiry index.
func (w *writeTxn) expireTokens() error {
	if w.tokens == 0 {
		return nil
	}
	it, err := w.Get(tableTokens, indexExpires)
	if err != nil {
		return fmt.Errorf("registry: token expiry: %w", err)
	}
	var doomed []any
	for o := it.Next(); o != nil && len(doomed) < expireBatch; o = it.Next() {
		if o.(*tokenRow).Expires.After(w.now) {
			break
		}
		doomed = append(doomed, o)
	}
	for _, o := range doomed {
		if err := w.Delete(tableTokens, o); err != nil {
			return fmt.Errorf("registry: expire token: %w", err)
		}
		w.tokens--
	}
	return nil
}

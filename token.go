package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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
// It is keyed by (principal, token): a token is its principal's.
type tokenRow struct {
	Principal   string
	Token       string
	Fingerprint string
	Request     string // what the request was, for the mismatch message
	Target      string // the artifact the request resolved to; it may be gone since
	Result      Result
	Restored    *record
	Created     time.Time
	Expires     time.Time
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

// fingerprint identifies a request by everything in it but the token,
// including who makes it (which the token row's key holds too).
func fingerprint(parts ...any) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%T=%v\x00", p, p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// replay returns the live token row of the principal's token when the
// request matches it, nil when the token is new or expired, and
// ErrIdempotencyMismatch when the principal used it for another request.
// Another principal's use of the same token is never seen.
func (w *writeTxn) replay(token, fp, request string) (*tokenRow, error) {
	if token == "" {
		return nil, nil
	}
	o, err := w.First(tableTokens, indexID, tokenKey(w.principal, token))
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
	if t.Fingerprint != fp {
		return nil, &Error{Code: CodeIdempotencyMismatch, ID: t.Target, Field: "clientToken", Message: fmt.Sprintf(
			"client token %q was used at %s for %s; this request (%s) differs. Reuse a token only to retry the same request",
			token, t.Created.UTC().Format(time.RFC3339), t.Request, request)}
	}
	return t, nil
}

// remember stores the outcome of a request made with a token, in the same
// transaction as the request's changes. The row stays until it expires,
// whatever happens to its target: a hard delete does not drop it.
func (w *writeTxn) remember(t *tokenRow) error {
	t.Principal = w.principal
	t.Created = w.now
	t.Expires = w.now.Add(w.r.tokenTTL)
	if old, _ := w.First(tableTokens, indexID, tokenKey(t.Principal, t.Token)); old != nil {
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

package registry

import "context"

type principalKey struct{}

// Anonymous is the principal of a context that carries none.
const Anonymous = "anonymous"

// WithPrincipal returns a context that carries the principal (a user or
// service name) recorded as UpdatedBy and passed to the authorizer. A nil
// ctx stands for context.Background(). The principal is an identifier (see
// the input limits: no control or format characters, NFC); a call with one
// that is not is ErrInvalid on the principal field.
func WithPrincipal(ctx context.Context, principal string) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	return context.WithValue(ctx, principalKey{}, principal)
}

// PrincipalFrom returns the principal ctx carries, or Anonymous.
func PrincipalFrom(ctx context.Context) string {
	if ctx != nil {
		if p, ok := ctx.Value(principalKey{}).(string); ok && p != "" {
			return p
		}
	}
	return Anonymous
}

// begin checks the context every call starts with and returns its principal.
func begin(ctx context.Context) (string, error) {
	if ctx == nil {
		return "", invalid("ctx", "context is nil; pass context.Background() or a request context")
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	p := PrincipalFrom(ctx)
	if err := checkIdentifier("principal", p, MaxNameLength); err != nil {
		return "", err
	}
	return p, nil
}

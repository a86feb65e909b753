package lookout

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// SigningName is the service name of Lookout for Vision's credential scope.
const SigningName = "lookoutvision"

// MaxClockSkew is how far a request's X-Amz-Date may be from the server's
// clock, either way, as AWS allows.
const MaxClockSkew = 15 * time.Minute

const (
	amzDateFormat   = "20060102T150405Z"
	scopeDateFormat = "20060102"
	algorithm       = "AWS4-HMAC-SHA256"
)

// authError is a refused signature, in the error AWS's front end answers
// with.
func authError(status int, typ, format string, args ...any) *apiError {
	return &apiError{Status: status, Type: typ, Message: fmt.Sprintf(format, args...)}
}

func incomplete(format string, args ...any) *apiError {
	return authError(http.StatusBadRequest, "IncompleteSignatureException", format, args...)
}

func invalidSignature(format string, args ...any) *apiError {
	return authError(http.StatusForbidden, "InvalidSignatureException", format, args...)
}

// authorization is a parsed SigV4 Authorization header.
type authorization struct {
	accessKey, date, region, service, terminator string
	signedHeaders                                []string
	signature                                    string
}

// parseAuthorization reads "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…,
// Signature=…".
func parseAuthorization(h string) (authorization, *apiError) {
	var a authorization
	rest, ok := strings.CutPrefix(h, algorithm+" ")
	if !ok {
		return a, incomplete("Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Only the %s algorithm is supported.", algorithm)
	}
	params := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return a, incomplete("'%s' not a valid key=value pair (missing equal-sign) in Authorization header", clip(part))
		}
		if _, dup := params[k]; dup {
			return a, incomplete("Authorization header has parameter '%s' twice", clip(k))
		}
		params[k] = v
	}
	var missing []string
	for _, k := range []string{"Credential", "Signature", "SignedHeaders"} {
		if params[k] == "" {
			missing = append(missing, fmt.Sprintf("Authorization header requires '%s' parameter.", k))
		}
	}
	if len(missing) > 0 {
		return a, incomplete("%s", strings.Join(missing, " "))
	}
	cred := strings.Split(params["Credential"], "/")
	if len(cred) != 5 {
		return a, incomplete("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", clip(params["Credential"]))
	}
	a.accessKey, a.date, a.region, a.service, a.terminator = cred[0], cred[1], cred[2], cred[3], cred[4]
	a.signedHeaders = strings.Split(params["SignedHeaders"], ";")
	for _, name := range a.signedHeaders {
		if name == "" || name != strings.ToLower(name) || strings.ContainsAny(name, " \t:") {
			return a, incomplete("SignedHeaders '%s' is not a ;-separated list of lower-case header names", clip(params["SignedHeaders"]))
		}
	}
	if !slices.IsSorted(a.signedHeaders) {
		return a, incomplete("SignedHeaders '%s' is not sorted", clip(params["SignedHeaders"]))
	}
	a.signature = params["Signature"]
	return a, nil
}

// verify checks r's AWS Signature Version 4 against the secret of its access
// key and returns the key's principal. It re-signs a copy of the request
// with the AWS SDK for Go v2's signer (same method, path, query, signed
// headers, payload hash and time) and compares the signatures in constant
// time.
func (h *handler) verify(r *http.Request, body []byte) (string, *apiError) {
	header := r.Header.Get("Authorization")
	if header == "" {
		return "", authError(http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token")
	}
	a, e := parseAuthorization(header)
	if e != nil {
		return "", e
	}
	if !slices.Contains(a.signedHeaders, "host") {
		return "", incomplete("'Host' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if !slices.Contains(a.signedHeaders, "x-amz-date") {
		return "", incomplete("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization; the Date header is not supported.")
	}
	amzDate := r.Header.Get("X-Amz-Date")
	if amzDate == "" {
		return "", incomplete("Authorization header requires existence of a 'X-Amz-Date' header.")
	}
	t, err := time.Parse(amzDateFormat, amzDate)
	if err != nil {
		return "", incomplete("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", clip(amzDate))
	}
	secret, principal, ok := h.opts.Keys(a.accessKey)
	if !ok || secret == "" {
		return "", authError(http.StatusForbidden, "UnrecognizedClientException", "The security token included in the request is invalid.")
	}
	if r.Header.Get("X-Amz-Security-Token") != "" {
		return "", authError(http.StatusForbidden, "UnrecognizedClientException", "The security token included in the request is invalid: this server knows long-term access keys only.")
	}
	if a.date != t.Format(scopeDateFormat) {
		return "", invalidSignature("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", clip(a.date), t.Format(scopeDateFormat), amzDate)
	}
	if a.region != h.opts.Region {
		return "", invalidSignature("Credential should be scoped to a valid region, not '%s'.", clip(a.region))
	}
	if a.service != SigningName {
		return "", invalidSignature("Credential should be scoped to correct service: '%s'.", SigningName)
	}
	if a.terminator != "aws4_request" {
		return "", invalidSignature("Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", clip(a.terminator))
	}
	now := h.opts.Clock().UTC()
	if t.Before(now.Add(-MaxClockSkew)) {
		return "", invalidSignature("Signature expired: %s is now earlier than %s (%s - 15 min.)", amzDate,
			now.Add(-MaxClockSkew).Format(amzDateFormat), now.Format(amzDateFormat))
	}
	if t.After(now.Add(MaxClockSkew)) {
		return "", invalidSignature("Signature not yet current: %s is still later than %s (%s + 15 min.)", amzDate,
			now.Add(MaxClockSkew).Format(amzDateFormat), now.Format(amzDateFormat))
	}
	want, err := resign(r, body, a, secret, t)
	if err != nil {
		return "", incomplete("the request could not be signed again for checking: %v", err)
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(a.signature)) != 1 {
		return "", invalidSignature("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	return principal, nil
}

// resign signs a copy of r that carries only what the client signed, and
// returns the signature.
func resign(r *http.Request, body []byte, a authorization, secret string, t time.Time) (string, error) {
	c, err := http.NewRequestWithContext(context.Background(), r.Method, "http://placeholder/", nil)
	if err != nil {
		return "", err
	}
	c.URL.Path, c.URL.RawPath, c.URL.RawQuery = r.URL.Path, r.URL.RawPath, r.URL.RawQuery
	c.Host = r.Host
	c.Header = http.Header{}
	for _, name := range a.signedHeaders {
		switch name {
		case "host":
		case "content-length":
			n, err := strconv.ParseInt(r.Header.Get("Content-Length"), 10, 64)
			if err != nil {
				n = r.ContentLength
			}
			c.ContentLength = n
		default:
			c.Header[textproto.CanonicalMIMEHeaderKey(name)] = r.Header.Values(name)
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: a.accessKey, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, c, hex.EncodeToString(sum[:]), SigningName, a.region, t); err != nil {
		return "", err
	}
	_, sig, ok := strings.Cut(c.Header.Get("Authorization"), "Signature=")
	if !ok {
		return "", fmt.Errorf("the signer wrote no signature")
	}
	// The signer lists the headers it signed; a client that signed others
	// (an ignored header such as User-Agent) cannot be verified.
	if !strings.Contains(c.Header.Get("Authorization"), "SignedHeaders="+strings.Join(a.signedHeaders, ";")+",") {
		return "", fmt.Errorf("SignedHeaders %s include a header this server cannot verify", strings.Join(a.signedHeaders, ";"))
	}
	return sig, nil
}

// Sign signs r as an AWS SDK would for this API: Signature Version 4 with
// the access key, for region, at t, over body (the bytes r will send). It is
// for clients without an AWS SDK: demos, tests and benchmarks.
func Sign(r *http.Request, body []byte, accessKeyID, secretAccessKey, region string, t time.Time) error {
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: accessKeyID, SecretAccessKey: secretAccessKey}
	return v4.NewSigner().SignHTTP(r.Context(), creds, r, hex.EncodeToString(sum[:]), SigningName, region, t)
}

package lookout

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/modelreg/registry"
)

// TokenTTL is how long an X-Amzn-Client-Token makes its call happen once.
const TokenTTL = 8 * time.Hour

// mark records, in a label of the artifact a call created or changed, the
// client token of that call: whose it was, a digest of the request and
// when. It is how CreateProject, CreateModel, StartModel and StopModel
// answer a retry without keeping anything outside the registry.
type mark struct {
	Token     string `json:"t"`
	Principal string `json:"p"`
	Request   string `json:"r"`
	At        int64  `json:"at"`
}

const labelPrefix = "lookout."

func tokenLabel(op string) string { return labelPrefix + "token." + op }

func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

func (c *call) newMark(token string, request ...string) mark {
	return mark{Token: token, Principal: digest(c.principal), Request: digest(request...), At: c.h.opts.Clock().UnixNano()}
}

func (m mark) label() string {
	b, _ := json.Marshal(m)
	return string(b)
}

// findMark returns the artifact whose label for op holds the same
// principal's same token, still alive, and whether its request was the
// same.
func (c *call) findMark(arts []registry.Artifact, op string, m mark) (a registry.Artifact, found, same bool) {
	now := c.h.opts.Clock()
	for _, a := range arts {
		v, ok := a.Labels[tokenLabel(op)]
		if !ok {
			continue
		}
		var old mark
		if json.Unmarshal([]byte(v), &old) != nil {
			continue
		}
		if old.Token != m.Token || old.Principal != m.Principal || now.Sub(time.Unix(0, old.At)) >= TokenTTL {
			continue
		}
		return a, true, old.Request == m.Request
	}
	return registry.Artifact{}, false, false
}

// tokenConflict is the answer to a token reused with another request: a
// ConflictException (the real service's error type is not documented).
func tokenConflict(resourceType, id, token string) *apiError {
	return conflict(resourceType, id, "client token %s was used for another request in the last %s; use a new token for a new request", token, strings.TrimSuffix(TokenTTL.String(), "0m0s"))
}

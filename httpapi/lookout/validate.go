package lookout

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// clip shortens a bad input for an error message.
func clip(s string) string {
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}

// The API's patterns (api-2.json of 2020-11-20).
var (
	projectNamePattern  = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_\-]*$`)
	modelVersionPattern = regexp.MustCompile(`^([1-9][0-9]*|latest)$`)
	deleteVersionPat    = regexp.MustCompile(`^[1-9][0-9]*$`)
	clientTokenPattern  = regexp.MustCompile(`^[a-zA-Z0-9-]+$`)
	nextTokenPattern    = regexp.MustCompile(`^[a-zA-Z0-9/+=]*$`)
	descriptionPattern  = regexp.MustCompile(`^[0-9A-Za-z.\-_]*$`)
	bucketPattern       = regexp.MustCompile(`^[0-9A-Za-z.\-_]*$`)
	prefixPattern       = regexp.MustCompile(`^([a-zA-Z0-9!_.*'()-][/a-zA-Z0-9!_.*'()-]*)?$`)
	kmsKeyPattern       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]*$`)
	tagKeyPattern       = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
	tagValuePattern     = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

// Limits of the API, and the ones this server adds.
const (
	maxProjectName  = 255
	maxModelVersion = 10
	maxClientToken  = 64
	maxNextToken    = 2048
	maxDescription  = 500
	maxResults      = 100
	maxPrefix       = 1024
	// maxKmsKeyID is 2048 in the API; a registry label value holds 1024.
	maxKmsKeyID = 1024
	// maxTags is 200 in the API; the registry keeps at most 64 labels per
	// artifact, of which this dialect uses up to 9 itself.
	maxTags     = 50
	maxTagKey   = 128
	maxTagValue = 256
)

func checkLength(field, s string, lo, hi int) error {
	n := utf8.RuneCountInString(s)
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s is not valid UTF-8", field)
	}
	if n < lo || n > hi {
		return fmt.Errorf("Value '%s' at '%s' failed to satisfy constraint: Member must have length between %d and %d", clip(s), field, lo, hi)
	}
	return nil
}

func checkPattern(field, s string, lo, hi int, re *regexp.Regexp) *apiError {
	if err := checkLength(field, s, lo, hi); err != nil {
		return validation("%v", err)
	}
	if !re.MatchString(s) {
		return validation("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", clip(s), field, re.String())
	}
	return nil
}

func checkProjectName(s string) *apiError {
	return checkPattern("projectName", s, 1, maxProjectName, projectNamePattern)
}

func checkModelVersion(s string) *apiError {
	return checkPattern("modelVersion", s, 1, maxModelVersion, modelVersionPattern)
}

func checkClientToken(s string) *apiError {
	return checkPattern("clientToken", s, 1, maxClientToken, clientTokenPattern)
}

// pageParams reads nextToken and maxResults.
func (c *call) pageParams() (next string, limit int, e *apiError) {
	for k, v := range c.query {
		switch k {
		case "nextToken", "maxResults":
			if len(v) != 1 {
				return "", 0, validation("query parameter %s is given %d times; give it once", k, len(v))
			}
		default:
			return "", 0, validation("query parameter %q is not a parameter of this operation", clip(k))
		}
	}
	limit = maxResults
	if v, ok := c.query["maxResults"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > maxResults {
			return "", 0, validation("Value '%s' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and %d", clip(v[0]), maxResults)
		}
		limit = n
	}
	if v, ok := c.query["nextToken"]; ok {
		if e := checkPattern("nextToken", v[0], 0, maxNextToken, nextTokenPattern); e != nil {
			return "", 0, e
		}
		next = v[0]
	}
	return next, limit, nil
}

package registry

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// BuildFQN returns the fully qualified name of (namespace, name, version):
// namespace.name.version, or namespace.name when version is empty. A part
// that contains a '.' is wrapped in double quotes, as OpenMetadata quotes
// FQNs: BuildFQN("svc", "churn.v2", "3") is `svc."churn.v2".3`.
func BuildFQN(namespace, name, version string) string {
	var b strings.Builder
	b.Grow(len(namespace) + len(name) + len(version) + 8)
	writeFQNPart(&b, namespace)
	b.WriteByte('.')
	writeFQNPart(&b, name)
	if version != "" {
		b.WriteByte('.')
		writeFQNPart(&b, version)
	}
	return b.String()
}

func writeFQNPart(b *strings.Builder, part string) {
	if strings.IndexByte(part, '.') >= 0 {
		b.WriteByte('"')
		b.WriteString(part)
		b.WriteByte('"')
		return
	}
	b.WriteString(part)
}

// ParseFQN is the exact inverse of BuildFQN: it accepts precisely the strings
// BuildFQN returns for valid parts and gives those parts back. Anything else
// is ErrInvalid, with the byte position of the fault in the message: an empty
// part, a stray or unbalanced quote, a quoted part without a '.', fewer than
// two or more than three parts, or a part that breaks the naming rules (a
// control or format character, or text not in Unicode normalization form
// NFC, for which the message gives the composed FQN to use).
func ParseFQN(fqn string) (namespace, name, version string, err error) {
	if fqn == "" {
		return "", "", "", invalid("fqn", "FQN is empty")
	}
	// Fixed arrays, not slices: a lookup by FQN allocates nothing to parse.
	var parts [3]string
	var starts [3]int // byte offset of each part's first character
	n, i := 0, 0
	for {
		if n == 3 {
			return "", "", "", fqnError(fqn, i-1, "more than three parts (namespace.name.version); quote a part that contains '.'")
		}
		part, next, perr := scanFQNPart(fqn, i)
		if perr != nil {
			return "", "", "", perr
		}
		parts[n], starts[n] = part, i
		if fqn[i] == '"' {
			starts[n] = i + 1
		}
		n++
		if next == len(fqn) {
			break
		}
		i = next + 1 // skip the '.'
		if i == len(fqn) {
			return "", "", "", fqnError(fqn, next, "ends with '.'; the part after it is empty")
		}
	}
	if n < 2 {
		return "", "", "", fqnError(fqn, len(fqn), "has one part; want namespace.name or namespace.name.version")
	}
	namespace, name = parts[0], parts[1]
	if n == 3 {
		version = parts[2]
	}
	limits := []int{MaxNameLength, MaxNameLength, MaxVersionLength}
	fields := []string{"namespace", "name", "version"}
	for k, part := range parts[:n] {
		if pos, what := partFault(part, limits[k]); what != "" {
			if hint := identHint(what, fqn); hint != "" { // the fault cannot be seen: escape the FQN
				return "", "", "", invalid("fqn", "FQN %+q %s %s (at byte %d); %s", clip(fqn), fields[k], what, starts[k]+pos, hint)
			}
			return "", "", "", fqnError(fqn, starts[k]+pos, fields[k]+" "+what)
		}
	}
	return namespace, name, version, nil
}

// scanFQNPart reads the part that starts at byte i and returns it with the
// index of the '.' that ends it (or len(fqn)).
func scanFQNPart(fqn string, i int) (string, int, error) {
	if fqn[i] == '"' {
		end := strings.IndexByte(fqn[i+1:], '"')
		if end < 0 {
			return "", 0, fqnError(fqn, i, "opens a quote that is never closed")
		}
		part := fqn[i+1 : i+1+end]
		after := i + 1 + end + 1
		if part == "" {
			return "", 0, fqnError(fqn, i, "has an empty quoted part")
		}
		if strings.IndexByte(part, '.') < 0 {
			return "", 0, fqnError(fqn, i, "quotes a part without '.'; only parts that contain '.' are quoted")
		}
		if after < len(fqn) && fqn[after] != '.' {
			return "", 0, fqnError(fqn, after, "has text after a closing quote; want '.' or the end")
		}
		return part, after, nil
	}
	end := strings.IndexByte(fqn[i:], '.')
	if end < 0 {
		end = len(fqn) - i
	}
	part := fqn[i : i+end]
	if part == "" {
		return "", 0, fqnError(fqn, i, "has an empty part")
	}
	if q := strings.IndexByte(part, '"'); q >= 0 {
		return "", 0, fqnError(fqn, i+q, "has a quote inside a part; a quoted part must be a whole part")
	}
	return part, i + end, nil
}

func fqnError(fqn string, pos int, what string) *Error {
	return invalid("fqn", "FQN %q %s (at byte %d)", clip(fqn), what, pos)
}

// partFault finds the first byte of a part that breaks the naming rules
// (UTF-8, length, control characters, then the identifier rules: format
// characters and NFC) and says what is wrong there.
func partFault(part string, max int) (int, string) {
	n := 0
	for i, r := range part {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(part[i:]); size <= 1 {
				return i, "is not valid UTF-8"
			}
		}
		if n++; n > max {
			return i, fmt.Sprintf("is longer than %d characters", max)
		}
		if unicode.IsControl(r) {
			return i, fmt.Sprintf("contains control character %U", r)
		}
	}
	return identFault(part)
}

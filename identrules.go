package registry

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Identifiers are compared byte for byte: the parts of a name (namespace,
// name, version) and the other text that names something (endpoints, tags,
// owners, label keys, the principal). Besides the rules of plain text
// (valid UTF-8, a length, no control character: Unicode category Cc), an
// identifier holds no format character (category Cf: bidirectional
// overrides and isolates, zero-width spaces and joiners, the byte order
// mark, the soft hyphen), which would let one name pass for another or hide
// part of it, and is in Unicode normalization form C (NFC), so that two
// identifiers that look the same are the same bytes: "café" is one name,
// not one per way of writing the é. Free text (display name, description,
// algorithm, label values, reasons) follows the plain text rules only, and
// storage URIs are kept as given, since they must match the storage's own
// keys byte for byte.

// What identFault says, and what to do about it.
const (
	notNFC     = "is not in Unicode normalization form NFC"
	formatChar = "contains format character"
)

// identFault finds the first byte of valid UTF-8 s that breaks the rules
// identifiers add to plain text and says what is wrong there: a format
// character, or a sequence that NFC composes or reorders.
func identFault(s string) (int, string) {
	for i, r := range s {
		if unicode.Is(unicode.Cf, r) {
			return i, fmt.Sprintf("%s %U", formatChar, r)
		}
	}
	if pos, was, now, bad := nfcFault(s); bad {
		return pos, fmt.Sprintf("%s: %s should be %s", notNFC, codePoints(was), codePoints(now))
	}
	return 0, ""
}

// identHint says what to do about a fault identFault found in s (a whole
// value, or a whole FQN), "" for a fault it did not find.
func identHint(what, s string) string {
	switch {
	case strings.HasPrefix(what, notNFC):
		return fmt.Sprintf("use the composed form %q", clip(norm.NFC.String(s)))
	case strings.HasPrefix(what, formatChar):
		return "invisible format characters (Unicode category Cf: bidirectional controls, zero-width characters, the byte order mark) are not allowed in identifiers"
	}
	return ""
}

// nfcFault returns the byte offset of the first segment of s (a starter and
// the combining marks after it) that NFC changes, with the segment as it is
// and as NFC makes it; bad is false when s is in NFC.
func nfcFault(s string) (pos int, was, now string, bad bool) {
	// s[:start] is in NFC, up to a boundary. QuickSpan allocates nothing
	// (IsNormalString does), so most names are settled without allocating:
	// a lookup by FQN allocates nothing to parse.
	start := norm.NFC.QuickSpanString(s)
	if start == len(s) || norm.NFC.IsNormalString(s[start:]) {
		return 0, "", "", false
	}
	var it norm.Iter
	it.InitString(norm.NFC, s[start:])
	for !it.Done() {
		from := start + it.Pos()
		seg := string(it.Next())
		to := start + it.Pos()
		if seg != s[from:to] {
			return from, s[from:to], seg, true
		}
	}
	return start, s[start:], norm.NFC.String(s[start:]), true
}

// codePoints renders the runes of s as U+0065 U+0301.
func codePoints(s string) string {
	var b strings.Builder
	for i, r := range []rune(s) {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%U", r)
	}
	return b.String()
}

// checkIdentifier validates text that identifies something: the plain text
// rules, then no format character and NFC. The message shows the value with
// every non-ASCII character escaped, since the fault cannot be seen.
func checkIdentifier(field, s string, max int) error {
	if err := checkText(field, s, max, false); err != nil {
		return err
	}
	if pos, what := identFault(s); what != "" {
		return invalid(field, "%s %+q %s at byte %d; %s", field, clip(s), what, pos, identHint(what, s))
	}
	return nil
}

// Package versions orders artifact versions naturally. The registry's
// cascade takes a model's versions newest first in this order, and the
// benchmarks' SQLite and map stores must take them in the same order.
package versions

import "strings"

// Compare orders versions naturally: runs of digits compare as numbers
// ("2" < "10", "1.9" < "1.10"), other runs byte-wise, and the empty version
// (unversioned) first. It returns a negative number when a comes before b,
// zero when they are the same version, a positive number otherwise.
func Compare(a, b string) int {
	for a != "" && b != "" {
		ra, resta := versionRun(a)
		rb, restb := versionRun(b)
		if c := compareRun(ra, rb); c != 0 {
			return c
		}
		a, b = resta, restb
	}
	return len(a) - len(b)
}

func versionRun(s string) (string, string) {
	digit := isDigit(s[0])
	i := 1
	for i < len(s) && isDigit(s[i]) == digit {
		i++
	}
	return s[:i], s[i:]
}

func compareRun(a, b string) int {
	if isDigit(a[0]) && isDigit(b[0]) {
		ta, tb := strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if len(ta) != len(tb) {
			return len(ta) - len(tb)
		}
		if c := strings.Compare(ta, tb); c != 0 {
			return c
		}
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

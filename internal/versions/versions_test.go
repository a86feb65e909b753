package versions

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCompare(t *testing.T) {
	cases := []struct {
		a, b string
		want int // sign
	}{
		{"", "", 0},
		{"", "1", -1},
		{"1", "", 1},
		{"2", "10", -1},
		{"10", "2", 1},
		{"1.9", "1.10", -1},
		{"1.10", "1.10", 0},
		{"01", "1", 1}, // same number, the longer spelling after
		{"1", "01", -1},
		{"1.0", "1", 1},
		{"1a", "1b", -1},
		{"alpha", "beta", -1},
		{"v2", "v10", -1},
		{"1", "a", -1}, // byte-wise between a digit run and a letter run
	}
	for _, c := range cases {
		got := Compare(c.a, c.b)
		assert.Equal(t, c.want, sign(got), "Compare(%q, %q) = %d", c.a, c.b, got)
		assert.Equal(t, -c.want, sign(Compare(c.b, c.a)), "Compare(%q, %q) is not antisymmetric", c.b, c.a)
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

package benchmarks

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/internal/benchworld"
)

// TestFloor checks that the floor holds the world and registers and
// deletes what BenchFloor asks of it.
func TestFloor(t *testing.T) {
	w := benchworld.New(benchworld.UnitSize*benchworld.Namespaces, benchworld.Chain)
	f, err := NewFloor(w)
	require.NoError(t, err)
	count := func() int {
		it, err := f.db.Txn(false).Get("artifacts", "id")
		require.NoError(t, err)
		n := 0
		for o := it.Next(); o != nil; o = it.Next() {
			n++
		}
		return n
	}
	require.Equal(t, w.N, count())
	a, b := w.NewVersion(), w.NewVersion()
	require.NoError(t, f.RegisterBatch([]registry.Artifact{a, b}))
	assert.Equal(t, w.N+2, count())
	require.NoError(t, f.Delete(a.ID))
	require.NoError(t, f.Delete(b.ID))
	assert.Equal(t, w.N, count())
	assert.Error(t, f.Delete(a.ID), "deleted twice")
}

// BenchmarkFloor runs the floor's registrations on a 10k world.
func BenchmarkFloor(b *testing.B) {
	w := benchworld.New(10_000, benchworld.Chain)
	f, err := NewFloor(w)
	require.NoError(b, err)
	for _, op := range FloorOps {
		b.Run(op.Name, func(b *testing.B) {
			b.ReportAllocs()
			BenchFloor(b, f, w, op.Group)
		})
	}
}

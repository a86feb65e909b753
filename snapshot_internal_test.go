package registry

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// failingWriter fails once n bytes have gone through: a crash mid-save.
type failingWriter struct {
	w io.Writer
	n int
}

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		n, _ := f.w.Write(p[:f.n])
		f.n = 0
		return n, errors.New("disk on fire")
	}
	f.n -= len(p)
	return f.w.Write(p)
}

func TestSaveSnapshotIsAtomic(t *testing.T) {
	r, err := New()
	require.NoError(t, err)
	ctx := WithPrincipal(context.Background(), "admin")
	for _, name := range []string{"a", "b", "c"} {
		_, err := r.Register(ctx, Artifact{Kind: KindModel, Namespace: "ns", Name: name})
		require.NoError(t, err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "registry.snap")
	_, err = r.SaveSnapshot(path)
	require.NoError(t, err)
	old, err := os.ReadFile(path)
	require.NoError(t, err)

	_, err = r.Register(ctx, Artifact{Kind: KindModel, Namespace: "ns", Name: "d"})
	require.NoError(t, err)
	for _, at := range []int{0, 10, len(old) / 2, len(old) - 1} {
		_, err = r.saveSnapshot(path, func(w io.Writer) io.Writer { return &failingWriter{w: w, n: at} })
		require.Error(t, err)
		assert.Contains(t, err.Error(), "disk on fire")
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, old, got, "a failed save leaves the old file")
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Len(t, entries, 1, "and no temporary file")
	}
	info, err := r.SaveSnapshot(path)
	require.NoError(t, err)
	assert.Equal(t, 4, info.Artifacts)
	loaded, err := LoadFile(path)
	require.NoError(t, err)
	page, err := loaded.List(ctx, Filter{})
	require.NoError(t, err)
	assert.Len(t, page.Items, 4)
}

package replicated_test

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/replicated"
)

// history writes to a fresh node and returns its directory and the state
// after each write, so that a recovery can be checked to be one of them.
func history(t *testing.T, cfg replicated.Config, writes int) []string {
	t.Helper()
	n := openNode(t, cfg)
	states := []string{dump(t, n.Registry())}
	for i := 0; i < writes; i++ {
		_, err := n.Register(alice, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "m",
			Version: string(rune('a' + i))})
		require.NoError(t, err)
		states = append(states, dump(t, n.Registry()))
	}
	require.NoError(t, n.Close())
	return states
}

func openErr(cfg replicated.Config) (*replicated.Node, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return replicated.Open(ctx, cfg)
}

// metaOffsets returns the offsets of the bolt file's two meta pages, the
// newest first.
func metaOffsets(t *testing.T, path string) (newest, older int64) {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	pageSize := int64(binary.NativeEndian.Uint32(b[16+8:]))
	tx0 := binary.NativeEndian.Uint64(b[16+48:])
	tx1 := binary.NativeEndian.Uint64(b[pageSize+16+48:])
	if tx0 > tx1 {
		return 0, pageSize
	}
	return pageSize, 0
}

// A damaged log store gives a clear error or a correct recovery from what
// remains: the state after some prefix of the writes, never another.
func TestNodeDamagedLogStore(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, path string)
		err    string // "" when the node must recover a prefix of the writes
	}{
		{"torn last write (newest meta page fails its checksum)", func(t *testing.T, path string) {
			newest, _ := metaOffsets(t, path)
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			require.NoError(t, err)
			defer f.Close()
			_, err = f.WriteAt([]byte("torn"), newest+16+56)
			require.NoError(t, err)
		}, ""},
		{"file cut short", func(t *testing.T, path string) {
			require.NoError(t, os.Truncate(path, 3*4096))
		}, "truncated"},
		{"both meta pages damaged", func(t *testing.T, path string) {
			newest, older := metaOffsets(t, path)
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			require.NoError(t, err)
			defer f.Close()
			for _, off := range []int64{newest, older} {
				_, err = f.WriteAt([]byte("garbage!"), off+16)
				require.NoError(t, err)
			}
		}, "not a valid bbolt file"},
		{"file cut inside its first page", func(t *testing.T, path string) {
			require.NoError(t, os.Truncate(path, 100))
		}, "truncated"},
		{"file cut inside its first meta page", func(t *testing.T, path string) {
			require.NoError(t, os.Truncate(path, 40))
		}, "not a valid bbolt file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			states := history(t, testConfig(dir), 8)
			c.damage(t, filepath.Join(dir, "raft.db"))
			n, err := openErr(testConfig(dir))
			if c.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), c.err)
				return
			}
			require.NoError(t, err)
			defer n.Close()
			assert.Contains(t, states, dump(t, n.Registry()), "the recovered state is the state after some prefix of the writes")
			require.NoError(t, n.Registry().Check())
		})
	}
}

// A damaged or missing snapshot gives a clear error or a correct recovery
// from an older snapshot and the log, never a silently wrong state.
func TestNodeDamagedSnapshots(t *testing.T) {
	corrupt := func(t *testing.T, snapDir string) {
		p := filepath.Join(snapDir, "state.bin")
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		b[len(b)/2] ^= 0xff
		require.NoError(t, os.WriteFile(p, b, 0o644))
	}
	remove := func(t *testing.T, snapDir string) {
		require.NoError(t, os.Remove(filepath.Join(snapDir, "state.bin")))
	}
	cases := []struct {
		name     string
		trailing uint64 // log entries a snapshot leaves behind it
		damage   func(t *testing.T, snapDir string)
		all      bool // damage every snapshot, not the newest only
		err      string
	}{
		{"newest corrupted, the log covers the older", 1000, corrupt, false, ""},
		{"newest missing, the log covers the older", 1000, remove, false, ""},
		{"newest corrupted, log compacted past the older", 1, corrupt, false, "cannot recover"},
		{"all corrupted, log compacted", 1, corrupt, true, "cannot recover"},
		{"all missing, log compacted", 1, remove, true, "cannot recover"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig(dir)
			cfg.TrailingLogs = c.trailing
			n := openNode(t, cfg)
			write := func(k int) {
				for i := 0; i < k; i++ {
					_, err := n.Register(alice, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "m" + string(rune('a'+n.AppliedIndex()%26)),
						Version: time.Now().Format("150405.000000000")})
					require.NoError(t, err)
				}
			}
			write(5)
			require.NoError(t, n.Snapshot())
			write(5)
			require.NoError(t, n.Snapshot())
			write(5)
			want := dump(t, n.Registry())
			require.NoError(t, n.Close())

			entries, err := os.ReadDir(filepath.Join(dir, "snapshots"))
			require.NoError(t, err)
			var snaps []string
			for _, e := range entries {
				if e.IsDir() && !strings.HasSuffix(e.Name(), ".tmp") {
					snaps = append(snaps, e.Name())
				}
			}
			require.Len(t, snaps, 2)
			// Names are term-index-time: order them by index, newest last
			// ("2-13-..." sorts before "2-8-..." as text).
			index := func(name string) int {
				f := strings.Split(name, "-")
				require.Len(t, f, 3, name)
				i, err := strconv.Atoi(f[1])
				require.NoError(t, err)
				return i
			}
			sort.Slice(snaps, func(i, j int) bool { return index(snaps[i]) < index(snaps[j]) })
			c.damage(t, filepath.Join(dir, "snapshots", snaps[1]))
			if c.all {
				c.damage(t, filepath.Join(dir, "snapshots", snaps[0]))
			}
			again, err := openErr(cfg)
			if c.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), c.err)
				return
			}
			require.NoError(t, err)
			defer again.Close()
			assert.Equal(t, want, dump(t, again.Registry()))
			require.NoError(t, again.Registry().Check())
		})
	}
}

package replicated

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/modelreg/registry"
)

// fsm runs the registry as raft's finite state machine: every committed
// entry is one call of the library, made with the principal and the
// decision the entry carries. Its registry has no cleaner (a hard delete
// only queues its URIs; the leader cleans them, see cleaner.go) and a clock
// that reads the last applied time, so that nothing it does depends on
// which replica runs it or when.
//
// It is not a raft.BatchingFSM: each entry is one library call, made in
// its own transaction, and the registry has no call that would apply
// several in one. Group commit does not need it: raft drains the writers
// waiting to append into one StoreLogs, one fsync, whatever the state
// machine does; applying costs tens of microseconds against milliseconds
// for the fsync.
type fsm struct {
	reg *registry.Registry
	// last is the latest time applied, in Unix nanoseconds: an entry
	// decided earlier (by a leader whose clock went back, or by two
	// writers racing to append) records this one instead, so that times
	// never go backwards in log order. It is part of every snapshot.
	last atomic.Int64
	// index is the latest log index applied (of a command entry, or the
	// one a restored snapshot records). It is part of every snapshot.
	index atomic.Uint64
	// queued is called after an entry that may have queued storage cleanups.
	queued func()
}

// response is what applying an entry gave: the library call's result and
// error, handed back to the writer that appended it.
type response struct {
	value any
	err   error
}

// Apply applies one committed entry. A write that fails (bad input, a
// refused authorization, a conflict) fails identically on every replica
// and changes nothing anywhere.
func (f *fsm) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return nil
	}
	defer f.index.Store(l.Index)
	t, c, err := decode(l.Data)
	if err != nil {
		return &response{err: fmt.Errorf("replicated: log index %d: %w", l.Index, err)}
	}
	now := c.Time.UTC()
	if last := f.lastTime(); now.Before(last) {
		now = last
	}
	f.last.Store(now.UnixNano())
	ctx := registry.WithDecision(registry.WithPrincipal(context.Background(), c.Principal),
		registry.Decision{Time: now, Operation: c.Operation})
	r := f.reg
	var res response
	switch t {
	case entryRegister:
		res.value, res.err = r.RegisterBatch(ctx, c.Artifacts)
	case entryUpdate:
		if len(c.Artifacts) != 1 {
			res.err = fmt.Errorf("replicated: log index %d: an update carries %d artifacts", l.Index, len(c.Artifacts))
			break
		}
		res.value, res.err = r.Update(ctx, c.Artifacts[0], updateOptions(c.Update)...)
		f.queued()
	case entryLink:
		res.err = r.Link(ctx, c.Upstream, c.Downstream)
	case entryUnlink:
		res.err = r.Unlink(ctx, c.Upstream, c.Downstream)
	case entryDeploy:
		res.err = r.Deploy(ctx, c.ID, c.Endpoint)
	case entryUndeploy:
		res.err = r.Undeploy(ctx, c.ID, c.Endpoint)
	case entryDelete:
		res.value, res.err = r.Delete(ctx, c.ID, deleteOptions(c.Delete)...)
		f.queued()
	case entryDeleteByFQN:
		res.value, res.err = r.DeleteByFQN(ctx, c.FQN, deleteOptions(c.Delete)...)
		f.queued()
	case entryDeleteAllVersions:
		res.value, res.err = r.DeleteAllVersions(ctx, c.Namespace, c.Name, deleteOptions(c.Delete)...)
		f.queued()
	case entryRestore:
		res.value, res.err = r.Restore(ctx, c.ID, restoreOptions(c.Restore)...)
	case entryRestoreByFQN:
		res.value, res.err = r.RestoreByFQN(ctx, c.FQN, restoreOptions(c.Restore)...)
	case entryRestoreOperation:
		res.value, res.err = r.RestoreOperation(ctx, c.Target, restoreOptions(c.Restore)...)
	case entryPurge:
		res.value, res.err = r.Purge(ctx, c.OlderThan, purgeOptions(c.Purge)...)
		f.queued()
	case entryReset:
		res.err = r.Reset(ctx)
		f.queued()
	case entrySettle:
		res.value, res.err = r.SettleCleanups(ctx, c.Outcomes)
	}
	return &res
}

func (f *fsm) lastTime() time.Time {
	n := f.last.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func deleteOptions(in []registry.DeleteOptions) []registry.DeleteOption {
	out := make([]registry.DeleteOption, len(in))
	for i, o := range in {
		out[i] = o
	}
	return out
}

func updateOptions(in []registry.UpdateOptions) []registry.UpdateOption {
	out := make([]registry.UpdateOption, len(in))
	for i, o := range in {
		out[i] = o
	}
	return out
}

func restoreOptions(in []registry.RestoreOptions) []registry.RestoreOption {
	out := make([]registry.RestoreOption, len(in))
	for i, o := range in {
		out[i] = o
	}
	return out
}

func purgeOptions(in []registry.PurgeOptions) []registry.PurgeOption {
	out := make([]registry.PurgeOption, len(in))
	for i, o := range in {
		out[i] = o
	}
	return out
}

// snapshotHeader is the first line of every snapshot the node writes; the
// registry's own snapshot (Registry.WriteSnapshot) follows it.
type snapshotHeader struct {
	// Format is snapshotFormat; a snapshot of another format is refused.
	Format int `json:"format"`
	// Last is the latest time applied (see fsm.last), in Unix nanoseconds.
	Last int64 `json:"last"`
	// Index is the latest log index applied (see fsm.index); 0 in
	// snapshots written before it was recorded.
	Index uint64 `json:"index,omitempty"`
}

const snapshotFormat = 1

// Snapshot captures the state as of the latest applied entry. raft runs
// Persist concurrently with later entries, so the registry's snapshot is
// written here, before Apply can run again; Persist only copies bytes.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	var buf bytes.Buffer
	h, err := json.Marshal(snapshotHeader{Format: snapshotFormat, Last: f.last.Load(), Index: f.index.Load()})
	if err != nil {
		return nil, err
	}
	buf.Write(h)
	buf.WriteByte('\n')
	if err := writeSnapshot(f.reg, &buf); err != nil {
		return nil, fmt.Errorf("replicated: snapshot: %w", err)
	}
	return &fsmSnapshot{data: buf.Bytes()}, nil
}

// Restore replaces the whole state with a snapshot's. The registry checks
// the snapshot before it replaces anything: a snapshot that fails its check
// is an error and the state stays as it was.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	br := bufio.NewReader(rc)
	line, err := br.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("replicated: restore: snapshot header: %w", err)
	}
	var h snapshotHeader
	if err := json.Unmarshal(line, &h); err != nil {
		return fmt.Errorf("replicated: restore: snapshot header: %w", err)
	}
	if h.Format != snapshotFormat {
		return fmt.Errorf("replicated: restore: snapshot format %d, want %d", h.Format, snapshotFormat)
	}
	if err := readSnapshot(f.reg, br); err != nil {
		return fmt.Errorf("replicated: restore: %w", err)
	}
	f.last.Store(h.Last)
	f.index.Store(h.Index)
	f.queued()
	return nil
}

func writeSnapshot(reg *registry.Registry, w io.Writer) error {
	_, err := reg.WriteSnapshot(w)
	return err
}

func readSnapshot(reg *registry.Registry, r io.Reader) error {
	_, err := reg.ReadSnapshot(r)
	return err
}

type fsmSnapshot struct{ data []byte }

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s.data); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() {}

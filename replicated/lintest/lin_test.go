package lintest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/hashicorp/raft"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/replicated"
)

// The model: slots, each one FQN (svc.s<N>.1), partitioned by slot. A slot
// is absent, live or soft deleted; every call is made by FQN so that the
// model needs no IDs.
type slotState int

const (
	absent slotState = iota
	live
	soft
)

func (s slotState) String() string { return [...]string{"absent", "live", "soft-deleted"}[s] }

type opKind int

const (
	opRegister opKind = iota
	opSoftDelete
	opHardDelete
	opCascadeDelete
	opRestore
	opGet
)

var opNames = [...]string{"register", "delete", "hard delete", "cascade delete", "restore", "get"}

type input struct {
	slot int
	op   opKind
}

// output is what the call returned: for a write, whether it succeeded and
// the registry's error code otherwise; for a get, the state it saw. An
// unknown outcome (the leader was lost with the entry in flight) may have
// happened or not.
type output struct {
	unknown bool
	ok      bool
	code    string
	seen    slotState
}

// step is the registry's sequential behaviour on one slot.
func step(s slotState, in input, out output) []any {
	next, want := s, output{ok: true}
	switch in.op {
	case opRegister:
		if s == absent {
			next = live
		} else {
			want = output{code: registry.CodeAlreadyExists}
		}
	case opSoftDelete, opCascadeDelete:
		if s == live {
			next = soft
		} else {
			want = output{code: registry.CodeNotFound}
		}
	case opHardDelete:
		if s != absent {
			next = absent
		} else {
			want = output{code: registry.CodeNotFound}
		}
	case opRestore:
		switch s {
		case soft:
			next = live
		case live:
			want = output{code: registry.CodeNotDeleted}
		default:
			want = output{code: registry.CodeNotFound}
		}
	case opGet:
		if out.seen == s && out.ok {
			return []any{s}
		}
		return nil
	}
	if out.unknown {
		return []any{s, next}
	}
	if out == want {
		return []any{next}
	}
	return nil
}

var model = porcupine.NondeterministicModel{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		by := map[int][]porcupine.Operation{}
		for _, op := range h {
			by[op.Input.(input).slot] = append(by[op.Input.(input).slot], op)
		}
		var out [][]porcupine.Operation
		for _, ops := range by {
			out = append(out, ops)
		}
		return out
	},
	Init: func() []any { return []any{absent} },
	Step: func(state, in, out any) []any { return step(state.(slotState), in.(input), out.(output)) },
	DescribeOperation: func(in, out any) string {
		i, o := in.(input), out.(output)
		res := "ok"
		switch {
		case o.unknown:
			res = "unknown"
		case i.op == opGet:
			res = o.seen.String()
		case !o.ok:
			res = o.code
		}
		return fmt.Sprintf("%s(s%d) -> %s", opNames[i.op], i.slot, res)
	},
	DescribeState: func(s any) string { return s.(slotState).String() },
}

// cluster is three nodes on raft's in-memory transport.
type cluster struct {
	mu    sync.Mutex
	nodes []*replicated.Node
	trans []*raft.InmemTransport
	cfgs  []replicated.Config
}

func (c *cluster) connectAll() {
	for i, a := range c.trans {
		for j, b := range c.trans {
			if i != j {
				a.Connect(b.LocalAddr(), b)
			}
		}
	}
}

func (c *cluster) start(i int) error {
	_, tr := raft.NewInmemTransport(raft.ServerAddress(c.cfgs[i].ID))
	c.mu.Lock()
	c.trans[i] = tr
	c.connectAll()
	c.mu.Unlock()
	cfg := c.cfgs[i]
	cfg.Transport = tr
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := replicated.Open(ctx, cfg)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.nodes[i] = n
	c.mu.Unlock()
	return nil
}

func (c *cluster) kill(i int) {
	c.mu.Lock()
	n := c.nodes[i]
	c.nodes[i] = nil
	c.mu.Unlock()
	if n != nil {
		n.Close()
	}
}

func (c *cluster) isolate(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for j, tr := range c.trans {
		if j != i {
			tr.Disconnect(c.trans[i].LocalAddr())
			c.trans[i].Disconnect(tr.LocalAddr())
		}
	}
}

func (c *cluster) heal() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.connectAll()
}

func (c *cluster) node(i int) *replicated.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i]
}

func (c *cluster) leader() int {
	for i := range c.nodes {
		if n := c.node(i); n != nil {
			if s, err := n.Status(); err == nil && s.State == "Leader" {
				return i
			}
		}
	}
	return -1
}

var ctx = registry.WithPrincipal(context.Background(), "lin")

// call makes one operation on node n: done is false when n refused it
// (not the leader, or it shut down before logging anything), so that the
// client tries another node.
func call(n *replicated.Node, in input) (out output, done bool) {
	fqn := fmt.Sprintf("svc.s%d.1", in.slot)
	var err error
	switch in.op {
	case opRegister:
		_, err = n.Register(ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: fmt.Sprintf("s%d", in.slot), Version: "1"})
	case opSoftDelete:
		_, err = n.DeleteByFQN(ctx, fqn)
	case opHardDelete:
		_, err = n.DeleteByFQN(ctx, fqn, registry.DeleteOptions{Hard: true})
	case opCascadeDelete:
		_, err = n.DeleteByFQN(ctx, fqn, registry.DeleteOptions{Cascade: true})
	case opRestore:
		_, err = n.RestoreByFQN(ctx, fqn)
	case opGet:
		reg, rerr := n.Read(ctx, replicated.Linearizable)
		if rerr != nil {
			return output{}, false // a read that failed changed nothing: retry it
		}
		a, gerr := reg.GetByFQN(ctx, fqn, registry.IncludeAll)
		switch {
		case gerr == nil && a.Deleted:
			return output{ok: true, seen: soft}, true
		case gerr == nil:
			return output{ok: true, seen: live}, true
		case errors.Is(gerr, registry.ErrNotFound):
			return output{ok: true, seen: absent}, true
		}
		return output{}, false
	}
	var re *registry.Error
	switch {
	case err == nil:
		return output{ok: true}, true
	case errors.Is(err, replicated.ErrNotLeader):
		return output{}, false // refused before it was logged
	case errors.As(err, &re):
		return output{code: re.Code}, true
	}
	return output{unknown: true}, true // in flight when the leader was lost
}

func TestLinearizable(t *testing.T) {
	ops := 400
	if v := os.Getenv("REPLICATED_LIN_OPS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "REPLICATED_LIN_OPS")
		ops = n
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("REPLICATED_LIN_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		require.NoError(t, err, "REPLICATED_LIN_SEED")
		seed = s
	}
	t.Logf("seed %d (REPLICATED_LIN_SEED=%d replays its choices), %d operations", seed, seed, ops)

	c := &cluster{}
	for i := range 3 {
		cfg := replicated.Config{
			DataDir: t.TempDir(), ID: fmt.Sprintf("node-%d", i+1), Join: i > 0,
			ElectionTimeout: 50 * time.Millisecond, ApplyTimeout: time.Second, LogOutput: io.Discard,
		}
		c.cfgs = append(c.cfgs, cfg)
		c.nodes = append(c.nodes, nil)
		_, tr := raft.NewInmemTransport(raft.ServerAddress(cfg.ID))
		c.trans = append(c.trans, tr)
	}
	for i := range 3 {
		require.NoError(t, c.start(i))
	}
	defer func() {
		for i := range c.nodes {
			c.kill(i)
		}
	}()
	for i := 1; i < 3; i++ {
		require.NoError(t, c.nodes[0].AddVoter(ctx, c.cfgs[i].ID, c.cfgs[i].ID))
	}

	const clients, slots = 6, 4
	start := time.Now()
	now := func() int64 { return int64(time.Since(start)) }
	var (
		mu      sync.Mutex
		history []porcupine.Operation
		left    atomic.Int64
		wg      sync.WaitGroup
	)
	left.Store(int64(ops))
	for cl := range clients {
		rng := rand.New(rand.NewPCG(seed, uint64(cl)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				in := input{slot: rng.IntN(slots), op: opKind(rng.IntN(len(opNames)))}
				call0 := now()
				var out output
				done := false
				for try := 0; !done && time.Since(start) < 2*time.Minute; try++ {
					n := c.node(rng.IntN(3))
					if li := c.leader(); li >= 0 && try%2 == 0 {
						n = c.node(li)
					}
					if n == nil {
						time.Sleep(2 * time.Millisecond)
						continue
					}
					out, done = call(n, in)
					if !done {
						time.Sleep(2 * time.Millisecond)
					}
				}
				if !done {
					continue
				}
				ret := now()
				if out.unknown {
					ret = -1 // fixed below: after everything
				}
				mu.Lock()
				history = append(history, porcupine.Operation{ClientId: cl, Input: in, Call: call0, Output: out, Return: ret})
				mu.Unlock()
			}
		}()
	}

	// The nemesis: kill and restart the leader, or cut a node off and heal.
	stop := make(chan struct{})
	nemesis := make(chan struct{})
	go func() {
		defer close(nemesis)
		rng := rand.New(rand.NewPCG(seed, 1<<32))
		for round := 0; ; round++ {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(100+rng.IntN(150)) * time.Millisecond):
			}
			if round%2 == 0 {
				if li := c.leader(); li >= 0 {
					c.kill(li)
					time.Sleep(time.Duration(50+rng.IntN(100)) * time.Millisecond)
					if err := c.start(li); err != nil {
						t.Errorf("restart %s: %v", c.cfgs[li].ID, err)
						return
					}
				}
			} else {
				i := rng.IntN(3)
				c.isolate(i)
				time.Sleep(time.Duration(50+rng.IntN(150)) * time.Millisecond)
				c.heal()
			}
		}
	}()
	wg.Wait()
	close(stop)
	<-nemesis

	end := now() + 1
	unknown := 0
	for i := range history {
		if history[i].Return < 0 {
			history[i].Return = end
			unknown++
		}
	}
	t.Logf("%d operations recorded, %d with an unknown outcome", len(history), unknown)
	res, info := porcupine.CheckOperationsVerbose(model.ToModel(), history, time.Minute)
	if res != porcupine.Ok {
		f, err := os.CreateTemp("", "replicated-lin-*.html")
		require.NoError(t, err)
		f.Close()
		require.NoError(t, porcupine.VisualizePath(model.ToModel(), info, f.Name()))
		t.Fatalf("history is not linearizable (%s): visualisation in %s; seed %d", res, f.Name(), seed)
	}
}

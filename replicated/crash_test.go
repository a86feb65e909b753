package replicated_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/replicated"
)

// The crash test: a child process (this test binary, re-executed with
// crashChildEnv naming the data directory) runs a mixed write load on a
// durable node and reports each operation on stdout before it calls
// ("B op") and after it returned ("A op"). The parent kills it with SIGKILL
// at a random moment, opens the node on the same directory, and checks
// that every acknowledged write is there, that no unacknowledged one is
// half there, and that Check passes; then it starts the child again.
const (
	crashChildEnv = "REPLICATED_CRASH_CHILD"
	crashRoundEnv = "REPLICATED_CRASH_ROUND"
	crashKillsEnv = "REPLICATED_CRASH_KILLS"
	crashWorkers  = 4
)

// crashOp is one write of the child's load. Each worker drives its own
// chains, one at a time: a chain is a parent artifact P with a child C,
// registered together, then updated, linked, soft deleted, restored and
// hard deleted, each op after the previous one returned.
type crashOp struct {
	Chain string `json:"c"`            // the chain's name, unique across rounds
	Kind  string `json:"k"`            // reg, upd, link, sdel, rest, hdel
	P     string `json:"p"`            // the chain's parent artifact
	C     string `json:"ch,omitempty"` // its child (reg)
	Label string `json:"l,omitempty"`  // upd: the label value set
	Up    string `json:"u,omitempty"`  // link: the upstream (a previous chain's P)
}

func crashConfig(dir string) replicated.Config {
	cfg := testConfig(dir)
	// Small snapshot thresholds, so that recoveries read a snapshot and a
	// log tail as well as whole logs.
	cfg.SnapshotThreshold = 200
	cfg.SnapshotInterval = 100 * time.Millisecond
	cfg.TrailingLogs = 100
	return cfg
}

// TestCrashChild is the child role of TestCrashRecovery; run alone, it
// skips.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("the child process of TestCrashRecovery")
	}
	round := os.Getenv(crashRoundEnv)
	n, err := replicated.Open(context.Background(), crashConfig(dir))
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(3)
	}
	var outMu sync.Mutex
	say := func(tag string, op crashOp) {
		b, _ := json.Marshal(op)
		outMu.Lock()
		defer outMu.Unlock()
		os.Stdout.Write(append([]byte(tag+" "), append(b, '\n')...)) // one write: whole lines only
	}
	var wg sync.WaitGroup
	for w := 0; w < crashWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			prevLive := "" // the previous chain's P, live: a link upstream
			for i := 0; ; i++ {
				chain := fmt.Sprintf("r%sw%di%d", round, w, i)
				p, c := uuid.NewString(), uuid.NewString()
				ops := []crashOp{{Chain: chain, Kind: "reg", P: p, C: c}}
				state, linked := "live", false
				for k := rng.IntN(5); k > 0 && state != "gone"; k-- {
					switch x := rng.IntN(10); {
					case x < 3 && state == "live":
						ops = append(ops, crashOp{Chain: chain, Kind: "upd", P: p, Label: strconv.Itoa(rng.IntN(1000))})
					case x < 5 && state == "live" && prevLive != "" && !linked:
						ops, linked = append(ops, crashOp{Chain: chain, Kind: "link", P: p, Up: prevLive}), true
					case x < 7 && state == "live":
						ops, state = append(ops, crashOp{Chain: chain, Kind: "sdel", P: p}), "deleted"
					case x < 9 && state == "deleted":
						ops, state = append(ops, crashOp{Chain: chain, Kind: "rest", P: p}), "live"
					case x == 9:
						ops, state = append(ops, crashOp{Chain: chain, Kind: "hdel", P: p}), "gone"
					}
				}
				for _, op := range ops {
					say("B", op)
					if err := crashApply(n, op); err != nil {
						fmt.Fprintf(os.Stderr, "%s %s: %v\n", op.Kind, op.Chain, err)
						os.Exit(4)
					}
					say("A", op)
				}
				if state == "live" {
					prevLive = p
				}
			}
		}()
	}
	wg.Wait()
}

func crashApply(n *replicated.Node, op crashOp) error {
	switch op.Kind {
	case "reg":
		_, err := n.RegisterBatch(alice, []registry.Artifact{
			{ID: op.P, Kind: registry.KindModel, Namespace: "crash", Name: op.Chain, StorageURIs: []string{"s3://crash/" + op.Chain}},
			{ID: op.C, Kind: registry.KindDataset, Namespace: "crash", Name: op.Chain + "-data", Parent: op.P},
		})
		return err
	case "upd":
		_, err := n.Update(alice, registry.Artifact{ID: op.P, Labels: map[string]string{"v": op.Label},
			StorageURIs: []string{"s3://crash/" + op.Chain}})
		return err
	case "link":
		return n.Link(alice, op.Up, op.P)
	case "sdel":
		_, err := n.Delete(alice, op.P, registry.DeleteOptions{Recursive: true})
		return err
	case "rest":
		_, err := n.Restore(alice, op.P)
		return err
	case "hdel":
		_, err := n.Delete(alice, op.P, registry.DeleteOptions{Hard: true, Recursive: true, Lineage: registry.LineageDetach})
		return err
	}
	return fmt.Errorf("unknown op %q", op.Kind)
}

// chainState is what a chain's ops leave: whether P and C exist, whether
// they are soft deleted, P's label, and the upstreams linked to P.
type chainState struct {
	exists, deleted bool
	label           string
	ups             []string
}

func (s chainState) after(op crashOp) chainState {
	switch op.Kind {
	case "reg":
		s.exists = true
	case "upd":
		s.label = op.Label
	case "link":
		s.ups = append(append([]string(nil), s.ups...), op.Up)
	case "sdel":
		s.deleted = true
	case "rest":
		s.deleted = false
	case "hdel":
		s = chainState{}
	}
	return s
}

type crashChain struct {
	acked   []crashOp
	pending *crashOp // begun, not acknowledged
	p, c    string
}

func TestCrashRecovery(t *testing.T) {
	if os.Getenv(crashChildEnv) != "" {
		t.Skip("in the child")
	}
	kills := 20
	if s := os.Getenv(crashKillsEnv); s != "" {
		k, err := strconv.Atoi(s)
		require.NoError(t, err, crashKillsEnv)
		kills = k
	}
	dir := t.TempDir()
	chains := map[string]*crashChain{}
	var order []string
	deadline := time.Now().Add(3 * time.Minute)
	acks := 0
	for round := 0; round < kills; round++ {
		require.True(t, time.Now().Before(deadline), "the crash test ran out of time after %d kills", round)
		lines := runCrashChild(t, dir, round)
		for _, line := range lines {
			tag, body, ok := strings.Cut(line, " ")
			if !ok || (tag != "A" && tag != "B") {
				continue
			}
			var op crashOp
			require.NoError(t, json.Unmarshal([]byte(body), &op), line)
			ch := chains[op.Chain]
			if ch == nil {
				ch = &crashChain{p: op.P, c: op.C}
				chains[op.Chain] = ch
				order = append(order, op.Chain)
			}
			if tag == "B" {
				ch.pending = &op
			} else {
				ch.acked = append(ch.acked, op)
				ch.pending = nil
				acks++
			}
		}
		verifyCrash(t, dir, round, chains, order)
		if t.Failed() {
			return
		}
	}
	snaps, _ := os.ReadDir(filepath.Join(dir, "snapshots"))
	var names []string
	for _, e := range snaps {
		names = append(names, e.Name())
	}
	t.Logf("%d kills, %d chains, %d acknowledged writes, snapshots left: %v", kills, len(chains), acks, names)
	for _, name := range names {
		assert.False(t, strings.HasSuffix(name, ".tmp"), "a snapshot a kill interrupted is removed at the next start")
	}
	assert.Greater(t, acks, kills, "the child made progress between kills")
}

// runCrashChild starts the child, lets it write for a random while after
// its first acknowledgement, kills it and returns what it printed.
func runCrashChild(t *testing.T, dir string, round int) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, crashRoundEnv+"="+strconv.Itoa(round))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	var lines []string
	first := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		once := sync.Once{}
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if strings.HasPrefix(sc.Text(), "A ") {
				once.Do(func() { close(first) })
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case <-first:
		time.Sleep(time.Duration(rand.IntN(150)) * time.Millisecond)
	case <-done:
	case <-time.After(30 * time.Second):
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-done
	err = cmd.Wait()
	var exit *exec.ExitError
	if !assert.ErrorAs(t, err, &exit) || !assert.Equal(t, "signal: killed", exit.Error(), "the child died by itself: %s", stderr.String()) {
		t.FailNow()
	}
	return lines
}

func verifyCrash(t *testing.T, dir string, round int, chains map[string]*crashChain, order []string) {
	t.Helper()
	n := openNode(t, crashConfig(dir))
	defer n.Close()
	reg := n.Registry()
	require.NoError(t, reg.Check(), "after kill %d", round)
	for _, name := range order {
		ch := chains[name]
		var want chainState
		for _, op := range ch.acked {
			want = want.after(op)
		}
		candidates := []chainState{want}
		if ch.pending != nil {
			candidates = append(candidates, want.after(*ch.pending))
		}
		got := actualChain(t, reg, ch, candidates)
		ok := false
		for _, c := range candidates {
			if got.exists == c.exists && got.deleted == c.deleted && got.label == c.label && (!c.exists || sameSet(got.ups, c.ups)) {
				ok = true
			}
		}
		if !assert.True(t, ok, "after kill %d, chain %s: got %+v, want one of %+v (acked %d ops, pending %v)",
			round, name, got, candidates, len(ch.acked), ch.pending) {
			return
		}
	}
	require.NoError(t, n.Close())
}

// actualChain reads a chain's state; P and C must agree (one entry
// registered and deleted them together).
func actualChain(t *testing.T, reg *registry.Registry, ch *crashChain, candidates []chainState) chainState {
	p, perr := reg.Get(alice, ch.p, registry.IncludeAll)
	c, cerr := reg.Get(alice, ch.c, registry.IncludeAll)
	var got chainState
	if perr != nil {
		assert.ErrorIs(t, perr, registry.ErrNotFound)
		assert.ErrorIs(t, cerr, registry.ErrNotFound, "P is gone but its child C is not")
		return got
	}
	require.NoError(t, cerr, "P exists but its child C does not")
	assert.Equal(t, p.Deleted, c.Deleted, "P and C deleted by one recursive delete")
	got.exists, got.deleted, got.label = true, p.Deleted, p.Labels["v"]
	g, err := reg.Lineage(alice, p.ID, registry.Upstream, 1, registry.IncludeAll)
	require.NoError(t, err)
	for _, e := range g.Edges {
		got.ups = append(got.ups, e.Upstream)
	}
	// An upstream hard deleted since (with Detach) takes its edge along:
	// compare only the edges whose upstream still exists.
	for i := range candidates {
		var ups []string
		for _, u := range candidates[i].ups {
			if _, err := reg.Get(alice, u, registry.IncludeAll); err == nil {
				ups = append(ups, u)
			}
		}
		candidates[i].ups = ups
	}
	return got
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}

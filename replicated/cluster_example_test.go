package replicated_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hashicorp/raft"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/replicated"
)

// Three nodes in one process on raft's in-memory transport: the first
// bootstraps, the others join and are added by the leader. A follower
// refuses writes, naming the leader; reads choose their consistency.
func ExampleNode_AddVoter() {
	ctx := registry.WithPrincipal(context.Background(), "alice")
	var nodes []*replicated.Node
	var trans []*raft.InmemTransport
	for i := range 3 {
		id := fmt.Sprintf("node-%d", i+1)
		_, t := raft.NewInmemTransport(raft.ServerAddress(id))
		for _, o := range trans {
			t.Connect(o.LocalAddr(), o)
			o.Connect(t.LocalAddr(), t)
		}
		trans = append(trans, t)
		dir, _ := os.MkdirTemp("", "example")
		defer os.RemoveAll(dir)
		n, err := replicated.Open(ctx, replicated.Config{
			DataDir: dir, ID: id, Transport: t, Join: i > 0,
			ElectionTimeout: 500 * time.Millisecond, LogOutput: io.Discard,
		})
		if err != nil {
			fmt.Println(err)
			return
		}
		defer n.Close()
		nodes = append(nodes, n)
	}
	leader := nodes[0]
	for _, id := range []string{"node-2", "node-3"} {
		if err := leader.AddVoter(ctx, id, id); err != nil {
			fmt.Println(err)
			return
		}
	}

	m, err := leader.Register(ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "churn", Version: "1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = nodes[1].Delete(ctx, m.ID)
	var nl *replicated.NotLeaderError
	fmt.Println(errors.Is(err, replicated.ErrNotLeader), errors.As(err, &nl) && nl.LeaderID == "node-1")

	reg, err := leader.Read(ctx, replicated.Linearizable)
	if err != nil {
		fmt.Println(err)
		return
	}
	got, _ := reg.Get(ctx, m.ID)
	fmt.Println(got.FQN())
	nodes[2].WaitLeader(ctx) // a new member learns the leader from its first heartbeat
	s, _ := nodes[2].Status()
	fmt.Println(s.LeaderID, len(s.Members))
	// Output:
	// true true
	// svc.churn.1
	// node-1 3
}

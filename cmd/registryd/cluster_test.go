package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi"
	"github.com/modelreg/registry/replicated"
)

// freeAddr is a loopback address nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func (d *daemon) status() (replicated.Status, bool) {
	res, err := http.Get(d.base + "/cluster/status")
	if err != nil {
		return replicated.Status{}, false
	}
	defer res.Body.Close()
	var s replicated.Status
	return s, res.StatusCode == http.StatusOK && json.NewDecoder(res.Body).Decode(&s) == nil
}

func (d *daemon) admin(method, path, body string) (int, http.Header, string) {
	return d.send(method, path, body, "Authorization", "Bearer "+httpapi.DemoAdminToken)
}

// Three registryd processes on 127.0.0.1 form a cluster over raft's TCP
// transport; the leader is killed with SIGKILL; every write it
// acknowledged is on the two others, which elect a new leader and go on.
func TestClusterOfThreeProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three processes")
	}
	deadline := time.Now().Add(90 * time.Second)
	var ds []*daemon
	for i := range 3 {
		args := []string{"-demo", "-node-id", fmt.Sprintf("n%d", i+1), "-raft-addr", freeAddr(t), "-data-dir", t.TempDir()}
		if i == 0 {
			args = append(args, "-bootstrap")
		} else {
			args = append(args, "-join", strings.TrimPrefix(ds[0].base, "http://"))
		}
		// "-demo" must not come first: startDaemon then waits for demo IDs.
		ds = append(ds, startDaemon(t, append(args[1:], args[0])...))
	}
	leader := func(skip *daemon) *daemon {
		for time.Now().Before(deadline) {
			for _, d := range ds {
				if s, ok := d.status(); d != skip && ok && s.State == "Leader" {
					return d
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatal("no leader")
		return nil
	}
	l := leader(nil)
	s, ok := l.status()
	require.True(t, ok)
	require.Len(t, s.Members, 3)

	var acked []registry.Artifact
	register := func(d *daemon, name string) (int, string) {
		code, _, body := d.admin("POST", "/cluster/artifacts", fmt.Sprintf(`{"kind":"model","namespace":"svc","name":%q,"version":"1"}`, name))
		if code == http.StatusCreated {
			var a registry.Artifact
			require.NoError(t, json.Unmarshal([]byte(body), &a))
			acked = append(acked, a)
		}
		return code, body
	}
	for i := range 20 {
		code, body := register(l, fmt.Sprintf("m%d", i))
		require.Equal(t, http.StatusCreated, code, body)
	}
	for _, d := range ds {
		if d != l {
			code, hdr, body := d.admin("POST", "/cluster/artifacts", `{"kind":"model","namespace":"svc","name":"refused","version":"1"}`)
			assert.Equal(t, http.StatusMisdirectedRequest, code, body)
			assert.Contains(t, hdr.Get("X-Registry-Leader"), s.LeaderID)
			code, _, _ = d.admin("GET", "/cluster/artifacts/"+acked[0].ID+"?consistency=linearizable", "")
			assert.Equal(t, http.StatusMisdirectedRequest, code)
		}
	}

	// The doors are served over the node too: a write through the native
	// API on the leader goes through the log and reaches the followers; on
	// a follower it is 421 before the door sees it.
	native := func(d *daemon, name string) (int, http.Header, string) {
		return d.send("POST", "/v1/artifacts", fmt.Sprintf(`{"kind":"model","namespace":"svc","name":%q,"version":"1"}`, name),
			"Authorization", "Bearer "+httpapi.DemoAdminToken, "Content-Type", "application/json")
	}
	code, _, body := native(l, "native")
	require.Equal(t, http.StatusCreated, code, body)
	var viaNative registry.Artifact
	require.NoError(t, json.Unmarshal([]byte(body), &viaNative))
	acked = append(acked, viaNative)
	for _, d := range ds {
		if d == l {
			continue
		}
		code, hdr, body := native(d, "refused-native")
		assert.Equal(t, http.StatusMisdirectedRequest, code, body)
		assert.Contains(t, hdr.Get("X-Registry-Leader"), s.LeaderID)
		require.Eventually(t, func() bool {
			code, _, _ := d.admin("GET", "/v1/artifacts/"+viaNative.ID, "")
			return code == http.StatusOK
		}, time.Until(deadline), 20*time.Millisecond, "a follower serves reads of the native API from its local state")
	}

	require.NoError(t, l.cmd.Process.Kill()) // SIGKILL
	<-l.done
	next := leader(l)
	for i := range 5 {
		code, body := register(next, fmt.Sprintf("after%d", i))
		require.Equal(t, http.StatusCreated, code, body)
	}
	for _, d := range ds {
		if d == l {
			continue
		}
		for _, a := range acked {
			q := "?consistency=local"
			if d == next {
				q = "?consistency=linearizable"
			}
			require.Eventually(t, func() bool {
				code, _, _ := d.admin("GET", "/cluster/artifacts/"+a.ID+q, "")
				return code == http.StatusOK
			}, time.Until(deadline), 20*time.Millisecond, "%s lost acknowledged %s", d.base, a.Name)
		}
	}
}

// The cluster flags parse, and their bad combinations are errors before
// anything is opened or served.
func TestClusterFlags(t *testing.T) {
	o, err := parseFlags([]string{"-node-id", "n1", "-raft-addr", "127.0.0.1:7001", "-data-dir", "/d", "-join", "127.0.0.1:8001", "-join-token", "t"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "n1", o.nodeID)
	assert.Equal(t, "127.0.0.1:7001", o.raftAddr)
	assert.Equal(t, "/d", o.dataDir)
	assert.Equal(t, "127.0.0.1:8001", o.join)
	assert.Equal(t, "t", o.joinToken)
	assert.False(t, o.bootstrap)

	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"-demo", "-node-id", "n1", "-raft-addr", "127.0.0.1:0"}, "-data-dir"},
		{[]string{"-demo", "-node-id", "n1", "-data-dir", dir, "-bootstrap"}, "-raft-addr"},
		{[]string{"-demo", "-data-dir", dir, "-join", "127.0.0.1:1"}, "-raft-addr"},
		{[]string{"-demo", "-node-id", "n1", "-data-dir", dir, "-raft-addr", "127.0.0.1:0", "-bootstrap", "-join", "127.0.0.1:1"}, "not both"},
		{[]string{"-node-id", "n1", "-data-dir", dir, "-raft-addr", "127.0.0.1:0"}, "no credentials"},
	} {
		err := run(context.Background(), tc.args, io.Discard, io.Discard, nil)
		require.Error(t, err, "%v", tc.args)
		assert.Contains(t, err.Error(), tc.err, "%v", tc.args)
	}
}

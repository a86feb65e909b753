package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi"
	"github.com/modelreg/registry/replicated"
)

// Cluster mode (-raft-addr): the registry is a replicated.Node, one voter of
// a hashicorp/raft cluster over TCP (-raft-addr), with its log and
// snapshots in -data-dir. -bootstrap starts a new cluster of one; -join
// HOST:PORT asks the node serving HTTP there (the leader) to add this one;
// a restart needs neither.
//
// It serves the cluster API below and, beside it, every door of
// httpapi.NewHandler (the four dialects, the native API, the page, the
// metrics) over the node: reads answer from the node's local registry
// (Local consistency, possibly stale on a follower); on a follower every
// request that is not a GET or a HEAD is answered 421 as below, before a
// door sees it, so a dialect never has to tell a lost leadership apart
// from its own errors. (A few dialect reads use POST, such as the artifact
// registry's queries: on a follower they are 421 too.)
//
//	GET    /readyz                       200 once a leader is known
//	GET    /cluster/status               this node's replicated.Status
//	POST   /cluster/join                 {"id","raft_addr"}: add a voter (admin)
//	POST   /cluster/artifacts            register (body: registry.Artifact)
//	GET    /cluster/artifacts/{id}       ?consistency=local|leader-checked|linearizable
//	DELETE /cluster/artifacts/{id}       ?hard=true&cascade=true&token=T
//
// A write (or a leader-checked or linearizable read) sent to a follower is
// answered 421 Misdirected Request, with the leader's node ID and raft
// address in the body and in X-Registry-Leader; nothing changed, and the
// client sends it to the leader (found with /cluster/status on any node).
// The HTTP layer does not forward: a client that retries elsewhere knows
// where its write went. Requests carry "Authorization: Bearer TOKEN" of
// the credentials file; the node's authorizer is the credentials'
// namespaces, applied on every replica.

type clusterServer struct {
	node  *replicated.Node
	creds *httpapi.Credentials
	auth  registry.NamespaceAuthorizer
}

// openCluster opens this process's node and, with -join, has the leader
// add it.
func openCluster(ctx context.Context, o options, creds *httpapi.Credentials, log *slog.Logger) (*replicated.Node, error) {
	if o.dataDir == "" || o.raftAddr == "" {
		return nil, errors.New("-raft-addr (cluster mode) needs -data-dir")
	}
	if o.bootstrap && o.join != "" {
		return nil, errors.New("-bootstrap and -join: a node starts a new cluster or joins one, not both")
	}
	n, err := replicated.Open(ctx, replicated.Config{
		DataDir: o.dataDir, ID: o.nodeID, Addr: o.raftAddr, Join: !o.bootstrap,
		Authorizer: creds.Authorizer(),
	})
	if err != nil {
		return nil, err
	}
	if o.join != "" {
		if err := join(ctx, o); err != nil {
			n.Close()
			return nil, err
		}
		log.Info("registryd joined the cluster", "via", o.join)
	}
	return n, nil
}

// join asks the node serving HTTP at o.join to add this one, retrying
// while it is not ready.
func join(ctx context.Context, o options) error {
	body, _ := json.Marshal(map[string]string{"id": o.nodeID, "raft_addr": o.raftAddr})
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+o.join+"/cluster/join", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+o.joinToken)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			msg := new(bytes.Buffer)
			msg.ReadFrom(res.Body)
			res.Body.Close()
			switch {
			case res.StatusCode == http.StatusOK:
				return nil
			case res.StatusCode < 500 && res.StatusCode != http.StatusMisdirectedRequest:
				return fmt.Errorf("-join %s: %s: %s", o.join, res.Status, strings.TrimSpace(msg.String()))
			}
			err = fmt.Errorf("%s: %s", res.Status, strings.TrimSpace(msg.String()))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("-join %s: %w", o.join, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (s *clusterServer) handler(doors http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", s.leaderWrites(doors))
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if s.node.Leader() == "" {
			http.Error(w, "no leader yet", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /cluster/status", func(w http.ResponseWriter, r *http.Request) {
		st, err := s.node.Status()
		if err != nil {
			s.fail(w, err)
			return
		}
		reply(w, http.StatusOK, st)
	})
	mux.HandleFunc("POST /cluster/join", s.authed(func(w http.ResponseWriter, r *http.Request, ctx context.Context) {
		if !slices.Contains(s.auth[registry.PrincipalFrom(ctx)], "*") {
			reply(w, http.StatusForbidden, map[string]string{"error": "joining a node needs an administrator's token"})
			return
		}
		var in struct {
			ID       string `json:"id"`
			RaftAddr string `json:"raft_addr"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			reply(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		if err := s.node.AddVoter(ctx, in.ID, in.RaftAddr); err != nil {
			s.fail(w, err)
			return
		}
		reply(w, http.StatusOK, map[string]string{"joined": in.ID})
	}))
	mux.HandleFunc("POST /cluster/artifacts", s.authed(func(w http.ResponseWriter, r *http.Request, ctx context.Context) {
		var a registry.Artifact
		if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
			reply(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		out, err := s.node.Register(ctx, a)
		if err != nil {
			s.fail(w, err)
			return
		}
		reply(w, http.StatusCreated, out)
	}))
	mux.HandleFunc("GET /cluster/artifacts/{id}", s.authed(func(w http.ResponseWriter, r *http.Request, ctx context.Context) {
		level := replicated.Local
		switch c := r.URL.Query().Get("consistency"); c {
		case "", "local":
		case "leader-checked":
			level = replicated.LeaderChecked
		case "linearizable":
			level = replicated.Linearizable
		default:
			reply(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("consistency %q is not local, leader-checked or linearizable", c)})
			return
		}
		reg, err := s.node.Read(ctx, level)
		if err != nil {
			s.fail(w, err)
			return
		}
		a, err := reg.Get(ctx, r.PathValue("id"), registry.IncludeAll)
		if err != nil {
			s.fail(w, err)
			return
		}
		reply(w, http.StatusOK, a)
	}))
	mux.HandleFunc("DELETE /cluster/artifacts/{id}", s.authed(func(w http.ResponseWriter, r *http.Request, ctx context.Context) {
		q := r.URL.Query()
		res, err := s.node.Delete(ctx, r.PathValue("id"), registry.DeleteOptions{
			Hard: q.Get("hard") == "true", Cascade: q.Get("cascade") == "true", ClientToken: q.Get("token"),
		})
		if err != nil {
			s.fail(w, err)
			return
		}
		reply(w, http.StatusOK, res)
	}))
	return mux
}

// leaderWrites answers a write sent to a follower 421, naming the leader,
// and passes everything else to next.
func (s *clusterServer) leaderWrites(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if st, err := s.node.Status(); err == nil && st.State != "Leader" {
				s.fail(w, &replicated.NotLeaderError{Node: st.ID, LeaderID: st.LeaderID, LeaderAddress: st.LeaderAddress})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// authed resolves the bearer token to its principal.
func (s *clusterServer) authed(h func(http.ResponseWriter, *http.Request, context.Context)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		principal, known := s.creds.Token(token)
		if !ok || !known {
			reply(w, http.StatusUnauthorized, map[string]string{"error": "a valid Authorization: Bearer token is required"})
			return
		}
		h(w, r, registry.WithPrincipal(r.Context(), principal))
	}
}

func (s *clusterServer) fail(w http.ResponseWriter, err error) {
	var nl *replicated.NotLeaderError
	if errors.As(err, &nl) {
		w.Header().Set("X-Registry-Leader", nl.LeaderID+" "+nl.LeaderAddress)
		reply(w, http.StatusMisdirectedRequest, map[string]string{
			"error": err.Error(), "leader_id": nl.LeaderID, "leader_raft_address": nl.LeaderAddress,
		})
		return
	}
	var re *registry.Error
	if errors.As(err, &re) {
		reply(w, registry.HTTPStatus(err), re)
		return
	}
	// Not applied, or not known to be (the leader was lost in flight):
	// retry, with a token for deletes.
	reply(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// serveCluster serves the cluster API until ctx is done.
func serveCluster(ctx context.Context, o options, creds *httpapi.Credentials, log *slog.Logger, ready chan<- string) error {
	n, err := openCluster(ctx, o, creds, log)
	if err != nil {
		return err
	}
	defer n.Close()
	s := &clusterServer{node: n, creds: creds, auth: creds.Authorizer()}
	cfg := httpapi.Config{Registry: n, Credentials: creds, Logger: log}
	if o.demo && o.credentials == "" {
		cfg.ArtifactsAnonymous = httpapi.DemoGuest
	}
	doors, err := httpapi.NewHandler(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv := httpapi.NewServer(o.addr, s.handler(doors), log)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("registryd listening", "addr", ln.Addr().String(), "node", o.nodeID, "raft", o.raftAddr)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdown)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("registryd stopped")
	return nil
}

// Command registryd serves a registry over HTTP in the dialects of the four
// systems it was designed from (OpenMetadata, Huawei ModelArts, the artifact
// registry of seed 003, AWS Lookout for Vision), so that their own clients
// work against it unchanged, and in its own native API under /v1 (package
// httpapi/native; its OpenAPI document at /v1/openapi.yaml), with
// Prometheus metrics at /metrics; a web page at /ui/ browses the registry
// and previews deletes on a graph (package httpapi/ui). See package httpapi
// for the routes.
//
//	registryd [-addr 127.0.0.1:8585] [-credentials creds.json | -demo] [-data-dir DIR [-node-id registryd]] [-log-format text|json] [-shutdown-timeout 30s]
//	registryd -node-id ID -raft-addr HOST:PORT -data-dir DIR [-bootstrap | -join HTTP-HOST:PORT] [-credentials creds.json | -demo] ...
//
// The second form (given -raft-addr) runs one node of a replicated cluster
// (see cluster.go for its API, and package replicated).
//
// Every flag but -shutdown-timeout may also be given as an environment
// variable (an empty one counts as unset; a flag beats its variable):
// REGISTRYD_ADDR, REGISTRYD_CREDENTIALS, REGISTRYD_DEMO, REGISTRYD_DATA_DIR,
// REGISTRYD_NODE_ID, REGISTRYD_LOG_FORMAT.
//
// Without -data-dir the registry is in memory and gone when the process
// exits. With -data-dir it is durable: a replicated.Node keeps its log and
// snapshots in DIR (one voter, bootstrapped on the first start, named by
// -node-id), every write is on disk before it is answered, and a restart
// on the same directory recovers every acknowledged write. /readyz answers
// ready once the node has a leader and has applied its log.
//
// The credentials file maps tokens and AWS access keys to principals and
// their namespaces (httpapi.Credentials); one of it and -demo is required,
// not both. With -demo the registry starts seeded by httpapi.SeedDemo (with
// -data-dir, only when the directory holds no artifact yet: a restart does
// not seed again, and prints no demo IDs), with the demo credentials
// (httpapi.DemoCredentials), and artifact registry requests without
// X-Authorization act as httpapi.DemoGuest, so that the seeds' example
// requests work against it verbatim (the guest is scoped to the artifact
// registry's namespace, so DELETE /reset still needs the admin token); the
// demo IDs, credentials and the seeds' requests as curl lines are printed
// at start. The log line "registryd listening" gives the address (useful
// with -addr 127.0.0.1:0).
//
// It stops on SIGINT or SIGTERM: it stops accepting connections and exits
// 0 once the requests in flight have finished (at most -shutdown-timeout,
// 30 s by default; past that it exits 1), closing the durable node after
// the server drained. httpapi.NewServer's timeouts bound slow clients.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi"
	"github.com/modelreg/registry/replicated"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "registryd:", err)
		os.Exit(1)
	}
}

// options are registryd's flags.
type options struct {
	addr        string
	credentials string
	demo        bool
	logFormat   string
	shutdown    time.Duration
	dataDir     string // empty: in memory
	nodeID      string

	// Cluster mode (cluster.go), given -raft-addr.
	raftAddr  string
	bootstrap bool
	join      string
	joinToken string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("registryd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", env("REGISTRYD_ADDR", "127.0.0.1:8585"), "address to listen on (REGISTRYD_ADDR)")
	fs.StringVar(&o.credentials, "credentials", env("REGISTRYD_CREDENTIALS", ""), "credentials file: tokens and AWS keys of each principal (REGISTRYD_CREDENTIALS)")
	demo, err := strconv.ParseBool(env("REGISTRYD_DEMO", "false"))
	if err != nil {
		return o, fmt.Errorf("REGISTRYD_DEMO: %w", err)
	}
	fs.BoolVar(&o.demo, "demo", demo, "start with a seeded registry and, without -credentials, the demo credentials (REGISTRYD_DEMO)")
	fs.StringVar(&o.dataDir, "data-dir", env("REGISTRYD_DATA_DIR", ""), "directory of a durable registry (a raft log and snapshots); empty keeps the registry in memory (REGISTRYD_DATA_DIR)")
	fs.StringVar(&o.nodeID, "node-id", env("REGISTRYD_NODE_ID", "registryd"), "the durable node's ID, with -data-dir; in cluster mode its ID in the raft cluster (REGISTRYD_NODE_ID)")
	fs.StringVar(&o.logFormat, "log-format", env("REGISTRYD_LOG_FORMAT", "text"), "log format: text or json (REGISTRYD_LOG_FORMAT)")
	fs.DurationVar(&o.shutdown, "shutdown-timeout", 30*time.Second, "how long a shutdown waits for requests in flight")
	fs.StringVar(&o.raftAddr, "raft-addr", env("REGISTRYD_RAFT_ADDR", ""), "cluster mode: address raft listens on for its peers (REGISTRYD_RAFT_ADDR)")
	fs.BoolVar(&o.bootstrap, "bootstrap", false, "cluster mode: start a new cluster with this node as its only voter")
	fs.StringVar(&o.join, "join", env("REGISTRYD_JOIN", ""), "cluster mode: HTTP address (host:port) of the leader to join (REGISTRYD_JOIN)")
	fs.StringVar(&o.joinToken, "join-token", env("REGISTRYD_JOIN_TOKEN", ""), "cluster mode: an administrator's token to join with; -demo's admin token by default (REGISTRYD_JOIN_TOKEN)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.logFormat != "text" && o.logFormat != "json" {
		return o, fmt.Errorf("-log-format %q is not text or json", o.logFormat)
	}
	if o.raftAddr == "" && (o.bootstrap || o.join != "" || o.joinToken != "") {
		return o, errors.New("-bootstrap, -join and -join-token are cluster flags: give -raft-addr (and -data-dir) to run a cluster node")
	}
	return o, nil
}

// env is the variable key, or def when it is unset or empty.
func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// run serves until ctx is done or a signal arrives. ready, when not nil,
// receives the address the server listens on.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready chan<- string) (err error) {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	var log *slog.Logger
	if o.logFormat == "json" {
		log = slog.New(slog.NewJSONHandler(stdout, nil))
	} else {
		log = slog.New(slog.NewTextHandler(stdout, nil))
	}

	creds, err := credentials(o)
	if err != nil {
		return err
	}
	if o.raftAddr != "" {
		if o.joinToken == "" && o.demo {
			o.joinToken = httpapi.DemoAdminToken
		}
		ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		return serveCluster(ctx, o, creds, log, ready)
	}
	reg, closeReg, err := openRegistry(ctx, o, creds.Authorizer(), stderr)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := closeReg(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close the registry: %w", cerr))
		}
	}()
	cfg := httpapi.Config{Registry: reg, Credentials: creds, Logger: log}
	if o.demo && o.credentials == "" {
		// Seed 003's curl lines carry no X-Authorization.
		cfg.ArtifactsAnonymous = httpapi.DemoGuest
	}
	handler, err := httpapi.NewHandler(cfg)
	if err != nil {
		return err
	}
	var demo *httpapi.Demo
	if o.demo {
		if o.credentials != "" {
			// The demo is seeded as the demo admin: add it to the table.
			return errors.New("-demo with -credentials: the demo is seeded with the demo credentials; give one or the other")
		}
		seeded, err := reg.Count(registry.WithPrincipal(ctx, httpapi.DemoAdmin), registry.Filter{Include: registry.IncludeAll})
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if seeded == 0 {
			if demo, err = httpapi.SeedDemo(ctx, handler, reg); err != nil {
				return fmt.Errorf("demo: %w", err)
			}
		} else {
			log.Info("demo not seeded: the data directory already holds artifacts", "artifacts", seeded, "dataDir", o.dataDir)
		}
	}

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv := httpapi.NewServer(o.addr, handler, log)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("registryd listening", "addr", ln.Addr().String(), "demo", o.demo, "dataDir", o.dataDir, "page", "http://"+ln.Addr().String()+"/ui/")
	if demo != nil {
		log.Info("demo credentials", "admin", httpapi.DemoAdmin, "token", httpapi.DemoAdminToken,
			"awsAccessKeyId", httpapi.DemoAccessKeyID, "awsSecretAccessKey", httpapi.DemoSecretAccessKey,
			"mlflowToken", httpapi.DemoMLflowToken, "artifactsWithoutCredential", httpapi.DemoGuest)
		log.Info("demo IDs", "omModel", demo.OMModelID, "modelartsProject", httpapi.DemoModelArtsProject,
			"modelartsModels", demo.ModelArtsModelIDs, "modelartsService", demo.ModelArtsServiceID,
			"artifactModel", demo.ArtifactModelID, "artifactDataset", demo.ArtifactDatasetID, "artifactCode", demo.ArtifactCodeID,
			"lookoutProject", httpapi.DemoLookoutProject, "lookoutHosted", demo.LookoutHostedVersion, "lookoutStopped", demo.LookoutStoppedVersion)
		fmt.Fprint(stderr, "\nThe seeds' example requests against this server:\n"+demo.Requests("http://"+ln.Addr().String())+"\n")
	}
	if ready != nil {
		ready <- ln.Addr().String()
	}
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("registryd shutting down; waiting for requests in flight", "timeout", o.shutdown)
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdown)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("registryd stopped")
	return nil
}

// openRegistry opens what registryd serves and returns how to close it:
// with -data-dir a durable node on that directory (the raft log and
// snapshots; one voter, bootstrapped on first start), else a registry in
// memory. Both ask authz on every call.
func openRegistry(ctx context.Context, o options, authz registry.Authorizer, logOutput io.Writer) (registry.API, func() error, error) {
	if o.dataDir == "" {
		reg, err := registry.New(registry.WithAuthorizer(authz))
		return reg, func() error { return nil }, err
	}
	node, err := replicated.Open(ctx, replicated.Config{DataDir: o.dataDir, ID: o.nodeID, Authorizer: authz, LogOutput: logOutput})
	if err != nil {
		return nil, nil, err
	}
	return node, node.Close, nil
}

func credentials(o options) (*httpapi.Credentials, error) {
	switch {
	case o.credentials != "":
		return httpapi.LoadCredentials(o.credentials)
	case o.demo:
		return httpapi.DemoCredentials(), nil
	}
	return nil, errors.New("no credentials: give -credentials FILE (or REGISTRYD_CREDENTIALS), or -demo for the demo credentials")
}

package registry_test

// A model-based randomized test, after bbolt's randomized tests that run
// Tx.Check after every step: a generator makes sequences of operations on a
// small world (two namespaces, three names, six versions, so that names,
// versions, trees and lineage collide often); each operation runs on the
// registry and on the reference model (oracle_state_test.go); after every
// step the answers (error code, result, artifacts) must agree, the visible
// state (List, Get, GetByFQN, Lineage, PendingCleanups) must agree, and
// Check must pass. A failing sequence is shrunk to a short one and printed
// with its seed.
//
// Environment:
//
//	REGISTRY_MODEL_STEPS=n  run about n steps in all, modelRunLength per
//	                        seed (default 48000; 6000 with -race, 3000
//	                        with -short)
//	REGISTRY_MODEL_SEED=s   run only seed s (the one a failure printed)
//	REGISTRY_MODEL_BASE=b   seeds are b, b+1, ... (default 1)

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
)

// The world the generator draws from.
var (
	modelNamespaces = []string{"svc", "lab"}
	modelNames      = []string{"churn", "churn.v2", "seg"}
	// Natural order "" < 1 < 1.10 < 2 < 3 < 10 differs from byte order.
	modelVersions   = []string{"", "1", "2", "3", "10", "1.10"}
	modelKinds      = []registry.Kind{registry.KindModel, registry.KindDataset, registry.KindCode}
	modelPrincipals = []string{"alice", "bob", ""}
	modelEndpoints  = []string{"ep-1", "ep-2"}
	modelTokens     = []string{"t-1", "t-2", "t-3"}
	modelReasons    = []string{"", "superseded", "cleanup"}
	modelURIs       = []string{"s3://b/1", "s3://b/2", "s3://b/3", "gs://c/4", "file:///d/5"}
	modelTags       = []string{"prod", "exp", "pii"}
	modelAges       = []time.Duration{0, 30 * time.Minute, 2 * time.Hour, 9 * time.Hour}
	modelMoves      = []time.Duration{time.Second, 10 * time.Minute, time.Hour, 3 * time.Hour, 9 * time.Hour}
)

const modelRunLength = 240 // steps per seed

type modelOpKind int

const (
	modelRegister modelOpKind = iota
	modelUpdate
	modelLink
	modelUnlink
	modelDeploy
	modelUndeploy
	modelDelete
	modelRestore
	modelPurge
	modelReset
	modelClock
)

// modelOp is one concrete call: replaying a list of them needs no
// randomness, so a failing list can be shrunk by dropping operations.
type modelOp struct {
	kind      modelOpKind
	principal string
	arts      []registry.Artifact // register (a batch when more than one), update
	id        string              // delete, restore, deploy target; link upstream
	down      string              // link downstream
	endpoint  string
	// fqn, when set, targets a delete or restore by FQN (ns, name,
	// version are its parts).
	fqn, ns, name, version string
	del                    registry.DeleteOptions
	token, reason          string // restore
	age                    time.Duration
	purge                  registry.PurgeOptions
	advance                time.Duration
}

// modelShort names a generated ID by its counter: #12; others in full.
func modelShort(id string) string {
	if strings.HasPrefix(id, "00000000-0000-4000-8000-") {
		n, _ := strconv.ParseInt(id[24:], 16, 64)
		return fmt.Sprintf("#%d", n)
	}
	if strings.HasPrefix(strings.ToLower(id), "00000000-0000-4000-9000-") {
		n, _ := strconv.ParseInt(id[24:], 16, 64)
		return fmt.Sprintf("?%d", n)
	}
	return id
}

func (o modelOp) String() string {
	by := " by " + modelPrincipal(o.principal)
	target := modelShort(o.id)
	if o.id != strings.ToLower(o.id) {
		target += "(upper)"
	}
	if o.fqn != "" {
		target = "fqn " + o.fqn
	}
	switch o.kind {
	case modelRegister:
		var parts []string
		for _, a := range o.arts {
			s := fmt.Sprintf("%s %s %s", modelShort(a.ID), a.Kind, modelFQN(a.Namespace, a.Name, a.Version))
			if a.Parent != "" {
				s += " parent=" + modelShort(a.Parent)
			}
			if len(a.StorageURIs) > 0 {
				s += fmt.Sprintf(" uris=%v", a.StorageURIs)
			}
			parts = append(parts, s)
		}
		return "register " + strings.Join(parts, "; ") + by
	case modelUpdate:
		a := o.arts[0]
		s := fmt.Sprintf("update %s display=%q tags=%v uris=%v", modelShort(a.ID), a.DisplayName, a.Tags, a.StorageURIs)
		if a.Name != "" {
			s += " name=" + a.Name
		}
		return s + by
	case modelLink:
		return fmt.Sprintf("link %s -> %s%s", modelShort(o.id), modelShort(o.down), by)
	case modelUnlink:
		return fmt.Sprintf("unlink %s -> %s%s", modelShort(o.id), modelShort(o.down), by)
	case modelDeploy:
		return fmt.Sprintf("deploy %s to %s%s", target, o.endpoint, by)
	case modelUndeploy:
		return fmt.Sprintf("undeploy %s from %s%s", target, o.endpoint, by)
	case modelDelete:
		d := o.del
		var opts []string
		for _, f := range []struct {
			on   bool
			name string
		}{{d.Hard, "Hard"}, {d.Recursive, "Recursive"}, {d.Cascade, "Cascade"}, {d.Atomic, "Atomic"}, {d.DryRun, "DryRun"}} {
			if f.on {
				opts = append(opts, f.name)
			}
		}
		if d.CascadeLimit != 0 {
			opts = append(opts, fmt.Sprintf("CascadeLimit:%d", d.CascadeLimit))
		}
		if d.Lineage != registry.LineageRestrict {
			opts = append(opts, "Lineage:"+d.Lineage.String())
		}
		if d.ClientToken != "" {
			opts = append(opts, "ClientToken:"+d.ClientToken)
		}
		if d.Reason != "" {
			opts = append(opts, "Reason:"+d.Reason)
		}
		return fmt.Sprintf("delete %s {%s}%s", target, strings.Join(opts, " "), by)
	case modelRestore:
		s := "restore " + target
		if o.token != "" {
			s += " ClientToken:" + o.token
		}
		if o.reason != "" {
			s += " Reason:" + o.reason
		}
		return s + by
	case modelPurge:
		return fmt.Sprintf("purge older than %v {Lineage:%s DryRun:%t Reason:%q}%s", o.age, o.purge.Lineage, o.purge.DryRun, o.purge.Reason, by)
	case modelReset:
		return "reset" + by
	case modelClock:
		return fmt.Sprintf("clock +%v", o.advance)
	}
	return "?"
}

// modelChooser is the generator's source of choices: a seeded PRNG for the
// randomized test, the fuzzer's bytes for FuzzOperations.
type modelChooser interface {
	intn(n int) int
}

type modelRand struct{ r *rand.Rand }

func (m modelRand) intn(n int) int { return m.r.IntN(n) }

func modelPick[T any](c modelChooser, list []T) T { return list[c.intn(len(list))] }

func modelChance(c modelChooser, percent int) bool { return c.intn(100) < percent }

// modelGen makes operations that fit the model's current state, so that
// most of them hit something.
type modelGen struct {
	m      *modelState
	c      modelChooser
	nextID int
	last   *modelOp // the last delete or restore, to retry
}

func modelID(n int) string        { return fmt.Sprintf("00000000-0000-4000-8000-%012x", n) }
func modelUnknownID(n int) string { return fmt.Sprintf("00000000-0000-4000-9000-%012x", n) }

// pickArtifact returns a stored artifact, live ones with the given bias
// (percent), or nil when there is none.
func (g *modelGen) pickArtifact(livePercent int) *registry.Artifact {
	all := g.m.sorted(func(*registry.Artifact) bool { return true })
	if len(all) == 0 {
		return nil
	}
	wantLive := modelChance(g.c, livePercent)
	var pool []*registry.Artifact
	for _, a := range all {
		if a.Deleted != wantLive {
			pool = append(pool, a)
		}
	}
	if len(pool) == 0 {
		pool = all
	}
	return modelPick(g.c, pool)
}

// pickID returns the ID of a stored artifact mostly, else one that was hard
// deleted or never existed.
func (g *modelGen) pickID(livePercent int) string {
	switch n := g.c.intn(100); {
	case n < 6 && len(g.m.known) > 0:
		return modelPick(g.c, g.m.known)
	case n < 9:
		return modelUnknownID(g.c.intn(4))
	}
	if a := g.pickArtifact(livePercent); a != nil {
		return a.ID
	}
	return modelUnknownID(g.c.intn(4))
}

// target fills a delete or restore target: by ID, by upper-case ID or by
// FQN.
func (g *modelGen) target(op *modelOp, livePercent int) {
	op.id = g.pickID(livePercent)
	switch n := g.c.intn(100); {
	case n < 25:
		ns, name, version := modelPick(g.c, modelNamespaces), modelPick(g.c, modelNames), modelPick(g.c, modelVersions)
		if a := g.m.arts[op.id]; a != nil && n < 20 {
			ns, name, version = a.Namespace, a.Name, a.Version
		}
		op.id, op.fqn, op.ns, op.name, op.version = "", modelFQN(ns, name, version), ns, name, version
	case n < 30:
		op.id = strings.ToUpper(op.id)
	}
}

func (g *modelGen) metadata(a *registry.Artifact) {
	a.DisplayName = modelPick(g.c, []string{"", "Churn", "Segments"})
	if modelChance(g.c, 30) {
		a.Description = modelPick(g.c, []string{"line one\nline two", "trained nightly"})
	}
	for _, tag := range modelTags {
		if modelChance(g.c, 25) {
			a.Tags = append(a.Tags, tag)
		}
	}
	if modelChance(g.c, 25) {
		a.Labels = map[string]string{"team": modelPick(g.c, []string{"ml", "bi"})}
	}
	start := g.c.intn(len(modelURIs)) // URIs in varied orders, shared often
	for i := range modelURIs {
		if modelChance(g.c, 18) {
			a.StorageURIs = append(a.StorageURIs, modelURIs[(start+i)%len(modelURIs)])
		}
	}
}

func (g *modelGen) newArtifact() registry.Artifact {
	g.nextID++
	a := registry.Artifact{ID: modelID(g.nextID), Kind: modelPick(g.c, modelKinds),
		Namespace: modelPick(g.c, modelNamespaces), Name: modelPick(g.c, modelNames), Version: modelPick(g.c, modelVersions)}
	switch n := g.c.intn(100); {
	case n < 3 && len(g.m.known) > 0:
		a.ID = modelPick(g.c, g.m.known) // taken, or free again after a hard delete
	case n < 5:
		a.Parent = a.ID // its own parent
	case n < 50:
		a.Parent = g.pickID(85)
	}
	g.metadata(&a)
	return a
}

func (g *modelGen) next() modelOp {
	op := modelOp{principal: modelPick(g.c, modelPrincipals)}
	switch n := g.c.intn(1000); {
	case n < 200:
		op.kind = modelRegister
		op.arts = []registry.Artifact{g.newArtifact()}
		if modelChance(g.c, 12) {
			b := g.newArtifact()
			if modelChance(g.c, 70) {
				b.Parent = op.arts[0].ID
			}
			op.arts = append(op.arts, b)
		}
	case n < 250:
		op.kind = modelUpdate
		a := registry.Artifact{ID: g.pickID(90)}
		g.metadata(&a)
		if modelChance(g.c, 8) {
			a.Name = modelPick(g.c, modelNames) // immutable: refused unless unchanged
		}
		if modelChance(g.c, 30) {
			if cur := g.m.arts[a.ID]; cur != nil { // the same metadata: no change
				a = modelClone(cur)
				a.Endpoints, a.DeletedUpstreams, a.Revision = nil, nil, 0
			}
		}
		op.arts = []registry.Artifact{a}
	case n < 360:
		op.kind = modelLink
		op.id, op.down = g.pickID(92), g.pickID(92)
	case n < 390:
		op.kind = modelUnlink
		if keys := g.edgeKeys(); len(keys) > 0 && modelChance(g.c, 85) {
			k := modelPick(g.c, keys)
			op.id, op.down = k.up, k.down
		} else {
			op.id, op.down = g.pickID(80), g.pickID(80)
		}
	case n < 445:
		op.kind = modelDeploy
		op.id, op.endpoint = g.pickID(92), modelPick(g.c, modelEndpoints)
	case n < 490:
		op.kind = modelUndeploy
		op.id, op.endpoint = g.pickID(95), modelPick(g.c, modelEndpoints)
		if deployed := g.m.sorted(func(a *registry.Artifact) bool { return len(a.Endpoints) > 0 }); len(deployed) > 0 && modelChance(g.c, 80) {
			a := modelPick(g.c, deployed)
			op.id, op.endpoint = a.ID, modelPick(g.c, a.Endpoints)
		}
	case n < 760:
		op.kind = modelDelete
		g.target(&op, 80)
		if keys := g.edgeKeys(); len(keys) > 0 && op.fqn == "" && modelChance(g.c, 30) {
			op.id = modelPick(g.c, keys).up // something that others depend on
		}
		op.del = g.deleteOptions()
		g.last = &op
	case n < 840:
		op.kind = modelRestore
		g.target(&op, 25)
		if modelChance(g.c, 30) {
			op.token = modelPick(g.c, modelTokens)
		}
		op.reason = modelPick(g.c, modelReasons)
		g.last = &op
	case n < 875:
		op.kind = modelPurge
		op.age = modelPick(g.c, modelAges)
		op.purge = registry.PurgeOptions{Lineage: registry.LineagePolicy(g.c.intn(3)), DryRun: modelChance(g.c, 20),
			Reason: modelPick(g.c, modelReasons)}
	case n < 879:
		op.kind = modelReset
	case n < 930:
		op.kind = modelClock
		op.advance = modelPick(g.c, modelMoves)
	default:
		if g.last == nil {
			op.kind = modelClock
			op.advance = time.Second
			break
		}
		op = *g.last // a retry, with its token if it had one
		if modelChance(g.c, 15) {
			op.principal = modelPick(g.c, modelPrincipals)
		}
		// Variants that are the same request: the ID in upper case, the
		// default cascade limit spelled out; and a dry run.
		if modelChance(g.c, 15) && op.fqn == "" {
			op.id = strings.ToUpper(op.id)
		}
		if op.kind == modelDelete && op.del.Cascade && op.del.CascadeLimit == 0 && modelChance(g.c, 20) {
			op.del.CascadeLimit = registry.DefaultCascadeLimit
		}
		if op.kind == modelDelete && modelChance(g.c, 10) {
			op.del.DryRun = !op.del.DryRun
		}
	}
	return op
}

func (g *modelGen) edgeKeys() []modelEdgeKey {
	var keys []modelEdgeKey
	for k := range g.m.edges {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b modelEdgeKey) int { return strings.Compare(a.up+a.down, b.up+b.down) })
	return keys
}

func (g *modelGen) deleteOptions() registry.DeleteOptions {
	d := registry.DeleteOptions{
		Hard:      modelChance(g.c, 40),
		Recursive: modelChance(g.c, 40),
		Cascade:   modelChance(g.c, 30),
		Lineage:   registry.LineagePolicy(g.c.intn(3)),
		Atomic:    modelChance(g.c, 20),
		DryRun:    modelChance(g.c, 12),
		Reason:    modelPick(g.c, modelReasons),
	}
	if d.Cascade && modelChance(g.c, 50) {
		d.CascadeLimit = 1 + g.c.intn(3)
	}
	if !d.Hard && !d.Cascade {
		d.Lineage = registry.LineageRestrict // the policy applies to hard and cascade deletes only
	}
	if modelChance(g.c, 35) {
		d.ClientToken = modelPick(g.c, modelTokens)
	}
	switch g.c.intn(100) {
	case 0:
		d.CascadeLimit = -1
	case 1:
		d.ClientToken = "not a token"
	case 2:
		d.CascadeLimit, d.Cascade = 2, false // a limit without Cascade
	case 3:
		d.Lineage, d.Hard, d.Cascade = registry.LineageDetach, false, false // a policy on a plain soft delete
	}
	return d
}

// modelConfig is what a seed chooses before its first step.
type modelConfig struct {
	ttl     time.Duration
	protect time.Duration
	authz   bool // modelAllowed authorizes every change
}

func (c modelConfig) String() string {
	return fmt.Sprintf("token TTL %v, purge protection %v, authorizer %t", c.ttl, c.protect, c.authz)
}

func modelConfigFor(c modelChooser) modelConfig {
	cfg := modelConfig{ttl: registry.DefaultTokenTTL}
	if modelChance(c, 30) {
		cfg.ttl = 2 * time.Hour
	}
	if modelChance(c, 30) {
		cfg.protect = time.Hour
	}
	cfg.authz = modelChance(c, 40)
	return cfg
}

// modelWorld is a registry and its model, side by side.
type modelWorld struct {
	reg   *registry.Registry
	clock *registrytest.Clock
	m     *modelState
	// seen counts outcomes by kind ("delete NOT_EMPTY", "delete
	// skipped", ...), so that a run can show what it reached.
	seen map[string]int
}

func newModelWorld(cfg modelConfig) (*modelWorld, error) {
	clock := registrytest.NewClock(registrytest.Epoch)
	opts := []registry.Option{registry.WithClock(clock), registry.WithTokenTTL(cfg.ttl)}
	if cfg.protect > 0 {
		opts = append(opts, registry.WithPurgeProtection(cfg.protect))
	}
	if cfg.authz {
		opts = append(opts, registry.WithAuthorizer(registry.AuthorizerFunc(
			func(_ context.Context, principal string, action registry.Action, a registry.Artifact) error {
				if !modelAllowed(principal, action, a) {
					return fmt.Errorf("the test's policy refuses %s to %s", action, principal)
				}
				return nil
			})))
	}
	reg, err := registry.New(opts...)
	if err != nil {
		return nil, err
	}
	return &modelWorld{reg: reg, clock: clock, m: newModelState(registrytest.Epoch, cfg), seen: map[string]int{}}, nil
}

// modelRecorder collects testify failures so that a failing step can be
// reported as an error (and the sequence shrunk) instead of failing a test.
type modelRecorder struct{ msgs []string }

// Errorf keeps testify's message without its "Error Trace" section, which
// names only this file's comparison helpers.
func (r *modelRecorder) Errorf(format string, args ...any) {
	var keep []string
	trace := false
	for _, line := range strings.Split(fmt.Sprintf(format, args...), "\n") {
		switch {
		case strings.Contains(line, "Error Trace:"):
			trace = true
		case strings.Contains(line, "Error:"):
			trace = false
		}
		if !trace {
			keep = append(keep, line)
		}
	}
	r.msgs = append(r.msgs, strings.Join(keep, "\n"))
}

func (r *modelRecorder) err() error {
	if len(r.msgs) == 0 {
		return nil
	}
	return errors.New(strings.Join(r.msgs, "\n"))
}

// step runs op on the registry and on the model and compares the answers,
// then the whole visible state, then runs Check.
func (w *modelWorld) step(op modelOp) error {
	ctx := registry.WithPrincipal(context.Background(), op.principal)
	rec := &modelRecorder{}
	var err error
	var res registry.Result
	var got []registry.Artifact
	var want modelOutcome
	hasResult := false
	switch op.kind {
	case modelRegister:
		if len(op.arts) == 1 {
			var a registry.Artifact
			if a, err = w.reg.Register(ctx, op.arts[0]); err == nil {
				got = []registry.Artifact{a}
			}
		} else {
			got, err = w.reg.RegisterBatch(ctx, op.arts)
		}
		want = w.m.register(op.principal, op.arts)
	case modelUpdate:
		var a registry.Artifact
		if a, err = w.reg.Update(ctx, op.arts[0]); err == nil {
			got = []registry.Artifact{a}
		}
		want = w.m.update(op.principal, op.arts[0])
	case modelLink:
		err = w.reg.Link(ctx, op.id, op.down)
		want = w.m.link(op.principal, op.id, op.down)
	case modelUnlink:
		err = w.reg.Unlink(ctx, op.id, op.down)
		want = w.m.unlink(op.principal, op.id, op.down)
	case modelDeploy, modelUndeploy:
		if op.kind == modelDeploy {
			err = w.reg.Deploy(ctx, op.id, op.endpoint)
		} else {
			err = w.reg.Undeploy(ctx, op.id, op.endpoint)
		}
		want = w.m.deploy(op.principal, op.id, op.endpoint, op.kind == modelDeploy)
	case modelDelete:
		if op.fqn != "" {
			res, err = w.reg.DeleteByFQN(ctx, op.fqn, op.del)
		} else {
			res, err = w.reg.Delete(ctx, op.id, op.del)
		}
		hasResult = true
		want = w.m.delete(op, res.Operation)
	case modelRestore:
		ro := registry.RestoreOptions{ClientToken: op.token, Reason: op.reason}
		var a registry.Artifact
		if op.fqn != "" {
			a, err = w.reg.RestoreByFQN(ctx, op.fqn, ro)
		} else {
			a, err = w.reg.Restore(ctx, op.id, ro)
		}
		if err == nil {
			got = []registry.Artifact{a}
		}
		want = w.m.restore(op)
	case modelPurge:
		res, err = w.reg.Purge(ctx, op.age, op.purge)
		hasResult = true
		want = w.m.purge(op, res.Operation)
	case modelReset:
		err = w.reg.Reset(ctx)
		want = w.m.reset(op.principal)
	case modelClock:
		w.clock.Advance(op.advance)
		w.m.now = w.m.now.Add(op.advance)
	}
	code := registry.ErrorCode(err)
	if err != nil && code == "" {
		code = "untyped: " + err.Error()
	}
	if !assert.Equal(rec, want.code, code, "error code (err: %v)", err) {
		return rec.err()
	}
	w.count(op, code, res)
	if err == nil {
		if hasResult {
			w.compareResult(rec, want.res, res)
		} else {
			assert.Equal(rec, want.arts, got, "returned artifacts")
		}
		if e := rec.err(); e != nil {
			return e
		}
	}
	if e := w.compareState(rec); e != nil {
		return e
	}
	if e := w.reg.Check(); e != nil {
		return fmt.Errorf("Check: %w", e)
	}
	return nil
}

var modelKindNames = map[modelOpKind]string{modelRegister: "register", modelUpdate: "update", modelLink: "link",
	modelUnlink: "unlink", modelDeploy: "deploy", modelUndeploy: "undeploy", modelDelete: "delete",
	modelRestore: "restore", modelPurge: "purge", modelReset: "reset", modelClock: "clock"}

func (w *modelWorld) count(op modelOp, code string, res registry.Result) {
	k := modelKindNames[op.kind]
	if code == "" {
		code = "ok"
	}
	w.seen[k+" "+code]++
	if op.kind != modelDelete && op.kind != modelPurge || code != "ok" {
		return
	}
	for _, f := range res.Failed {
		w.seen[k+" item "+f.Code]++
	}
	for name, n := range map[string]int{"deleted>1": len(res.Deleted) - 1, "skipped": len(res.Skipped), "detached": len(res.Detached)} {
		if n > 0 {
			w.seen[k+" "+name]++
		}
	}
	if res.Replayed {
		w.seen[k+" replayed"]++
	}
}

func modelNilIfEmpty[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	return s
}

// compareResult compares a delete's result with the model's. Messages are
// the engine's words; the model checks only that each failure has one and
// that a skip says why.
func (w *modelWorld) compareResult(rec *modelRecorder, want, got registry.Result) {
	if !got.Replayed {
		if assert.NotEmpty(rec, got.Operation, "operation ID") {
			assert.False(rec, w.m.ops[got.Operation], "operation ID %s was returned before", got.Operation)
		}
		w.m.ops[got.Operation] = true
	}
	assert.Equal(rec, want.Operation, got.Operation, "operation")
	assert.Equal(rec, want.Hard, got.Hard, "Hard")
	assert.Equal(rec, want.DryRun, got.DryRun, "DryRun")
	assert.Equal(rec, want.Replayed, got.Replayed, "Replayed")
	assert.Equal(rec, modelNilIfEmpty(want.Deleted), modelNilIfEmpty(got.Deleted), "Deleted (in order)")
	var failed []registry.Failure
	for _, f := range got.Failed {
		assert.NotEmpty(rec, f.Message, "failure message of %s", f.ID)
		failed = append(failed, registry.Failure{ID: f.ID, Code: f.Code})
	}
	assert.Equal(rec, modelNilIfEmpty(want.Failed), failed, "Failed (in order, ID and code)")
	assert.Equal(rec, modelNilIfEmpty(want.Skipped), modelNilIfEmpty(got.Skipped), "Skipped")
	assert.Equal(rec, len(got.Skipped) > 0, got.SkipReason != "", "SkipReason is given exactly when something is skipped")
	assert.Equal(rec, modelNilIfEmpty(want.Detached), modelNilIfEmpty(got.Detached), "Detached")
}

// compareState compares everything the public API shows with the model.
func (w *modelWorld) compareState(rec *modelRecorder) error {
	ctx := context.Background()
	m := w.m
	all := m.sorted(func(*registry.Artifact) bool { return true })
	byKey := slices.Clone(all)
	slices.SortFunc(byKey, func(a, b *registry.Artifact) int { return strings.Compare(modelNameKey(a), modelNameKey(b)) })
	list := func(keep func(*registry.Artifact) bool) []registry.Artifact {
		out := []registry.Artifact{}
		for _, a := range byKey {
			if keep(a) {
				out = append(out, modelClone(a))
			}
		}
		return out
	}

	for _, ns := range modelNamespaces {
		page, err := w.reg.List(ctx, registry.Filter{Namespace: ns, Include: registry.IncludeAll, Limit: 1000})
		if assert.NoError(rec, err) {
			assert.Equal(rec, list(func(a *registry.Artifact) bool { return a.Namespace == ns }), page.Items, "List %s include=all", ns)
			assert.Empty(rec, page.Next)
		}
	}
	page, err := w.reg.List(ctx, registry.Filter{Include: registry.IncludeDeleted, Limit: 1000})
	if assert.NoError(rec, err) {
		assert.Equal(rec, list(func(a *registry.Artifact) bool { return a.Deleted }), page.Items, "List include=deleted")
	}
	// The live ones, three at a time.
	var live []registry.Artifact
	cursor := ""
	for i := 0; i < 100; i++ {
		page, err := w.reg.List(ctx, registry.Filter{Limit: 3, Cursor: cursor})
		if !assert.NoError(rec, err) {
			break
		}
		live = append(live, page.Items...)
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	assert.Equal(rec, modelNilIfEmpty(list(func(a *registry.Artifact) bool { return !a.Deleted })), live, "List pages, live only")
	if e := rec.err(); e != nil {
		return e
	}

	for _, id := range m.known {
		a := m.arts[id]
		got, err := w.reg.Get(ctx, id, registry.IncludeAll)
		if a == nil {
			assert.Equal(rec, registry.CodeNotFound, registry.ErrorCode(err), "Get %s (gone) include=all", modelShort(id))
			continue
		}
		if assert.NoError(rec, err, "Get %s include=all", modelShort(id)) {
			assert.Equal(rec, modelClone(a), got, "Get %s include=all", modelShort(id))
		}
		_, err = w.reg.Get(ctx, id)
		assert.Equal(rec, a.Deleted, registry.ErrorCode(err) == registry.CodeNotFound, "Get %s hides it exactly when it is soft deleted (err %v)", modelShort(id), err)
		got, err = w.reg.GetByFQN(ctx, modelFQN(a.Namespace, a.Name, a.Version), registry.IncludeAll)
		if assert.NoError(rec, err, "GetByFQN %s", a.FQN()) {
			assert.Equal(rec, a.ID, got.ID, "GetByFQN %s", a.FQN())
		}
		w.compareLineage(rec, a, registry.IncludeAll)
		if !a.Deleted {
			w.compareLineage(rec, a, registry.IncludeNonDeleted)
		}
		if e := rec.err(); e != nil {
			return e
		}
	}

	pending, err := w.reg.PendingCleanups(ctx)
	if assert.NoError(rec, err) {
		var uris, want []string
		for _, c := range pending {
			uris = append(uris, c.URI)
		}
		for u := range m.pending {
			want = append(want, u)
		}
		slices.Sort(want)
		assert.Equal(rec, want, uris, "pending cleanups, in URI order")
	}
	return rec.err()
}

// compareLineage compares Lineage(id, Both, 1): upstream neighbours in ID
// order, then downstream ones, each with its edge, under the include.
func (w *modelWorld) compareLineage(rec *modelRecorder, a *registry.Artifact, inc registry.Include) {
	got, err := w.reg.Lineage(context.Background(), a.ID, registry.Both, 1, inc)
	if !assert.NoError(rec, err, "Lineage %s include=%s", modelShort(a.ID), inc) {
		return
	}
	m := w.m
	want := registry.LineageGraph{Root: modelClone(a)}
	visible := func(id string) bool { return inc == registry.IncludeAll || !m.arts[id].Deleted }
	for _, u := range m.upstreams(a.ID) {
		if visible(u) {
			want.Nodes = append(want.Nodes, modelClone(m.arts[u]))
			want.Edges = append(want.Edges, m.edges[modelEdgeKey{u, a.ID}])
		}
	}
	for _, d := range m.downstreams(a.ID) {
		if visible(d) {
			want.Nodes = append(want.Nodes, modelClone(m.arts[d]))
			want.Edges = append(want.Edges, m.edges[modelEdgeKey{a.ID, d}])
		}
	}
	got.Nodes, got.Edges = modelNilIfEmpty(got.Nodes), modelNilIfEmpty(got.Edges)
	assert.Equal(rec, want, got, "Lineage %s both depth 1 include=%s", modelShort(a.ID), inc)
}

// modelRun replays ops on a fresh world and returns the index of the first
// step that fails and why, or -1.
func modelRun(cfg modelConfig, ops []modelOp) (int, error) {
	w, err := newModelWorld(cfg)
	if err != nil {
		return 0, err
	}
	for i, op := range ops {
		if err := w.step(op); err != nil {
			return i, err
		}
	}
	return -1, nil
}

// modelGenerate runs steps new operations from c on a fresh world and
// returns them, up to and including the first that fails.
func modelGenerate(cfg modelConfig, c modelChooser, steps int, more func() bool, seen map[string]int) ([]modelOp, error) {
	w, err := newModelWorld(cfg)
	if err != nil {
		return nil, err
	}
	if seen != nil {
		w.seen = seen
	}
	g := &modelGen{m: w.m, c: c}
	var ops []modelOp
	for i := 0; i < steps && (more == nil || more()); i++ {
		op := g.next()
		ops = append(ops, op)
		if err := w.step(op); err != nil {
			return ops, err
		}
	}
	return ops, nil
}

// modelShrink makes a failing sequence short and plain while it still
// fails: it removes operations, in ever smaller chunks down to single ones,
// then tries plainer variants of each operation (fewer options, no parent,
// no metadata), and repeats until nothing helps.
func modelShrink(cfg modelConfig, ops []modelOp, err error) ([]modelOp, error) {
	try := func(cand []modelOp) bool {
		at, e := modelRun(cfg, cand)
		if e == nil {
			return false
		}
		ops, err = cand[:at+1], e
		return true
	}
	for {
		changed := false
		for chunk := max(1, len(ops)/2); chunk >= 1; chunk /= 2 {
			for i := 0; i+chunk <= len(ops); {
				if try(append(slices.Clone(ops[:i]), ops[i+chunk:]...)) {
					changed = true
					continue
				}
				i += chunk
			}
		}
		for i := 0; i < len(ops); i++ {
			for _, v := range modelSimpler(ops[i]) {
				cand := slices.Clone(ops)
				cand[i] = v
				if try(cand) {
					changed = true
					break
				}
			}
		}
		if !changed {
			return ops, err
		}
	}
}

// modelSimpler lists plainer variants of op, one simplification each.
func modelSimpler(op modelOp) []modelOp {
	var out []modelOp
	vary := func(f func(o *modelOp) bool) {
		o := op
		o.arts = slices.Clone(op.arts)
		if f(&o) {
			out = append(out, o)
		}
	}
	vary(func(o *modelOp) bool { o.principal = "alice"; return op.principal != "alice" })
	switch op.kind {
	case modelRegister, modelUpdate:
		if len(op.arts) > 1 {
			for i := range op.arts {
				vary(func(o *modelOp) bool { o.arts = []registry.Artifact{op.arts[i]}; return true })
			}
		}
		for i, a := range op.arts {
			plain := registry.Artifact{ID: a.ID, Kind: a.Kind, Namespace: a.Namespace, Name: a.Name, Version: a.Version, Parent: a.Parent}
			vary(func(o *modelOp) bool { o.arts[i] = plain; return !modelSameMetadata(&plain, &a) })
			vary(func(o *modelOp) bool { o.arts[i].Parent = ""; return a.Parent != "" })
		}
	case modelDelete:
		for _, zero := range []func(d *registry.DeleteOptions){
			func(d *registry.DeleteOptions) { d.Hard = false },
			func(d *registry.DeleteOptions) { d.Recursive = false },
			func(d *registry.DeleteOptions) { d.Cascade = false },
			func(d *registry.DeleteOptions) { d.Atomic = false },
			func(d *registry.DeleteOptions) { d.DryRun = false },
			func(d *registry.DeleteOptions) { d.CascadeLimit = 0 },
			func(d *registry.DeleteOptions) { d.Lineage = registry.LineageRestrict },
			func(d *registry.DeleteOptions) { d.ClientToken = "" },
			func(d *registry.DeleteOptions) { d.Reason = "" },
		} {
			vary(func(o *modelOp) bool { zero(&o.del); return o.del != op.del })
		}
		vary(func(o *modelOp) bool { o.id = strings.ToLower(o.id); return o.id != op.id })
	case modelRestore:
		vary(func(o *modelOp) bool { o.token, o.reason = "", ""; return op.token != "" || op.reason != "" })
		vary(func(o *modelOp) bool { o.id = strings.ToLower(o.id); return o.id != op.id })
	case modelPurge:
		vary(func(o *modelOp) bool {
			o.purge = registry.PurgeOptions{}
			return op.purge != registry.PurgeOptions{}
		})
	}
	return out
}

// modelReport says how to replay a failing seed, the shrunk sequence and
// why its last step fails, and the first lines of the unshrunk failure
// (shrinking may slip from one disagreement to another).
func modelReport(seed uint64, cfg modelConfig, steps int, ops []modelOp, err, original error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d failed at step %d; replay with REGISTRY_MODEL_SEED=%d go test -run '^TestModelRandomized$' .\n", seed, steps, seed)
	fmt.Fprintf(&b, "config: %s\n", cfg)
	fmt.Fprintf(&b, "shrunk to %d operations:\n", len(ops))
	for i, op := range ops {
		fmt.Fprintf(&b, "  %2d. %s\n", i+1, op)
	}
	fmt.Fprintf(&b, "the last one fails:\n%v\n", err)
	lines := strings.Split(original.Error(), "\n")
	fmt.Fprintf(&b, "before shrinking, step %d failed with:\n%s", steps, strings.Join(lines[:min(len(lines), 12)], "\n"))
	return b.String()
}

func modelEnvInt(t *testing.T, name string) (uint64, bool) {
	s := os.Getenv(name)
	if s == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	require.NoError(t, err, "%s=%q is not a number", name, s)
	return n, true
}

// TestModelRandomized runs seeded random operation sequences against the
// registry and the reference model and fails, with a shrunk sequence and
// its seed, at the first disagreement or broken invariant.
func TestModelRandomized(t *testing.T) {
	total := uint64(48000)
	switch {
	case testing.Short():
		total = 3000
	case modelRaceEnabled: // every step is several times slower
		total = 6000
	}
	if n, ok := modelEnvInt(t, "REGISTRY_MODEL_STEPS"); ok {
		total = n
	}
	base, _ := modelEnvInt(t, "REGISTRY_MODEL_BASE")
	if base == 0 {
		base = 1
	}
	var seeds []uint64
	if s, ok := modelEnvInt(t, "REGISTRY_MODEL_SEED"); ok {
		seeds = []uint64{s}
	} else {
		for i := uint64(0); i < max(1, total/modelRunLength); i++ {
			seeds = append(seeds, base+i)
		}
	}
	steps, seen := 0, map[string]int{}
	for _, seed := range seeds {
		c := modelRand{rand.New(rand.NewPCG(seed, 0x6d6f64656c))}
		cfg := modelConfigFor(c)
		ops, err := modelGenerate(cfg, c, modelRunLength, nil, seen)
		steps += len(ops)
		if err != nil {
			shrunk, serr := modelShrink(cfg, ops, err)
			t.Fatal(modelReport(seed, cfg, len(ops), shrunk, serr, err))
		}
	}
	var kinds []string
	for k, n := range seen {
		kinds = append(kinds, fmt.Sprintf("%s: %d", k, n))
	}
	slices.Sort(kinds)
	t.Logf("%d seeds, %d steps, every one agreeing with the model; outcomes:\n%s", len(seeds), steps, strings.Join(kinds, "\n"))
}

package replicated

import (
	"context"
	"fmt"
	"time"

	"github.com/modelreg/registry"
)

// The write methods of Node: each is the registry method of the same name,
// made through the log. They validate what must be decided before the
// entry (the context, options that are not options), decide new IDs, time
// and operation, append, and return what the registry returned as it
// applied the entry: the same values and the same *registry.Error codes.

// Register is registry.Registry.Register through the log. A new artifact's
// ID is decided before the entry is appended.
func (n *Node) Register(ctx context.Context, a registry.Artifact) (registry.Artifact, error) {
	out, err := n.RegisterBatch(ctx, []registry.Artifact{a})
	if err != nil {
		return registry.Artifact{}, err
	}
	return out[0], nil
}

// RegisterBatch is registry.Registry.RegisterBatch through the log: one
// entry, all of the batch or none of it.
func (n *Node) RegisterBatch(ctx context.Context, batch []registry.Artifact) ([]registry.Artifact, error) {
	c := &command{Artifacts: make([]registry.Artifact, len(batch))}
	copy(c.Artifacts, batch)
	for i := range c.Artifacts {
		if c.Artifacts[i].ID == "" {
			c.Artifacts[i].ID = newID()
		}
	}
	v, err := n.apply(ctx, entryRegister, c)
	if err != nil {
		return nil, err
	}
	return v.([]registry.Artifact), nil
}

// Update is registry.Registry.Update through the log. Its options travel
// in the entry: UpdateOptions.IfRevision is checked as the entry is
// applied, against the revision every entry before it left.
func (n *Node) Update(ctx context.Context, a registry.Artifact, opts ...registry.UpdateOption) (registry.Artifact, error) {
	c := &command{Artifacts: []registry.Artifact{a}}
	for i, o := range opts {
		switch o := o.(type) {
		case registry.UpdateOptions:
			c.Update = append(c.Update, o)
		case *registry.UpdateOptions:
			if o == nil {
				return registry.Artifact{}, invalid("options", "update option %d is nil", i)
			}
			c.Update = append(c.Update, *o)
		default:
			return registry.Artifact{}, invalid("options", "update option %d is nil", i)
		}
	}
	v, err := n.apply(ctx, entryUpdate, c)
	if err != nil {
		return registry.Artifact{}, err
	}
	return v.(registry.Artifact), nil
}

// Link is registry.Registry.Link through the log.
func (n *Node) Link(ctx context.Context, upstream, downstream string) error {
	_, err := n.apply(ctx, entryLink, &command{Upstream: upstream, Downstream: downstream})
	return err
}

// Unlink is registry.Registry.Unlink through the log.
func (n *Node) Unlink(ctx context.Context, upstream, downstream string) error {
	_, err := n.apply(ctx, entryUnlink, &command{Upstream: upstream, Downstream: downstream})
	return err
}

// Deploy is registry.Registry.Deploy through the log.
func (n *Node) Deploy(ctx context.Context, id, endpoint string) error {
	_, err := n.apply(ctx, entryDeploy, &command{ID: id, Endpoint: endpoint})
	return err
}

// Undeploy is registry.Registry.Undeploy through the log.
func (n *Node) Undeploy(ctx context.Context, id, endpoint string) error {
	_, err := n.apply(ctx, entryUndeploy, &command{ID: id, Endpoint: endpoint})
	return err
}

// Delete is registry.Registry.Delete through the log. A dry run changes
// nothing and is not logged: it runs on the local state, as of the latest
// entry applied and at that entry's time.
func (n *Node) Delete(ctx context.Context, id string, opts ...registry.DeleteOption) (registry.Result, error) {
	return n.delete(ctx, entryDelete, &command{ID: id}, opts)
}

// DeleteByFQN is registry.Registry.DeleteByFQN through the log (a dry run
// as for Delete).
func (n *Node) DeleteByFQN(ctx context.Context, fqn string, opts ...registry.DeleteOption) (registry.Result, error) {
	return n.delete(ctx, entryDeleteByFQN, &command{FQN: fqn}, opts)
}

// DeleteAllVersions is registry.Registry.DeleteAllVersions through the log
// (a dry run as for Delete).
func (n *Node) DeleteAllVersions(ctx context.Context, namespace, name string, opts ...registry.DeleteOption) (registry.Result, error) {
	return n.delete(ctx, entryDeleteAllVersions, &command{Namespace: namespace, Name: name}, opts)
}

func (n *Node) delete(ctx context.Context, t entryType, c *command, opts []registry.DeleteOption) (registry.Result, error) {
	dryRun := false
	for i, o := range opts {
		var v registry.DeleteOptions
		switch o := o.(type) {
		case registry.DeleteOptions:
			v = o
		case *registry.DeleteOptions:
			if o == nil {
				return registry.Result{}, invalid("options", "delete option %d is nil", i)
			}
			v = *o
		default:
			return registry.Result{}, invalid("options", "delete option %d is nil", i)
		}
		dryRun = dryRun || v.DryRun
		c.Delete = append(c.Delete, v)
	}
	if ctx == nil {
		return registry.Result{}, invalid("ctx", "context is nil; pass context.Background() or a request context")
	}
	dry := make([]registry.DeleteOption, 0, len(c.Delete)+1)
	for _, o := range c.Delete {
		dry = append(dry, o)
	}
	if dryRun {
		return n.dryDelete(ctx, t, c, dry)
	}
	if n.cfg.Authorizer != nil {
		// Authorization decided before the entry: a delete the principal
		// may not make, as a dry run on the local state finds, is refused
		// without being logged. (The state machine asks again as it
		// applies, so a delete that got through on stale state is refused
		// there, on every replica alike.)
		if _, err := n.dryDelete(ctx, t, c, append(dry, registry.DeleteOptions{DryRun: true})); registry.ErrorCode(err) == registry.CodeForbidden {
			return registry.Result{}, err
		}
	}
	v, err := n.apply(ctx, t, c)
	if err != nil {
		if v == nil {
			return registry.Result{}, err
		}
		return v.(registry.Result), err
	}
	return v.(registry.Result), nil
}

// localDecision is the decision of a call made on the local state only (a
// dry run): at the last applied time, not the clock's, since the registry
// never records a time before one it has seen, and a later time here would
// move this replica's records ahead of the others'.
func (n *Node) localDecision(ctx context.Context) context.Context {
	at := n.fsm.lastTime()
	if at.IsZero() {
		at = time.Unix(0, 0).UTC()
	}
	return registry.WithDecision(ctx, registry.Decision{Time: at, Operation: newID()})
}

// dryDelete runs the delete c describes on the local state, with opts.
func (n *Node) dryDelete(ctx context.Context, t entryType, c *command, opts []registry.DeleteOption) (registry.Result, error) {
	ctx = n.localDecision(ctx)
	reg := n.Registry()
	switch t {
	case entryDeleteByFQN:
		return reg.DeleteByFQN(ctx, c.FQN, opts...)
	case entryDeleteAllVersions:
		return reg.DeleteAllVersions(ctx, c.Namespace, c.Name, opts...)
	}
	return reg.Delete(ctx, c.ID, opts...)
}

// Restore is registry.Registry.Restore through the log.
func (n *Node) Restore(ctx context.Context, id string, opts ...registry.RestoreOption) (registry.Artifact, error) {
	return n.restore(ctx, entryRestore, &command{ID: id}, opts)
}

// RestoreByFQN is registry.Registry.RestoreByFQN through the log.
func (n *Node) RestoreByFQN(ctx context.Context, fqn string, opts ...registry.RestoreOption) (registry.Artifact, error) {
	return n.restore(ctx, entryRestoreByFQN, &command{FQN: fqn}, opts)
}

// RestoreOperation is registry.Registry.RestoreOperation through the log:
// one entry, everything the operation soft deleted or nothing.
func (n *Node) RestoreOperation(ctx context.Context, operation string, opts ...registry.RestoreOption) ([]registry.Artifact, error) {
	c := &command{Target: operation}
	if err := c.restoreOptions(opts); err != nil {
		return nil, err
	}
	v, err := n.apply(ctx, entryRestoreOperation, c)
	if err != nil {
		return nil, err
	}
	return v.([]registry.Artifact), nil
}

func (n *Node) restore(ctx context.Context, t entryType, c *command, opts []registry.RestoreOption) (registry.Artifact, error) {
	if err := c.restoreOptions(opts); err != nil {
		return registry.Artifact{}, err
	}
	v, err := n.apply(ctx, t, c)
	if err != nil {
		return registry.Artifact{}, err
	}
	return v.(registry.Artifact), nil
}

// restoreOptions puts a restore's options in the entry.
func (c *command) restoreOptions(opts []registry.RestoreOption) error {
	for i, o := range opts {
		switch o := o.(type) {
		case registry.RestoreOptions:
			c.Restore = append(c.Restore, o)
		case *registry.RestoreOptions:
			if o == nil {
				return invalid("options", "restore option %d is nil", i)
			}
			c.Restore = append(c.Restore, *o)
		default:
			return invalid("options", "restore option %d is nil", i)
		}
	}
	return nil
}

// Purge is registry.Registry.Purge through the log: the age is measured
// from the time decided for the entry.
func (n *Node) Purge(ctx context.Context, olderThan time.Duration, opts ...registry.PurgeOption) (registry.Result, error) {
	c := &command{OlderThan: olderThan}
	for i, o := range opts {
		switch o := o.(type) {
		case registry.PurgeOptions:
			c.Purge = append(c.Purge, o)
		case *registry.PurgeOptions:
			if o == nil {
				return registry.Result{}, invalid("options", "purge option %d is nil", i)
			}
			c.Purge = append(c.Purge, *o)
		default:
			return registry.Result{}, invalid("options", "purge option %d is nil", i)
		}
	}
	v, err := n.apply(ctx, entryPurge, c)
	if err != nil {
		if r, ok := v.(registry.Result); ok {
			return r, err
		}
		return registry.Result{}, err
	}
	return v.(registry.Result), nil
}

// Reset is registry.Registry.Reset through the log. With an Authorizer,
// a principal refused ActionReset is refused before anything is logged.
func (n *Node) Reset(ctx context.Context) error {
	if ctx != nil {
		if err := n.authorizeAction(ctx, registry.ActionReset); err != nil {
			return err
		}
	}
	_, err := n.apply(ctx, entryReset, &command{})
	return err
}

// authorizeAction asks the authorizer for an action on no artifact in
// particular (reset, admin), answering as the registry does.
func (n *Node) authorizeAction(ctx context.Context, action registry.Action) error {
	a := n.cfg.Authorizer
	if a == nil {
		return nil
	}
	principal := registry.PrincipalFrom(ctx)
	if why := ask(ctx, a, principal, action); why != nil {
		return &registry.Error{Code: registry.CodeForbidden,
			Message: fmt.Sprintf("%s may not %s: %v", principal, action, why)}
	}
	return nil
}

// RetryCleanups is registry.Registry.RetryCleanups for a node: the leader
// hands every pending URI to the cleaner (failed ones again, reclaim
// warnings not while referenced) and logs the outcomes. Without a Cleaner it
// is ErrInvalid; with an Authorizer the principal needs ActionAdmin.
func (n *Node) RetryCleanups(ctx context.Context) (registry.CleanupReport, error) {
	if n.cfg.Cleaner == nil {
		return registry.CleanupReport{}, invalid("cleaner", "no cleaner is configured; set Config.Cleaner")
	}
	if ctx == nil {
		return registry.CleanupReport{}, invalid("ctx", "context is nil; pass context.Background() or a request context")
	}
	if err := n.authorizeAction(ctx, registry.ActionAdmin); err != nil {
		return registry.CleanupReport{}, err
	}
	return n.cleanRound(ctx, true)
}

func ask(ctx context.Context, a registry.Authorizer, principal string, action registry.Action) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("authorizer panicked: %v", p)
		}
	}()
	return a.Authorize(ctx, principal, action, registry.Artifact{})
}

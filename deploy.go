package registry

import (
	"context"
	"slices"
)

// Deploy records that the artifact serves on the named endpoint. A deployed
// artifact cannot be deleted (ErrDeployed, ModelArts' ModelArts.3009 and
// Lookout for Vision's ConflictException) until it is undeployed from every
// endpoint. Deploying to an endpoint it is already on changes nothing. An
// endpoint name is an identifier (see the input limits: no control or
// format characters, NFC).
func (r *Registry) Deploy(ctx context.Context, id, endpoint string) error {
	return r.deployment(ctx, id, endpoint, true)
}

// Undeploy removes the artifact from the endpoint; an endpoint it is not
// deployed to is ErrNotFound.
func (r *Registry) Undeploy(ctx context.Context, id, endpoint string) error {
	return r.deployment(ctx, id, endpoint, false)
}

func (r *Registry) deployment(ctx context.Context, id, endpoint string, deploy bool) error {
	cid, err := checkID("id", id)
	if err != nil {
		return err
	}
	if err := checkEndpoint(endpoint); err != nil {
		return err
	}
	_, err = r.write(ctx, "", func(w *writeTxn) error {
		old := row(w.Txn, cid)
		if w.hidden(old) {
			old = nil
		}
		if old == nil || old.isDeleted() {
			return notFound(cid, old, IncludeNonDeleted)
		}
		on := slices.Contains(old.endpoints(), endpoint)
		switch {
		case deploy && on:
			return nil
		case deploy && len(old.endpoints()) >= MaxListEntries:
			return invalid("endpoint", "artifact %s is deployed to %d endpoints already, the most allowed", cid, MaxListEntries)
		case !deploy && !on:
			return newError(CodeNotFound, cid, "artifact %s (%s) is not deployed to endpoint %q", cid, old.FQN(), endpoint)
		}
		if err := w.authorize(ActionDeploy, old); err != nil {
			return err
		}
		c := w.touch(old)
		t := EventDeployed
		var endpoints []string
		if deploy {
			endpoints = append(slices.Clone(old.endpoints()), endpoint)
		} else {
			endpoints = slices.DeleteFunc(slices.Clone(old.endpoints()), func(e string) bool { return e == endpoint })
			t = EventUndeployed
		}
		c.setExtra(endpoints, old.deletedUpstreams())
		if err := w.replace(old, c); err != nil {
			return err
		}
		w.events = append(w.events, change{kind: t, new: c, endpoint: endpoint})
		return nil
	})
	return err
}

// Package openmetadata serves OpenMetadata's ML model and ML model service
// APIs over a *registry.Registry, so that OpenMetadata's clients (the REST
// API as its documents show it, the Python and Java SDKs pointed at
// http://host/api) work against it unchanged. New returns the handler; it
// serves every path under /api/v1/mlmodels and
// /api/v1/services/mlmodelServices and can be mounted alone or through
// httpapi.NewHandler.
//
// # Endpoints
//
// ML models, /api/v1/mlmodels:
//
//	POST   /                          create (CreateMlModel) → 201 + Location
//	PUT    /                          upsert → 201 entityCreated, 200 entityUpdated / entityNoChange
//	GET    /?service=&include=&limit=&before=&after=&fields=   list → {"data":[…],"paging":{…,"total"}}
//	GET    /{id}, /name/{fqn}         get (include, fields)
//	DELETE /{id}, /name/{fqn}         delete (hardDelete, recursive)
//	PUT    /restore                   restore {"id"} → 200 entityRestored
//	GET    /{id}/versions             {"entityType":"mlmodel","versions":["<entity JSON>",…]}, newest first
//	GET    /{id}/versions/{version}   the entity at that version
//
// ML model services, /api/v1/services/mlmodelServices: POST / (201), PUT /
// (upsert, as for models), GET / (list), GET /{id}, GET /name/{name},
// DELETE /{id} and /name/{name} (hardDelete, recursive), PUT /restore.
//
// Every request needs Authorization: Bearer <token>; Options.Authenticate
// maps the token to a principal, and the registry's Authorizer decides each
// action (a principal scoped to the namespace mlflow_svc acts on that
// service and its models only). Errors are OpenMetadata's
// {"code":<status>,"message":"…"}; 401, 403, 404 and 409 carry
// WWW-Authenticate: om-auth. A missing or unknown token is 401, a refused
// action 403, an unknown entity 404 "mlmodel instance for <id or fqn> not
// found", a taken name 409 "Entity already exists", a delete of a
// service or model with live children without recursive 400
// "mlmodelService is not empty" / "mlmodel is not empty", every other
// registry conflict (deployed, has dependents, not deleted, parent deleted)
// 409 with the registry's message, and bad input a 400 (413 for a body over
// Options.MaxBodyBytes). Wrong paths are 404 and wrong methods 405, in the
// same shape.
//
// # Mapping onto the registry
//
// Nothing is kept outside the registry:
//
//   - An ML model service named S is the artifact {Kind: model, Namespace: S,
//     Name: "::service"}; OpenMetadata names cannot contain "::", so no model
//     collides with it. Its serviceType is the label om.serviceType.
//   - An ML model named M of service S is {Kind: model, Namespace: S, Name: M,
//     Version: "", Parent: <the service's ID>}. Its FQN, S.M, is the
//     registry's BuildFQN (a part holding '.' is quoted). A model-kind
//     artifact that is not directly inside its namespace's service (another
//     dialect's, or a sub-model registered through the library) is not an
//     ML model here: it is not found, not listed, but its children make a
//     model "not empty".
//   - displayName, description, algorithm map onto the artifact's fields;
//     tags onto Tags (their tagFQN), owners onto Owners (their name, or
//     type:id), mlStore.storage onto StorageURIs (so a hard delete hands it
//     to the registry's cleaner). What has no field (mlFeatures,
//     mlHyperParameters, target, server, sourceUrl, dashboard, domains,
//     dataProducts, extension, lifeCycle, sourceHash, a service's
//     connection, non-default tag labels and owner references) is kept as
//     JSON in labels om.doc.00, om.doc.01, … (1,000 characters each, within
//     the registry's 64 labels). Labels not starting with "om." are the
//     library's and survive a PUT.
//   - version is the registry's Revision as EntityVersion (0.1, 0.2, …, 1.0);
//     updatedAt its UpdatedAt in epoch milliseconds; updatedBy its
//     UpdatedBy, the principal.
//   - A service delete is the registry's delete of the service's
//     containment subtree (Recursive), soft or hard, atomic; so is a model
//     delete. Restore is the registry's Restore, which brings back what the
//     same delete took.
//   - Lists are the registry's List in (namespace, name) order with the
//     Parent filter, its Before/Prev for backward pages and Count for
//     paging.total; limit above the registry's page bound of 1,000 is read
//     in several pages. Cursors are URL-safe Base64 of the boundary item's
//     FQN, as OpenMetadata's are.
//
// # Where this dialect differs
//
// From seed 000 and OpenMetadata:
//
//   - A hard delete of an ML model answers 204 with no body (seed 000 wins
//     over OpenMetadata's 200 + entity, DIALECTS §0 #1), with
//     X-OpenMetadata-Change: entityDeleted. A hard delete of a service
//     answers 200 with the entity as read before removal (the seed speaks
//     of models only; DIALECTS §1.4).
//   - DELETE /{id} honours recursive (seed 000 documents it; OpenMetadata's
//     route declares only hardDelete, DIALECTS §0 #2).
//   - Error bodies carry no error name (DIALECTS §0 #3, OpenMetadata's
//     shape), not the seed's UNAUTHORIZED/FORBIDDEN/NOT_FOUND.
//   - A second soft delete answers 200 with the entity unchanged
//     (OpenMetadata finds the target with include=all, DIALECTS §0 #7), not
//     the registry's 404, and bumps no version.
//   - A delete refused by the registry's rules OpenMetadata does not have
//     (deployed, live lineage dependents under the Restrict policy) is 409
//     with the registry's message; OpenMetadata would delete.
//   - Restore of a live entity is 409 (the registry's NOT_DELETED);
//     OpenMetadata has no contract for it. Restore brings back only what the
//     same delete took (the registry's rule); OpenMetadata restores every
//     child.
//   - PUT of a soft-deleted FQN restores it and then updates it, two registry
//     calls: the version grows by 0.2 when the request also changes fields.
//   - The version history is what the registry can tell without keeping
//     copies: the current version, and before it each version that differs
//     from the next only by a soft delete, a restore, a deploy or an
//     undeploy (deleted, updatedAt, updatedBy), read from the registry's
//     audit log (Events), back to the last change of metadata or the
//     oldest event the bounded log still holds. OpenMetadata keeps every
//     version; an older version here is 404 "mlmodel instance for <id> and
//     version <v> not found". Reading it costs time linear in the audit log.
//   - fields is validated (an unknown field is 400 "Invalid field name
//     <x>") but every field is always returned; owners, tags and domains
//     are [] when empty. includeRelations is ignored.
//   - Boolean parameters accept true or false only (any case): anything
//     else is 400 where Jersey reads it as false. A malformed limit or
//     include is 400 where Jersey answers 404. A malformed UUID in a path is
//     404, as Jersey answers.
//   - A list without service walks every service (time linear in the
//     registry, as OpenMetadata's COUNT is); a list of an unknown service is
//     empty.
//   - PATCH, async deletes, followers, votes, usage and a service's versions
//     are not served (404 or 405).
package openmetadata

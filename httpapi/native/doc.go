// Package native serves the whole registry over HTTP under /v1: every
// library call, with what a modern JSON API is expected to have. The
// OpenAPI 3.1 document openapi.yaml, embedded and served at
// GET /v1/openapi.yaml and /v1/openapi.json, is the contract; this comment
// says how the server keeps it.
//
//	POST   /v1/artifacts                         register one → 201, Location, ETag
//	POST   /v1/artifacts/batch                   register several, all or none → 201
//	GET    /v1/artifacts?namespace&name&kind&parent&include&limit&cursor&before
//	GET    /v1/artifacts/{id}?include            → ETag
//	PUT    /v1/artifacts/{id}                    update metadata; If-Match
//	DELETE /v1/artifacts/{id}?hard&recursive&cascade&cascadeLimit&lineage&atomic&dryRun&reason
//	POST   /v1/artifacts/{id}/restore?reason
//	GET    /v1/artifacts/{id}/lineage?direction&depth&include
//	PUT    /v1/artifacts/{id}/deployments/{endpoint}    deploy
//	DELETE /v1/artifacts/{id}/deployments/{endpoint}    undeploy
//	GET    /v1/fqn/{fqn}, DELETE /v1/fqn/{fqn}, POST /v1/fqn/{fqn}/restore
//	GET    /v1/namespaces/{ns}/names/{name}                    the unversioned artifact
//	GET    /v1/namespaces/{ns}/names/{name}/versions           list the versions
//	DELETE /v1/namespaces/{ns}/names/{name}/versions           delete every version
//	GET    /v1/namespaces/{ns}/names/{name}/versions/{version}
//	POST   /v1/lineage {upstream, downstream}; DELETE /v1/lineage/{upstream}/{downstream}
//	POST   /v1/operations/{operation}/restore    undo one delete call
//	POST   /v1/purge {olderThan, lineage, dryRun, reason}
//	GET    /v1/cleanups; POST /v1/cleanups/retry
//	GET    /v1/check; POST /v1/reset
//	GET    /v1/events                            Server-Sent Events
//
// # Routing beside ModelArts
//
// The ModelArts dialect serves /v1/{project_id}/models… and
// /v1/{project_id}/services…, which net/http's ServeMux cannot register
// beside /v1/artifacts/{id} (neither pattern is more specific than the
// other: it panics). So this package is mounted on the one pattern "/v1/"
// (Patterns), which every ModelArts pattern is more specific than, and
// routes inside with a ServeMux of its own. A request whose third segment
// is models or services goes to ModelArts; no native path can be one:
// artifact IDs are UUIDs, an FQN has at least two parts, and the fixed
// second segments (artifacts, fqn, namespaces, lineage, …) are followed by
// IDs, FQNs or five and more segments.
//
// # Conventions
//
//   - Authentication: Authorization: Bearer <token>, mapped to a principal
//     by Options.Authenticate; missing or unknown is 401 with
//     WWW-Authenticate. Every call then goes through the registry's
//     Authorizer (403 when it refuses). GET /v1/check needs
//     Options.Admin.
//   - Errors are RFC 9457 problem details (application/problem+json) with
//     the registry's code: type is https://modelreg.dev/problems/ and the
//     code in lower case with '-' for '_'. A failed atomic or single-target
//     delete carries its Result as the extension member result.
//   - ETag is the artifact's revision, quoted, strong, on every response
//     that carries one artifact. If-Match on PUT and DELETE of an artifact
//     passes the revision to the registry (DeleteOptions.IfRevision,
//     UpdateOptions.IfRevision), which checks it in the same transaction:
//     a stale one is 412 and changes nothing. "*" matches any existing
//     artifact; a weak tag never matches (If-Match compares strongly); a
//     list of tags is 400 (the registry checks one revision).
//   - Idempotency-Key is the registry's client token on deletes and
//     restores.
//   - Query parameters are strict: an unknown one, a repeated one, or a
//     boolean other than true, false, 1 or 0 is 400. Bodies are strict
//     JSON (unknown fields and field names in another case are 400), must
//     be sent as application/json (415 otherwise) and are bounded
//     (Options.MaxBodyBytes, 413).
//   - Lists are paged by cursor; the page's next and prev are links to the
//     neighbouring pages, also sent as a Link header.
//
// # Events
//
// GET /v1/events subscribes first, then replays the audit log after the
// position of Last-Event-ID (or ?after=), then relays live events,
// skipping those the replay sent. Each is id: seq, event: type, data: the
// registry's Event. A position the audit log no longer holds gets an
// `event: dropped` first, saying how many were lost and the oldest held; a
// position past the newest event (a registry of another process) gets
// one with restarted true, and the stream starts from the oldest. A
// subscriber that falls behind catches up from the audit log, and gets
// `event: missed` only for what the log no longer holds. Events the
// principal may not read are left out (Registry.Visible). A comment
// heartbeat goes every Options.Heartbeat (15 s). The stream clears the
// server's write deadline, and ends when the client goes.
//
// # Metrics
//
// With Options.Metrics, the handler counts deletes by mode (soft, hard)
// and outcome (deleted, partial, failed, dry-run, replayed) as
// registry_deletes_total, and the events the streams' subscriptions lost
// as registry_events_dropped_total. Deletes made through the other
// dialects are not counted there.
package native

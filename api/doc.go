// Package api is what the server and the adapters under it share: the
// routes an adapter hands the server (with the roles each one needs), the
// error an adapter renders in its own wire shape, and the few helpers every
// adapter needs for request bodies and JSON replies.
//
// # Adding an API
//
// An adapter package (api/servicenow is the model) exports the roles its
// routes accept and a constructor returning a Group:
//
//	var Roles = []string{"itil", "asset"}
//	func Routes(e *engine.Engine) api.Group
//
// and cmd/irego lists it once in its adapter table. The server mounts every
// route, authenticates callers (HTTP Basic against package auth, or an API
// token when the group's Auth is AuthToken), checks the route's roles,
// bounds the request body and logs the request, and runs the group's Run
// (background work such as scheduled imports) while it serves; the handler
// only decodes, calls the engine, encodes and maps errors. Anything two
// adapters would both need beyond this belongs in package engine. Tests
// run the adapter inside the whole server with internal/servertest.
//
// # Concurrency
//
// Groups and routes are built once at start-up and read-only afterwards.
// The helpers are safe for concurrent use.
package api

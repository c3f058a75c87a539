// Package server is irego's bundled HTTP server: one consumer of the engine
// among others. It mounts the routes of the adapters it is given (package
// api describes the contract), and does for all of them what none should do
// itself: authentication against package auth (HTTP Basic, or License Metric
// Tool's API token for groups whose Auth is api.AuthToken), the role check
// each route declares (401 without valid credentials, 403 without a
// suitable role, 429 while failed sign-ins are throttled), bounds on
// request bodies (413), connections, request bytes in flight and time
// (Limits, limits.go), a request id per request (X-Request-ID, taken from
// the client when sane; requestid.go) named by every record logged with the
// request's context, one structured access log record per request
// (log/slog) with the error replied, GET /healthz, and a graceful shutdown
// that lets requests in flight finish.
//
// Its own endpoints administer users while the server runs (the running
// server holds the store's lock, so the command line cannot):
//
//	GET    /api/irego/users          list
//	POST   /api/irego/users          {"name", "password", "roles"}: create
//	GET    /api/irego/users/{name}
//	PUT    /api/irego/users/{name}   {"password"} and/or {"roles"}: change
//	DELETE /api/irego/users/{name}
//
// all for the admin role only, GET /api/irego/backup (admin) and the reads
// of the command line's --server mode (ci.go).
//
// # Basics
//
//	srv, err := server.New(server.Config{Engine: e, Users: auth.New(e.Store()),
//		Groups: []api.Group{servicenow.Routes(e)}})
//	err = srv.Serve(ctx, ln) // until ctx ends; then close the engine
//
// A Server is safe for concurrent use; it neither opens nor closes the
// engine.
package server

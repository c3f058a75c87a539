// Package ui is irego's web console: server-rendered pages, served by
// irego serve under /ui/, to look at the graph. People sign in with the
// server's users; the console searches CIs, shows one CI with the source
// of each value, its relations, history and the last report that reached
// it, draws its neighbourhood, lists the queues (partial payloads,
// incomplete items, stale records, de-duplication tasks) and the license
// usage of the last import.
//
// Everything the console serves is embedded in the binary (templates,
// style sheet, one small script for the graph), so it works offline and
// needs no build step. Pages are rendered with html/template, which
// escapes every value.
//
// # Sessions
//
// Signing in creates a session kept in memory (a restart signs everybody
// out): a random id in an HttpOnly, SameSite=Strict cookie, Secure when the
// request came over TLS, on the connection or through a proxy listed in
// Config.TrustedProxies (X-Forwarded-Proto: https). A session ends on sign-out, after an idle period
// and after an absolute lifetime. Every form carries the session's CSRF
// token, and the sign-in form a token of its own (double-submit cookie);
// a POST without the right token is refused. The user is read again on
// every request, so a removed user or role takes effect at once. Users
// with the admin role see and may use the write actions (merging or
// dismissing de-duplication tasks); everybody else reads.
//
// # Concurrency
//
// A Console is safe for concurrent use. What it shows of the last report
// of a CI (the identification attempts, the values lower sources could
// not set) the engine keeps in the store.
package ui

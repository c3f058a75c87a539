// Package servertest runs irego's whole server for tests, over real HTTP:
// Badger on disk in a temporary directory, the engine, users with known
// passwords, the server and the adapters under test (as httptest does for
// a single handler). Everything is closed when the test ends.
package servertest

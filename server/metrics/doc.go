// Package metrics is irego's Prometheus instrumentation: HTTP requests by
// route, the engine's outcomes (through engine.Observer), the store's size
// and syncs, and the Go runtime and process. The library packages never
// import Prometheus; this package wires their hooks to it.
package metrics

// Package bench is irego's load tool: it generates realistic BYOL payloads
// and drives them through the engine in process or through a running
// server over HTTP, measuring throughput, latency and allocations, next to
// a bare Badger baseline doing the same reads and writes.
package bench

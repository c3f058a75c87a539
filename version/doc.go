// Package version tells which build of irego is running, from the build
// information the Go toolchain embeds in every binary.
package version

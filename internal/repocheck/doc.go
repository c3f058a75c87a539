// Package repocheck holds tests of the repository itself: the house rules
// DESIGN.md states that a compiler does not check (a doc.go in every
// package, a doc comment on every exported identifier). It has no code.
package repocheck

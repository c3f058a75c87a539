// Command irego is the identification and reconciliation engine's command
// line: apply payloads, read CIs back, check rule files and stores, serve
// the REST APIs and manage their users.
//
// Every command prints its own help with `irego help CMD` or `irego CMD -h`;
// this package only parses flags and wires the library's packages together.
package main

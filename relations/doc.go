// Package relations reads and writes the relationship graph between CIs.
//
// A relation type is named "<parent descriptor>::<child descriptor>", as in
// ServiceNow's cmdb_rel_type: for "Hosted on::Hosts" the parent is the hosted
// side (a datacenter Hosted on its cloud account), for "Runs on::Runs" the
// running side (a VM Runs on its cloud host), for "Virtualized by::Virtualizes"
// the computer (virtualized by its VM instance), for "Contains::Contained by"
// the container. Every edge is stored twice (out of the parent, into the
// child) in the same transaction, so it can be read from either end.
//
// Functions take a store.Reader or store.Txn owned by the caller; nothing
// here holds state, so everything is safe for concurrent use.
package relations

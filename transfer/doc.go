// Package transfer moves a CMDB into and out of an irego store.
//
// Export writes what a store holds in the shapes other tools read:
// ServiceNow Table API pages per table (re-importable by Import), IRE
// payloads that replay the graph into another engine, CSV per class,
// GraphML for graph tools and JSON lines for data pipelines. Import reads a
// ServiceNow Table API export (a directory of pages or a live instance,
// package tableapi) and loads it through engine.Loader, keeping every
// sys_id, class, attribute, relation and native key.
//
// Both stream: an export reads the store one record at a time from one
// consistent view and writes as it goes; an import reads one record at a
// time and commits in batches, so neither holds the CMDB in memory. An
// Engine may serve other callers during an export; an import should have
// the store to itself (its loader writes without identification).
package transfer

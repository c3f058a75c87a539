// Package license computes software license usage from the CI graph and
// keeps what License Metric Tool keeps beside it: daily usage snapshots,
// 90-day peaks, computer groups, a metric catalogue and license contracts.
// It is a library over the engine; package api/ilmt serves it over HTTP.
//
// # Imports
//
// An import walks the graph as the engine stores it: every software
// install (cmdb_sam_sw_install, related to its computer by installed_on),
// the computer, the VM instance the computer is Virtualized by, and the
// cloud host that VM Runs on. For each install the rule set's metric rules
// (rules.MetricRules) give the quantity of every metric it uses. The
// import stores one snapshot per day per (computer system, software title,
// metric), and the peaks: for each of those, the largest value of the last
// 90 days with the day and time it was first reached. For All Computers it
// also stores a summary per (title, metric), the window's high-water mark,
// and the peaks keyed by title and metric, so Compliance and PeaksOf read
// rows in proportion to what they return, not the usage whole.
//
// An import holds, while it runs, the values of each computer system (and
// of its VM instance), one entry per title and one row per usage: it reads
// installs a page at a time, a host shared by many VMs once, and each day
// of the window as it counts it, so its memory grows with the computers
// and their usage, not with the rest of the graph (README: Imports).
//
// The reads of usage (Peaks, ServerUsage, ProductUsage, Compliance) read
// the stored rows one at a time and look computer systems up one at a
// time; a day's totals are added up a computer system at a time, keeping
// only the cloud hosts' totals to the end of the day.
//
// An import reads from store snapshots and writes only its own keys, so it
// never blocks ingestion. It writes under a number of its own and makes its
// results current in one last transaction: until then, and for ever if it
// fails, readers see the previous import's results.
//
//	m := license.New(e, license.Options{})
//	st, err := m.Import(ctx)                  // now, in this goroutine
//	started := m.Start(m.Context())           // in the background
//	m.Schedule(ctx, log)                      // every settings.ImportInterval
//	peaks, st, err := m.Peaks(ctx)            // per computer system, title, metric
//	top, n, st, err := m.PeaksOf(ctx, title, "PVU_FULL_CAP", 200) // the largest of one title's
//	usage, err := m.ProductUsage(ctx, license.AllComputers, "2026-01-01", "2026-03-31")
//
// Contracts (ImportContracts, all or nothing, faults with License Metric
// Tool's message codes) and Compliance set entitlements beside the peaks.
//
// Computer systems and software titles get small numeric ids, kept across
// imports, as License Metric Tool's APIs show them.
//
// # Viewers
//
// Reads that depend on who asks take a Viewer. Admins see every computer
// group; other users see the groups granted to them (Group.Users) and the
// groups below those.
//
// # Concurrency
//
// A Manager is safe for concurrent use; one import runs at a time. Values
// returned are fresh copies the caller owns.
package license

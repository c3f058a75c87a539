// Package backend opens the store a spec names, so that commands and
// embedding programs can let their users choose one:
//
//	data                                   Badger in the directory data
//	badger:data                            the same, spelled out
//	postgres://user:pass@host:5432/irego   PostgreSQL, CockroachDB or YugabyteDB
//	postgresql://…                         the same
//
// Connection strings take pgx's parameters too, e.g. pool_max_conns=32 or
// sslmode=verify-full. The caller owns the store OpenURL returns and
// closes it (engine.Open with Options.Store does so on Engine.Close).
// This package lives apart from package store, which the backends import.
package backend

// Package auth keeps irego's user accounts: names, bcrypt-hashed passwords
// and roles, stored in the engine's store under store.UserKey (one JSON
// record per user), so they live and are backed up with the CIs.
//
// # Basics
//
//	users := auth.New(e.Store())
//	err := users.Add(auth.NewUser{Name: "sam", Password: pw, Roles: []string{"sam_admin"}})
//	u, err := users.Verify("sam", pw)          // ErrBadCredentials when wrong
//	ok := u.HasAnyRole([]string{"sam_admin", "sam_developer"})
//
// The role Admin passes every role check. Which other roles exist is up to
// the APIs the server carries; this package only stores them.
//
// # Cost
//
// A bcrypt check takes tens of milliseconds by design, too slow to pay on
// every request of a busy integration. Verify therefore remembers, per
// user, a keyed digest of the last password that passed together with the
// stored hash it passed against: a request that repeats it costs one store
// read and one HMAC. Changing the password (or anything else of the user)
// changes the stored record, and the remembered pass no longer counts
// when the hash it was made against is replaced. Requests that bring the
// same credentials while their check runs (clients that start together)
// wait for that one check instead of each making their own.
//
// # Concurrency
//
// Users is safe for concurrent use. Values returned are copies the caller
// owns; password hashes never leave the package.
package auth

// Package pgtest gives tests a real PostgreSQL server: the one named by
// $IREGO_TEST_POSTGRES, or else a throwaway cluster it creates with the
// PostgreSQL binaries installed on the machine (initdb and postgres, found
// on PATH or where Debian puts them), listening on a loopback port and
// removed when the tests end. Each test gets a schema of its own.
//
// A package using it runs its tests through Main, which stops the server:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// When no server can be had, DSN skips the test and says why, unless
// $IREGO_TEST_POSTGRES_REQUIRED is set (CI sets it once it has installed
// PostgreSQL), in which case the test fails. DSN is safe to call from
// parallel tests.
package pgtest

package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Environment variables.
const (
	// EnvDSN names a server to use instead of starting one: a postgres://
	// URL or a key=value connection string. Tests create and drop schemas
	// in its database.
	EnvDSN = "IREGO_TEST_POSTGRES"
	// EnvRequired, when not empty, turns "no server" from a skip into a
	// failure.
	EnvRequired = "IREGO_TEST_POSTGRES_REQUIRED"
)

var (
	once     sync.Once
	baseDSN  string
	startErr error
	running  *cluster
)

// server returns the DSN of the server, finding or starting it once.
func server() (string, error) {
	once.Do(func() {
		if d := os.Getenv(EnvDSN); d != "" {
			baseDSN = d
			return
		}
		running, startErr = start()
		if startErr == nil {
			baseDSN = running.dsn
		}
	})
	return baseDSN, startErr
}

// Main runs the tests, then stops the server this package started, if any.
func Main(m *testing.M) {
	code := m.Run()
	if running != nil {
		running.stop()
	}
	os.Exit(code)
}

// DSN returns a connection string for a new, empty schema on a real
// PostgreSQL server (first on the search path), dropped when t ends. It
// skips t when no server can be found or started.
func DSN(t testing.TB) string {
	t.Helper()
	base, err := server()
	if err != nil {
		msg := fmt.Sprintf("no PostgreSQL server for this test: %v\n"+
			"(set %s to a connection string, or install PostgreSQL's server binaries, e.g. apt-get install postgresql)", err, EnvDSN)
		if os.Getenv(EnvRequired) != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "irego_test_" + hex.EncodeToString(b[:])
	if err := execSQL(base, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("PostgreSQL at %s: %v", redact(base), err)
	}
	t.Cleanup(func() {
		if err := execSQL(base, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping test schema: %v", err)
		}
	})
	return withParam(base, "search_path", schema)
}

// execSQL runs one statement on a connection of its own.
func execSQL(dsn, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, sql)
	return err
}

// withParam adds a run-time parameter to a connection string of either
// form.
func withParam(dsn, name, value string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			q := u.Query()
			q.Set(name, value)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " " + name + "=" + value
}

// redact hides a URL's password for messages.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return "the server named by $" + EnvDSN
}

package engine_test

import (
	"testing"

	"github.com/irego/irego/store/postgres/pgtest"
)

// The rule change tests run engines on a shared PostgreSQL store.
func TestMain(m *testing.M) { pgtest.Main(m) }

package fuzz

import (
	"testing"

	"github.com/irego/irego/internal/pgtest"
)

// TestMain stops the PostgreSQL server the store property started, if any.
func TestMain(m *testing.M) { pgtest.Main(m) }

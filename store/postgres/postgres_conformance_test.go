package postgres

import (
	"context"
	"testing"

	"github.com/irego/irego/internal/pgtest"
	"github.com/irego/irego/store"
	"github.com/irego/irego/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		db, err := Open(context.Background(), pgtest.DSN(t), Options{})
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

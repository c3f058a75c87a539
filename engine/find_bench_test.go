package engine_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/irego/irego/engine"
)

// BenchmarkFindPage reads a page of 100 products from stores of growing
// size, the way the product inventory APIs list them: the total comes from
// the index's chunk counts and the page from skipping whole chunks, at any
// offset. Two indexed conditions walk the smaller of their sets: cheap for
// a customer's products (300 each here), costly when both sets are large
// (state+state: a third of the store each, the worst case).
// IREGO_BENCH_PRODUCTS=1000000 sets the largest size (default 100000);
// loading a million products takes a few minutes.
func BenchmarkFindPage(b *testing.B) {
	largest := 100_000
	if s := os.Getenv("IREGO_BENCH_PRODUCTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("IREGO_BENCH_PRODUCTS=%q: %v", s, err)
		}
		largest = n
	}
	for _, n := range []int{10_000, largest} {
		e, err := engine.Open(b.TempDir(), engine.Options{})
		if err != nil {
			b.Fatal(err)
		}
		loadProducts(b, e, productsOf(n, n/300))
		active := []engine.Condition{{Attribute: "state", Values: []string{"active"}}}
		customer := append(active, engine.Condition{Attribute: "customer", Values: []string{"c3"}})
		states := append(active, engine.Condition{Attribute: "state", Values: []string{"active", "inactive"}})
		for _, c := range []struct {
			name   string
			where  []engine.Condition
			offset int
		}{
			{"all/first", nil, 0},
			{"all/middle", nil, n / 2},
			{"all/last", nil, n - 100},
			{"state/middle", active, n / 6},
			{"state+customer/first", customer, 0},
			{"state+state/first", states, 0},
		} {
			b.Run(fmt.Sprintf("products=%d/%s", n, c.name), func(b *testing.B) {
				b.ReportAllocs()
				q := engine.Query{Class: productClass, Where: c.where, Offset: c.offset, Limit: 100}
				for b.Loop() {
					pg, err := e.Find(context.Background(), q)
					if err != nil || len(pg.Records) != min(100, pg.Total) || pg.Total == 0 {
						b.Fatalf("%v: %d records", err, len(pg.Records))
					}
				}
			})
		}
		e.Close()
	}
}

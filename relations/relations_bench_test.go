package relations_test

import (
	"testing"

	"github.com/irego/irego/relations"
	"github.com/irego/irego/store"
	"github.com/irego/irego/store/badger"
)

// BenchmarkInbound reads the 100 relations into one CI (a host of 100
// VMs), and BenchmarkOutbound the 100 out of it, from a store on disk.
func BenchmarkInbound(b *testing.B)  { benchmarkEdges(b, relations.Inbound) }
func BenchmarkOutbound(b *testing.B) { benchmarkEdges(b, relations.Outbound) }

func benchmarkEdges(b *testing.B, list func(store.Reader, string) ([]*store.Edge, error)) {
	db, err := badger.Open(badger.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	txn := db.NewTxn()
	defer txn.Discard()
	const n = 100
	for i := 1; i <= n; i++ {
		// id(0) is the parent of every edge and the child of every edge too.
		for _, e := range []*store.Edge{{SysID: id(1000 + i), Type: "Runs on::Runs", Parent: id(i), Child: id(0)},
			{SysID: id(2000 + i), Type: "Hosts::Hosted on", Parent: id(0), Child: id(i)}} {
			if err := relations.Put(txn, e); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := txn.Commit(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := db.View(func(r store.Reader) error {
			eds, err := list(r, id(0))
			if err == nil && len(eds) != n {
				b.Fatalf("%d edges, want %d", len(eds), n)
			}
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
}

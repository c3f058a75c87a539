package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/pprof"
	"sync/atomic"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/bench"
	"github.com/irego/irego/store"
	"github.com/irego/irego/store/badger"
)

// cmdBench is the load tool: BYOL payloads in process or over HTTP.
func cmdBench(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("bench")
	mode := fs.String("mode", "inproc", "inproc (engine.Apply on a local store) or http (a running irego serve)")
	baseURL := fs.String("url", "http://127.0.0.1:8080", "server base URL (http mode)")
	user := fs.String("user", "admin", "user for HTTP Basic auth (http mode)")
	password := fs.String("password", os.Getenv("IREGO_ADMIN_PASSWORD"), "password (http mode; default $IREGO_ADMIN_PASSWORD)")
	db := fs.String("db", "", "store directory (inproc mode; default a temporary one, removed afterwards)")
	storeSpec := fs.String("store", "", "store to run on instead of --db (inproc mode): badger:DIR or postgres://…; it should start empty")
	rulesFile := fs.String("rules", "", "rule file to identify with (inproc mode; default the built-in pack)")
	batch := fs.Int("batch", 1, "payloads per transaction (inproc mode)")
	concurrency := fs.Int("concurrency", 1, "concurrent clients")
	duration := fs.Duration("duration", 10*time.Second, "how long to run")
	count := fs.Int("count", 0, "payloads to send (overrides --duration)")
	sync := fs.Bool("sync", false, "fsync every commit (inproc mode)")
	preload := fs.Int("preload", 0, "CIs to store before timing starts")
	stored := fs.Int("chains", 0, "chains the store already holds (from an earlier run's --preload): new chains are numbered after them")
	baseline := fs.Bool("baseline", false, "also run the bare Badger baseline with the same transaction and record sizes")
	baselineWrites := fs.Bool("baseline-writes", false, "also run the bare Badger loop writing what irego wrote per item (inproc mode; as many keys, shaped as a sample of its writes, under random keys)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	updates := fs.Float64("updates", 0.1, "fraction of payloads that update a known chain")
	repeats := fs.Float64("repeats", 0.1, "fraction of payloads that repeat a known chain unchanged")
	nativeKeys := fs.Bool("native-keys", false, "give every item a source native key (sys_object_source_info.source_native_key), as Service Graph connectors send")
	repeatsAlone := fs.Duration("repeats-alone", 0, "after the run, also run this long repeating known chains only (inproc mode; the report's repeats)")
	installs := fs.Int("installs", 3, "software installs per computer")
	source := fs.String("source", "ServiceNow", "data source name")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the timed run to this file (go tool pprof)")
	memProfile := fs.String("memprofile", "", "write a heap profile at the end of the timed run to this file")
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "irego bench: takes only flags, got %v (irego help bench)\n", fs.Args())
		return exitUsage
	}
	ctx := context.Background()
	var target bench.Target
	var e *engine.Engine
	var counted *bench.Counting
	switch *mode {
	case "inproc":
		spec := *storeSpec
		if spec == "" {
			spec = *db
		}
		if spec == "" {
			tmp, err := os.MkdirTemp("", "irego-bench-")
			if err != nil {
				fmt.Fprintf(stderr, "irego bench: %v\n", err)
				return exitFail
			}
			defer os.RemoveAll(tmp)
			spec = tmp
		}
		var err error
		count := func(st store.Store) store.Store {
			counted = bench.NewCounting(st)
			counted.SampleShapes = *baselineWrites
			return counted
		}
		if e, err = openEngineWrapped(spec, *rulesFile, engine.Options{SyncWrites: *sync}, count); err != nil {
			fmt.Fprintf(stderr, "irego bench: %v\n", err)
			return exitFail
		}
		defer e.Close()
		target = &bench.InProc{Engine: e, Source: *source, Options: engine.DefaultApplyOptions()}
	case "http":
		tr := &http.Transport{MaxIdleConnsPerHost: *concurrency, MaxConnsPerHost: *concurrency}
		target = &bench.HTTP{BaseURL: *baseURL, Source: *source, User: *user, Password: *password, Client: &http.Client{Transport: tr, Timeout: time.Minute}}
		*batch = 1
	default:
		fmt.Fprintf(stderr, "irego bench: --mode %q: want inproc or http\n", *mode)
		return exitUsage
	}
	gen := bench.NewGenerator(uint64(time.Now().UnixNano()), *stored)
	gen.Installs, gen.NativeKeys = *installs, *nativeKeys // the preload's chains too
	if *preload > 0 {
		// Chains share datacenters and accounts; count what one chain adds.
		perChain := bench.ItemsPerChain(*installs) - 2
		n := (*preload + perChain - 1) / perChain
		fmt.Fprintf(stderr, "preloading %d chains (~%d CIs)\n", n, n*perChain)
		r := bench.Run(ctx, target, bench.Config{Concurrency: 2, Batch: max(*batch, 100), Count: n, Gen: gen, Progress: stderr})
		if r.Errors > 0 {
			fmt.Fprintf(stderr, "irego bench: preload: %d errors, first: %s\n", r.Errors, r.FirstError)
			return exitFail
		}
		fmt.Fprintf(stderr, "preloaded %d items in %.0fs (%.0f items/s), peak RSS %d MiB, anonymous %d MiB\n",
			r.Items, r.Seconds, r.ItemsPerSec, r.PeakRSSBytes>>20, r.PeakAnonBytes>>20)
	}
	gen.UpdateFraction, gen.RepeatFraction = *updates, *repeats
	cfg := bench.Config{Concurrency: *concurrency, Batch: *batch, Duration: *duration, Count: *count, Gen: gen, Progress: stderr}
	stopProfile, err := startProfiles(*cpuProfile, *memProfile)
	if err != nil {
		fmt.Fprintf(stderr, "irego bench: %v\n", err)
		return exitFail
	}
	var syncs, synced atomic.Int64
	if db, ok := unwrapped(storeOf(e)).(*badger.DB); ok {
		db.ObserveSyncs(func(commits int, _ time.Duration) { syncs.Add(1); synced.Add(int64(commits)) })
	}
	var retried retryCount
	if e != nil {
		e.Observe(&retried)
	}
	rep := measure(ctx, target, cfg, counted)
	rep.Retries = retried.n.Swap(0)
	var shapes []bench.Write // what the timed run wrote, for --baseline-writes
	if counted != nil {
		shapes = counted.Shapes()
	}
	if n := syncs.Load(); n > 0 {
		rep.Syncs, rep.CommitsPerSync = n, float64(synced.Load())/float64(n)
	}
	if err := stopProfile(); err != nil {
		fmt.Fprintf(stderr, "irego bench: %v\n", err)
		return exitFail
	}
	if *repeatsAlone > 0 && counted != nil {
		gen.UpdateFraction, gen.RepeatFraction = 0, 1
		rc := cfg
		rc.Duration, rc.Count = *repeatsAlone, 0
		rep.Repeats = measure(ctx, target, rc, counted)
		rep.Repeats.Retries = retried.n.Swap(0)
	}
	rep.Mode, rep.Sync, rep.Preloaded = *mode, *sync, *preload
	if e != nil {
		rep.Rules = fmt.Sprintf("%d classes, %d identification rules", len(e.Rules().Classes()), len(e.Rules().Rules()))
	}
	perTxn := *batch * bench.ItemsPerChain(*installs) // items per transaction, for the baselines
	if *baseline {
		size := 512
		if e != nil {
			size = averageRecordSize(e.Store())
		}
		base, err := runBaseline(ctx, bench.Baseline{RecordsPerTxn: perTxn, RecordSize: size, Concurrency: *concurrency}, *sync, min(*duration, 10*time.Second))
		if err != nil {
			fmt.Fprintf(stderr, "irego bench: baseline: %v\n", err)
			return exitFail
		}
		rep.BaselineItemsPerSec, rep.Ratio = base, rep.ItemsPerSec/base
	}
	if *baselineWrites && counted != nil && rep.KeysPerItem > 0 {
		b := bench.Baseline{RecordsPerTxn: perTxn, Concurrency: *concurrency, Writes: shapes, WritesPerRecord: rep.KeysPerItem}
		base, err := runBaseline(ctx, b, *sync, min(*duration, 10*time.Second))
		if err != nil {
			fmt.Fprintf(stderr, "irego bench: writes baseline: %v\n", err)
			return exitFail
		}
		rep.WritesBaselineItemsPerSec, rep.WritesRatio = base, rep.ItemsPerSec/base
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
	} else {
		printReport(stdout, rep)
	}
	if rep.Errors > 0 {
		fmt.Fprintf(stderr, "irego bench: %d failed sends, first: %s\n", rep.Errors, rep.FirstError)
		return exitFail
	}
	return exitOK
}

// measure runs cfg against target, with the keys and bytes written per
// item, and a sample of their shapes, when counted is not nil.
func measure(ctx context.Context, target bench.Target, cfg bench.Config, counted *bench.Counting) *bench.Report {
	var keys, bytes int64
	if counted != nil {
		keys, bytes = counted.Written()
		counted.ForgetShapes()
	}
	rep := bench.Run(ctx, target, cfg)
	if counted != nil && rep.Items > 0 {
		k, b := counted.Written()
		rep.KeysPerItem = float64(k-keys) / float64(rep.Items)
		rep.BytesPerItem = float64(b-bytes) / float64(rep.Items)
	}
	return rep
}

// retryCount counts the transactions that conflicted with a concurrent
// write and were applied again.
type retryCount struct{ n atomic.Int64 }

func (*retryCount) Applied(bool, []*engine.Result) {}
func (*retryCount) Committed(int, int)             {}
func (r *retryCount) Retried()                     { r.n.Add(1) }

// startProfiles starts a CPU profile and returns the function that stops
// it and writes the heap profile.
func startProfiles(cpu, mem string) (stop func() error, err error) {
	var cpuFile *os.File
	if cpu != "" {
		if cpuFile, err = os.Create(cpu); err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(cpuFile); err != nil {
			return nil, err
		}
	}
	return func() error {
		if cpuFile != nil {
			pprof.StopCPUProfile()
			if err := cpuFile.Close(); err != nil {
				return err
			}
		}
		if mem == "" {
			return nil
		}
		f, err := os.Create(mem)
		if err != nil {
			return err
		}
		defer f.Close()
		return pprof.WriteHeapProfile(f)
	}, nil
}

func printReport(w io.Writer, r *bench.Report) {
	fmt.Fprintf(w, "mode %s, concurrency %d, batch %d, sync %v, preloaded %d CIs\n", r.Mode, r.Concurrency, r.Batch, r.Sync, r.Preloaded)
	if r.Rules != "" {
		fmt.Fprintf(w, "rules: %s\n", r.Rules)
	}
	fmt.Fprintf(w, "%d payloads, %d items in %.1fs: %.0f items/s, %.0f payloads/s\n", r.Payloads, r.Items, r.Seconds, r.ItemsPerSec, r.PayloadsPerSec)
	fmt.Fprintf(w, "latency p50 %.2fms p95 %.2fms p99 %.2fms; %.0f allocs/item; peak RSS %d MiB (anonymous %d MiB)\n",
		r.P50ms, r.P95ms, r.P99ms, r.AllocsPerItem, r.PeakRSSBytes>>20, r.PeakAnonBytes>>20)
	if r.KeysPerItem > 0 {
		fmt.Fprintf(w, "written per item: %.2f keys, %.0f bytes\n", r.KeysPerItem, r.BytesPerItem)
	}
	if x := r.Repeats; x != nil {
		fmt.Fprintf(w, "repeats alone: %d items in %.1fs: %.0f items/s; %.0f allocs/item; written per item: %.2f keys, %.0f bytes\n",
			x.Items, x.Seconds, x.ItemsPerSec, x.AllocsPerItem, x.KeysPerItem, x.BytesPerItem)
	}
	if r.Retries > 0 {
		fmt.Fprintf(w, "%d transactions conflicted and were applied again (%.2f per payload)\n", r.Retries, float64(r.Retries)/float64(max(r.Payloads, 1)))
	}
	if r.Syncs > 0 {
		fmt.Fprintf(w, "%d group fsyncs, %.1f commits each\n", r.Syncs, r.CommitsPerSync)
	}
	if r.BaselineItemsPerSec > 0 {
		fmt.Fprintf(w, "bare Badger baseline %.0f records/s: irego reaches %.0f%% of it\n", r.BaselineItemsPerSec, 100*r.Ratio)
	}
	if r.WritesBaselineItemsPerSec > 0 {
		fmt.Fprintf(w, "the same writes bare %.0f items/s: irego reaches %.0f%% of it\n", r.WritesBaselineItemsPerSec, 100*r.WritesRatio)
	}
}

// unwrapped is the store under the bench's write counting.
func unwrapped(st store.Store) store.Store {
	if c, ok := st.(*bench.Counting); ok {
		return c.Store
	}
	return st
}

// storeOf is e's store; nil without an engine (http mode).

func storeOf(e *engine.Engine) store.Store {
	if e == nil {
		return nil
	}
	return e.Store()
}

// averageRecordSize is the mean size of the stored CI records.
func averageRecordSize(st store.Store) int {
	total, n := 0, 0
	st.View(func(r store.Reader) error {
		return r.Iterate(store.CIPrefix(), func(_, v []byte) error {
			total, n = total+len(v), n+1
			if n >= 10000 {
				return store.ErrStop
			}
			return nil
		})
	})
	if n == 0 {
		return 512
	}
	return total / n
}

// runBaseline runs b on a new temporary Badger store opened as irego opens its own.
func runBaseline(ctx context.Context, b bench.Baseline, sync bool, d time.Duration) (float64, error) {
	dir, err := os.MkdirTemp("", "irego-baseline-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	db, err := badger.Open(badger.Options{Dir: dir, SyncWrites: sync})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	b.DB = db.Badger()
	return b.Run(ctx, d)
}

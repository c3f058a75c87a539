package fuzz

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
	"pgregory.net/rapid"
)

// The differential properties (dry run, stores, history, backup, stale
// and merges) run over sequences of feeds: payloads from several sources
// of the default pack's reconciliation rule (ServiceNow beats SCCM beats
// everyone else), each mixing the BYOL chain of the other properties with
// hardware items that switch class (computer, server, Linux and Windows
// server share the Hardware Rule), share names ("localhost" with several
// serial numbers), carry blank values, nulls and lookup records (serial
// numbers, network adapters) and installs.

// feedSources report the same machines with different priorities.
var feedSources = []string{"ServiceNow", "SCCM", "AWS"}

// hardwareClasses share the Hardware Rule: an item of one matches a CI
// of another and reclassifies it (upgrade, downgrade or switch).
var hardwareClasses = []string{"cmdb_ci_computer", "cmdb_ci_server", "cmdb_ci_linux_server", "cmdb_ci_win_server"}

// feedRules is the default pack with one addition: a null location from
// an authorised source clears it (update_with_null), so that histories
// hold removed values too.
var feedRules = sync.OnceValue(func() *rules.RuleSet {
	src := rules.DefaultSource()
	const at = "    refresh: 30d\n"
	if bytes.Count(src, []byte(at)) != 1 {
		panic("fuzz: the default pack's reconciliation rule moved; update feedRules")
	}
	src = bytes.Replace(src, []byte(at), []byte(at+"    update_with_null: [location]\n"), 1)
	rs, err := rules.Load("default.yaml+update_with_null", src)
	if err != nil {
		panic(err)
	}
	return rs
})

// step is one payload of a feed sequence, with its source and options.
type step struct {
	source string
	p      *payload.Payload
	o      engine.ApplyOptions
}

// feedSteps draws one to most steps; a later one may report the
// machines of an earlier one again, changed.
func feedSteps(t *rapid.T, most int) []step {
	var out []step
	for k := range rapid.IntRange(1, most).Draw(t, "steps") {
		s := step{source: rapid.SampledFrom(feedSources).Draw(t, "source"), o: drawOptions(t, nil)}
		if k > 0 && rapid.Bool().Draw(t, "report again") {
			s.p = reported(t, out[rapid.IntRange(0, k-1).Draw(t, "earlier step")].p)
		} else {
			s.p = feedPayload(t)
		}
		out = append(out, s)
	}
	return out
}

// reported is p reported again: each hardware item may come as another
// class of the Hardware Rule, without its location (null) or elsewhere.
func reported(t *rapid.T, p *payload.Payload) *payload.Payload {
	q := p.Clone()
	for i := range q.Items {
		it := &q.Items[i]
		if !slices.Contains(hardwareClasses, it.ClassName) {
			continue
		}
		it.ClassName = rapid.SampledFrom(hardwareClasses).Draw(t, "class again")
		switch rapid.IntRange(0, 2).Draw(t, "location again") {
		case 1:
			it.Values["location"] = nil
		case 2:
			it.Values["location"] = "Room 3"
		}
	}
	return q
}

// feedPayload draws a payload of one to four fragments: hardware items
// or BYOL fragments (in a drawn value mode).
func feedPayload(t *rapid.T) *payload.Payload {
	b := newBuilder(t, rapid.SampledFrom(allModes).Draw(t, "mode"))
	for range rapid.IntRange(1, 4).Draw(t, "fragments") {
		switch rapid.IntRange(0, 2).Draw(t, "kind") {
		case 0:
			b.fragment()
		default:
			b.hardware()
		}
	}
	return b.done()
}

// hardware adds one machine item of a drawn hardware class.
func (b *builder) hardware() {
	t := b.t
	v := map[string]any{}
	blankOr(t, v, "name", "h1", "h2", "localhost")
	blankOr(t, v, "serial_number", "S1", "S2", "S3")
	switch rapid.IntRange(0, 3).Draw(t, "location") {
	case 1:
		v["location"] = nil // cleared, when the source may
	case 2:
		v["location"] = "Room 1"
	case 3:
		v["location"] = "Room 2"
	}
	if ram := rapid.IntRange(0, 3).Draw(t, "ram"); ram > 0 {
		v["ram"] = int64(ram)
	}
	it := payload.Item{ClassName: rapid.SampledFrom(hardwareClasses).Draw(t, "class"), Values: v}
	for range rapid.IntRange(0, 2).Draw(t, "serial lookups") {
		it.Lookup = append(it.Lookup, payload.Related{ClassName: "cmdb_serial_number", Values: map[string]any{
			"serial_number":      rapid.SampledFrom([]string{"S1", "S2", "S3"}).Draw(t, "lookup serial"),
			"serial_number_type": rapid.SampledFrom([]string{"system", "uuid"}).Draw(t, "serial type")}})
	}
	if rapid.Bool().Draw(t, "adapter") {
		it.Lookup = append(it.Lookup, payload.Related{ClassName: "cmdb_ci_network_adapter", Values: map[string]any{
			"name": "eth0", "mac_address": rapid.SampledFrom([]string{"m1", "m2"}).Draw(t, "mac")}})
	}
	if rapid.Bool().Draw(t, "install") {
		sw := rapid.SampledFrom(software).Draw(t, "software")
		it.Related = append(it.Related, payload.Related{ClassName: classInstall,
			Values: map[string]any{"publisher": sw.publisher, "display_name": sw.name, "version": sw.version}})
	}
	b.p.Items = append(b.p.Items, it)
	i := len(b.p.Items) - 1
	if rapid.IntRange(0, 3).Draw(t, "virtualized") == 0 {
		a := rapid.SampledFrom(accountIDs).Draw(t, "account_id")
		r := rapid.SampledFrom(regions).Draw(t, "region")
		b.relate(virtualizedBy, i, b.vm(a, r, rapid.SampledFrom(vmIDs).Draw(t, "vm")))
	}
}

// counter makes sys_ids 1, 2, 3, … as 32 hex digits, so that two engines
// fed the same sequence name the same CIs alike.
type counter struct{ n atomic.Int64 }

func (c *counter) next() string { return sysIDNumber(c.n.Add(1)) }

func sysIDNumber(n int64) string { return fmt.Sprintf("%032x", n) }

// feedEngine is an engine for feed sequences with its clock and sys_id
// counter at hand.
type feedEngine struct {
	*engine.Engine
	clock *clock
	ids   *counter
}

// openShared opens the engine the checks of one property share, on st
// (nil: Badger in memory), closed when the test ends. Opening Badger and
// an engine costs more than most checks; fresh gives each check an empty
// store instead.
func openShared(t testing.TB, st store.Store) *feedEngine {
	f := &feedEngine{clock: new(clock), ids: new(counter)}
	e, err := engine.Open("", engine.Options{Store: st, InMemory: st == nil, Rules: feedRules(), Now: f.clock.now, NewSysID: f.ids.next,
		ImmediateLastDiscovered: true, IndexCountFold: -1}) // see openDisk
	if err != nil {
		t.Fatalf("engine.Open: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	f.Engine = e
	return f
}

// fresh empties f's store of everything kept under v1/ (CIs, indexes,
// history, partial payloads, tasks: all but the store's meta keys) and
// restarts its clock and sys_id counter, as if just opened.
func (f *feedEngine) fresh(t *rapid.T) *feedEngine {
	emptied(t, f.Store(), []byte("v1/"))
	f.clock.ticks.Store(0)
	f.ids.n.Store(0)
	return f
}

// emptied deletes every key of st under prefix.
func emptied(t *rapid.T, st store.Store, prefix []byte) {
	txn := st.NewTxn()
	defer txn.Discard()
	var keys [][]byte
	err := txn.Iterate(prefix, func(k, _ []byte) error { keys = append(keys, bytes.Clone(k)); return nil })
	for _, k := range keys {
		if err == nil {
			err = txn.Delete(k)
		}
	}
	if err == nil {
		err = txn.Commit()
	}
	if err != nil {
		t.Fatalf("emptying the store: %v", err)
	}
}

// catches runs a property's checker against a broken implementation and
// fails unless a generated case exposes it within five rounds of checks.
// The checker reports rather than fails, so that the cases after the
// first that exposes the breakage are skipped and nothing is shrunk.
func catches(t *testing.T, check func(*rapid.T) string) {
	found, cases := "", 0
	for round := 0; round < 5 && found == ""; round++ {
		rapid.Check(t, func(t *rapid.T) {
			if found == "" {
				cases++
				found = check(t)
			}
		})
	}
	if found == "" {
		t.Fatalf("none of %d generated cases exposed the broken implementation", cases)
	}
	t.Logf("caught by case %d: %s", cases, found)
}

// applyStep applies s and fails the check when the store fails or Apply
// panics.
func applyStep(t *rapid.T, e *engine.Engine, s step) *engine.Result {
	t.Logf("Apply(%q, %+v):\n%s", s.source, s.o, jsonOf(s.p))
	res, err := guarded(func() (*engine.Result, error) { return e.Apply(context.Background(), s.source, s.p, s.o) })
	if err != nil {
		t.Fatalf("Apply: %v\npayload: %s", err, jsonOf(s.p))
	}
	return res
}

// guarded turns a panic of f into an error.
func guarded[R any](f func() (R, error)) (res R, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return f()
}

// maskNew replaces in text every sys_id the counter handed out after the
// first `from` with "Unknown", as a dry run reports what it would create.
func maskNew(text string, from, to int64) string {
	for n := from + 1; n <= to; n++ {
		text = strings.ReplaceAll(text, sysIDNumber(n), engine.Unknown)
	}
	return text
}

// sysIDsOf lists every CI and related record in e's store.
func sysIDsOf(t *rapid.T, e *engine.Engine) []string {
	var ids []string
	if err := e.Records(context.Background(), func(r *store.Record) error { ids = append(ids, r.SysID); return nil }); err != nil {
		t.Fatalf("Records: %v", err)
	}
	return ids
}

// at is a time between two readings of c: later than every time stamped
// so far, earlier than every later one.
func (c *clock) between() time.Time { return c.now().Add(-time.Microsecond) }

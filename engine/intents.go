package engine

import (
	"context"
	"sync"

	"github.com/irego/irego/store"
)

// Identity intents let a write that is bound to conflict give up early.
//
// Payloads that describe the same new CI at the same time (the ten chains
// of a new data center) all find its identity free and all create it; the
// identity guard makes every commit but the first conflict (store/identity.go).
// The losers used to find out at commit, after all their work, and then
// queue for the serializer one at a time, which left most of 64 clients
// waiting and the CPU idle. Within one process the engine knows more: a
// transaction that writes an identity guard holds an intent on it until
// its commit is visible, and one that reads or writes a guard that
// another holds, or that another changed after it began, will conflict.
// It stops there (errIdentityBusy), waits for the holder, and starts
// again on a snapshot that has the other's CI, without the serializer.
// The guard's conflict stays what makes identification correct; intents
// only make it cheaper (and they see nothing of other processes).
type intents struct {
	mu   sync.Mutex
	held map[string]*intent
	// released numbers the guards whose holders committed: a transaction
	// begun before a guard's number read it before the change. Two maps,
	// the older dropped as they turn, bound the memory; a transaction
	// begun before floor cannot tell and finds out at commit.
	released, older  map[string]uint64
	n, turned, floor uint64
}

type intent struct {
	owner *eventTxn
	done  chan struct{} // made for the first write that waits
}

// releasesKept is how many released guards a map holds before it turns.
const releasesKept = 1 << 12

func newIntents() *intents {
	return &intents{held: map[string]*intent{}, released: map[string]uint64{}, older: map[string]uint64{}}
}

// errIdentityBusy says the transaction read or wrote an identity guard that
// another write of this process holds (wait is closed when it lets go) or
// changed after the transaction began (wait is nil): committing would
// conflict. It is a conflict for every caller that retries those.
type errIdentityBusy struct{ wait <-chan struct{} }

func (errIdentityBusy) Error() string { return "engine: an identity is being changed by another write" }

func (errIdentityBusy) Is(target error) bool { return target == store.ErrConflict }

// waitFor waits until the holder lets go, or ctx ends.
func (b errIdentityBusy) waitFor(ctx context.Context) error {
	if b.wait == nil {
		return nil
	}
	select {
	case <-b.wait:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// begin is the number a new transaction starts from: taken before its
// snapshot, so a change it cannot see numbers above it.
func (in *intents) begin() uint64 {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.n
}

// check fails when t reading or writing the guard k would conflict; with
// claim it also makes t the holder of k.
func (in *intents) check(t *eventTxn, k []byte, claim bool) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !claim && in.n == t.since && len(in.held) == len(t.intents) {
		return nil // nothing released since t began, nothing held but by t
	}
	if h := in.held[string(k)]; h != nil {
		if h.owner == t {
			return nil
		}
		if h.done == nil {
			h.done = make(chan struct{})
		}
		return errIdentityBusy{h.done}
	}
	if t.since >= in.floor {
		n, ok := in.released[string(k)]
		if !ok {
			n = in.older[string(k)]
		}
		if n > t.since {
			return errIdentityBusy{}
		}
	}
	if claim {
		key := string(k) // one copy for the map and the list
		in.held[key] = &intent{owner: t}
		t.intents = append(t.intents, key)
	}
	return nil
}

// release lets go of the guards t holds; committed says t's writes are
// visible, so transactions begun before read the guards before they changed.
func (in *intents) release(t *eventTxn, committed bool) {
	if len(t.intents) == 0 {
		return
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if committed {
		in.n++
		if len(in.released) >= releasesKept {
			// The older map goes, and with it every number up to the
			// last turn.
			in.floor, in.turned = in.turned, in.n-1
			in.older, in.released = in.released, make(map[string]uint64, releasesKept)
		}
	}
	for _, k := range t.intents {
		if committed {
			in.released[k] = in.n
		}
		if h := in.held[k]; h.done != nil {
			close(h.done)
		}
		delete(in.held, k)
	}
	t.intents = nil
}

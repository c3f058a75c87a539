package license

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/bits"
	"slices"

	"github.com/irego/irego/store"
)

// A day's usage is added up per title, metric and server a computer system
// at a time (eachTotal), for the per-server rows and the products' sums.

// totalsFor says what eachTotal's totals are for, and so how they come.
type totalsFor int

const (
	// forServers: each with the computer systems counted; the hosts'
	// totals last, by server.
	forServers totalsFor = iota
	// forProducts: to be added up per title and metric, in the order of
	// their first computer system (see eachTotal).
	forProducts
)

// eachTotal adds up day d's rows of group per title, metric and server, as
// they are counted (see count), and calls fn with each total whose server
// (else first system) and title are known, as resolve finds them. It reads
// the day's usage a row at a time, up to three times: first to find the
// servers that count other computer systems (cloud hosts), then, when
// there are any, to add up the hosts' rows, then to add up every other
// computer system on its own as its rows come, passing its totals on when
// the next system starts. Only the hosts' totals are kept for the whole
// day.
//
// For products, totals come in the order of their first computer system
// (for a capacity metric, their server): for one title and metric that is
// the order in which one totaler over the whole day lists them, so a sum
// over them in the order they come is the same to the last bit.
func (s *snapshot) eachTotal(ctx context.Context, group int, d string, use totalsFor, fn func(*serverTotal) error) error {
	imp, ok := s.rec.Days[d]
	if !ok {
		return nil
	}
	hosts := map[uint64]bool{}
	var first serverOf
	err := eachRow(s.r, d, imp, func(system uint64, v []byte) error {
		server, err := first.get(d, system, v)
		if err == nil && server != system {
			hosts[server] = true
		}
		return cmp.Or(err, ctx.Err())
	})
	if err != nil {
		return err
	}
	// A system's rows count on a host, with other systems' rows, when its
	// server is one; otherwise on the system alone.
	onHost := func(system, server uint64) bool { return hosts[server] || server != system }
	seen := s.seen(group)
	inGroup := func(id uint64) (bool, error) {
		_, in, err := seen.system(s, id)
		return in, err
	}
	// counts decodes row v of system when the pass counts it: the system is
	// in the group and its rows count on a host (hosted) or on itself.
	counts := func(pass *serverOf, system uint64, v []byte, hosted bool) (u usage, ok bool, err error) {
		server, err := pass.get(d, system, v)
		if err != nil || onHost(system, server) != hosted {
			return u, false, err
		}
		if in, err := inGroup(system); err != nil || !in {
			return u, false, err
		}
		u, err = decodeUsage(d, v)
		return u, err == nil, err
	}
	// known keeps the totals whose server (else first system) and title
	// are known, as resolve finds them.
	known := func(totals []*serverTotal) ([]*serverTotal, error) {
		out := totals[:0]
		for _, t := range totals {
			stored, _, err := seen.system(s, t.server)
			if err == nil && !stored {
				stored, _, err = seen.system(s, t.system)
			}
			if err != nil {
				return nil, err
			}
			if stored && s.dims.titles[t.title] != nil {
				out = append(out, t)
			}
		}
		return out, nil
	}
	emit := func(totals []*serverTotal) error {
		for _, t := range totals {
			if err := fn(t); err != nil {
				return err
			}
		}
		return nil
	}
	systems := use == forServers
	var shared []*serverTotal // the hosts' totals
	if len(hosts) > 0 {
		t := newTotaler(systems)
		c := newCounter(systems, t.add)
		var second serverOf
		err := eachRow(s.r, d, imp, func(system uint64, v []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			u, ok, err := counts(&second, system, v, true)
			if ok {
				c.add(u)
			}
			return err
		})
		if err != nil {
			return err
		}
		c.done()
		// By server, each host is read once to resolve its totals.
		shared = t.out
		slices.SortStableFunc(shared, func(a, b *serverTotal) int { return cmp.Compare(a.server, b.server) })
		if shared, err = known(shared); err != nil {
			return err
		}
		if use == forProducts {
			slices.SortStableFunc(shared, func(a, b *serverTotal) int { return cmp.Compare(a.system, b.system) })
		}
	}
	// sharedBefore passes on, for products, the hosts' totals whose first
	// system comes before system id.
	sharedBefore := func(id uint64) error {
		if use != forProducts {
			return nil
		}
		n := 0
		for n < len(shared) && shared[n].system < id {
			n++
		}
		err := emit(shared[:n])
		shared = shared[n:]
		return err
	}
	// The current system's totals, counted on itself; reused from system
	// to system.
	own := newTotaler(systems)
	ownCount := newCounter(systems, own.add)
	counting := false
	var current uint64 // the system whose rows are being read
	flush := func() error {
		if !counting {
			return nil
		}
		counting = false
		ownCount.done()
		totals, err := known(own.out)
		if err == nil {
			err = emit(totals)
		}
		own.reset()
		return err
	}
	var third serverOf
	err = eachRow(s.r, d, imp, func(system uint64, v []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if system != current {
			if err := flush(); err != nil {
				return err
			}
			if err := sharedBefore(system); err != nil {
				return err
			}
			current = system
		}
		u, ok, err := counts(&third, system, v, false)
		if ok {
			counting = true
			ownCount.add(u)
		}
		return err
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return err
	}
	return emit(shared)
}

// eachRow calls fn with each of day d's usage rows of import imp, in key
// order (by computer system, title and metric): the row's computer
// system, read from its key, and the stored row (see decodeUsage), so that
// passes over the day decode only the rows they count. An error from fn
// ends the read.
func eachRow(r store.Reader, d string, imp uint64, fn func(system uint64, v []byte) error) error {
	prefix := store.SnapshotPrefix(d, imp)
	return r.Iterate(prefix, func(k, v []byte) error {
		system := store.IDAfter(prefix, k)
		if system == 0 {
			return fmt.Errorf("license: corrupt usage snapshot key of %s: %q", d, k)
		}
		return fn(system, v)
	})
}

// serverOf is the server of the computer system whose rows a pass over a
// day reads: an import counts all of a system's rows on one server, so
// its first row says, and only that one is decoded for it.
type serverOf struct {
	system, server uint64
}

func (s *serverOf) get(d string, system uint64, v []byte) (uint64, error) {
	if s.system == system {
		return s.server, nil
	}
	server, ok := serverIn(v)
	if !ok {
		var w struct {
			Server uint64 `json:"server"`
		}
		if err := json.Unmarshal(v, &w); err != nil {
			return 0, fmt.Errorf("license: corrupt usage snapshot of %s: %w", d, err)
		}
		server = w.Server
	}
	s.system, s.server = system, server
	return server, nil
}

var serverField = []byte(`"server":`)

// serverIn reads the server of a stored usage row without decoding it,
// as json.Marshal wrote it: the digits after its "server" key. Inside a
// JSON string every quote is escaped, so a quote followed by server and
// an unescaped quote and a colon is that key; a row holds no nested
// objects. It reports false when the row is not written so.
func serverIn(v []byte) (uint64, bool) {
	i := bytes.Index(v, serverField)
	if i < 0 {
		return 0, false
	}
	digits := v[i+len(serverField):]
	var n uint64
	k := 0
	for ; k < len(digits) && '0' <= digits[k] && digits[k] <= '9'; k++ {
		hi, lo := bits.Mul64(n, 10)
		sum, carry := bits.Add64(lo, uint64(digits[k]-'0'), 0)
		if hi != 0 || carry != 0 {
			return 0, false // past the largest uint64
		}
		n = sum
	}
	if k == 0 || (k < len(digits) && digits[k] != ',' && digits[k] != '}') {
		return 0, false
	}
	return n, true
}

// decodeUsage decodes a stored usage row of day d.
func decodeUsage(d string, v []byte) (usage, error) {
	var u usage
	if err := json.Unmarshal(v, &u); err != nil {
		return u, fmt.Errorf("license: corrupt usage snapshot of %s: %w", d, err)
	}
	return u, nil
}

// seenSystems remembers, by id, what one read found of the computer
// systems it looked up: whether each is stored and in the group. A read
// over many days then looks each system up once, not once a day, and
// holds a few bits per id rather than the systems: ids are numbered from
// 1 (stateRecord.DimSeq is the last given); one past the bits is looked
// up every time.
type seenSystems struct {
	group                  int
	looked, stored, member bitset
}

// maxSeen bounds the ids seenSystems keeps bits for (8 MiB a set): a
// damaged state cannot make a read allocate more.
const maxSeen = 1 << 26

// seen returns the snapshot's record of the systems of group.
func (s *snapshot) seen(group int) *seenSystems {
	if s.seenOf == nil || s.seenOf.group != group {
		n := min(s.rec.DimSeq+1, maxSeen)
		s.seenOf = &seenSystems{group: group, looked: newBitset(n), stored: newBitset(n), member: newBitset(n)}
	}
	return s.seenOf
}

// system reports whether computer system id is stored and in the group.
func (g *seenSystems) system(s *snapshot, id uint64) (stored, member bool, err error) {
	if g.looked.has(id) {
		return g.stored.has(id), g.member.has(id), nil
	}
	cs, err := s.system(id)
	if err != nil {
		return false, false, err
	}
	stored, member = cs != nil, cs != nil && s.groups.member(g.group, cs)
	if id < g.looked.len() {
		g.looked.set(id)
		if stored {
			g.stored.set(id)
		}
		if member {
			g.member.set(id)
		}
	}
	return stored, member, nil
}

// bitset is a set of small numbers.
type bitset []uint64

func newBitset(n uint64) bitset { return make(bitset, (n+63)/64) }

func (b bitset) len() uint64 { return uint64(len(b)) * 64 }

func (b bitset) has(i uint64) bool { return i < b.len() && b[i/64]&(1<<(i%64)) != 0 }

func (b bitset) set(i uint64) { b[i/64] |= 1 << (i % 64) }

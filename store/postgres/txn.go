package postgres

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/irego/irego/store"
)

// Iterate reads a prefix in pages, so that its callback may call Get (a
// connection carries one query at a time) and an early ErrStop reads
// little. Pages grow from firstPage to maxPage rows.
const (
	firstPage = 64
	maxPage   = 1024
)

var (
	errDone       = errors.New("postgres: transaction already committed or discarded")
	errRolledBack = errors.New("the server rolled the transaction back")
)

// txn is a server transaction that begins with its first read and buffers
// its writes until Commit.
type txn struct {
	db    *DB
	begin string // the statement that begins it on the server
	view  bool   // a View's snapshot, which takes no transaction slot
	conn  *pgxpool.Conn
	// writes are the pending writes by key: a value, or nil for a delete;
	// pending is their size in bytes.
	writes  map[string][]byte
	pending int
	// reads remembers what Get read from the server (nil: absent): the
	// transaction reads one snapshot, so a second Get of the key needs no
	// round trip. The engine reads every item's record twice.
	reads map[string][]byte
	// err is the first error the server reported: the server transaction
	// is aborted, so every later call reports it again.
	err  error
	done bool
	// private are the keys of writes no other transaction can make
	// (SetPrivate) not yet sent; sent holds the value each private write
	// sent before the commit; sending is the outcome of the send in
	// flight, nil when none is.
	private [][]byte
	sent    map[string][]byte
	sending chan error
	// adds are the counts to add to when the transaction commits
	// (store.CountAdder): by key, the sum of the deltas since the key was
	// last set or deleted. A key in writes too adds to the written value
	// (none: zero), the others to the stored count, on the server.
	adds map[string]int64
	// absent are the keys written by SetNew, inserted at commit.
	absent map[string]bool
}

// sendPrivateAt is how many private writes wait before they are sent
// while the transaction goes on: a batch of 100 BYOL chains makes about
// 2,000, so the server inserts most of them while the caller identifies
// the rest.
const sendPrivateAt = 256

// SetPrivate is Set for a key no other transaction can write or read (a
// key under a CI this transaction creates): such writes are sent, a few
// hundred at a time, while the transaction goes on. They take no lock
// another transaction waits for, so sending them before the others, in
// no particular order, cannot deadlock.
func (t *txn) SetPrivate(key, value []byte) error {
	if err := t.Set(key, value); err != nil {
		return err
	}
	t.private = append(t.private, bytes.Clone(key))
	if len(t.private) >= sendPrivateAt && t.err == nil && t.idle() {
		t.sendPrivate()
	}
	return nil
}

// SetNew (store.NewWriter) is Set for a key the caller holds to be absent:
// the commit inserts it rather than upserting it, a third cheaper for the
// server, and fails with store.ErrConflict should the key exist.
func (t *txn) SetNew(key, value []byte) error {
	if err := t.Set(key, value); err != nil {
		return err
	}
	if t.absent == nil {
		t.absent = map[string]bool{}
	}
	t.absent[string(key)] = true
	return nil
}

// idle reports whether no send of private writes is in flight, taking
// the outcome of one that ended.
func (t *txn) idle() bool {
	select {
	case err := <-t.sending: // never ready while sending is nil
		t.sendEnded(err)
	default:
	}
	return t.sending == nil
}

// sendPrivate sends the private writes waiting, without waiting for the
// server's answer: the next use of the connection does (settle).
func (t *txn) sendPrivate() {
	if t.sent == nil {
		t.sent = map[string][]byte{}
	}
	var news, again keyValues
	for _, k := range t.private {
		v := t.writes[string(k)]
		if v == nil {
			continue // deleted since: Commit deletes it
		}
		if t.sortOut(k, v, true, &news, &again) { // not when sent as it is (or twice in t.private)
			t.sent[string(k)] = v
		}
	}
	t.private = t.private[:0]
	if len(news.keys)+len(again.keys) == 0 {
		return
	}
	b, err := t.batch()
	if err != nil {
		t.err = err // the transaction is lost, and sent with it
		return
	}
	t.queueWrites(b, news, again)
	done, conn := make(chan error, 1), t.conn
	go func() { done <- conn.SendBatch(context.Background(), b).Close() }()
	t.sending = done
}

// sortOut adds the write of k to news when absent says the server cannot
// hold k and no earlier send gave it one, to others when it may, and to
// neither when an earlier send sent it as it is. It reports whether it
// added it.
func (t *txn) sortOut(k, v []byte, absent bool, news, others *keyValues) bool {
	s, sent := t.sent[string(k)]
	switch {
	case sent && bytes.Equal(s, v):
		return false
	case absent && !sent:
		news.add(k, v)
	default:
		others.add(k, v)
	}
	return true
}

// keyValues are keys and their values, to send as two arrays.
type keyValues struct{ keys, values [][]byte }

func (w *keyValues) add(k, v []byte) { w.keys, w.values = append(w.keys, k), append(w.values, v) }

// queueWrites queues the statements that write news, keys under a CI the
// transaction made (or written by SetNew) and not sent before, and the
// others: news need no check for a row to update, which makes their
// INSERT a third cheaper for the server (a key among them that exists is
// a conflict: another transaction made it, or a sys_id was made twice).
func (t *txn) queueWrites(b *pgx.Batch, news, others keyValues) {
	if len(news.keys) > 0 {
		b.Queue(t.db.sql.insert, byteaArray(news.keys), byteaArray(news.values))
	}
	if len(others.keys) > 0 {
		b.Queue(t.db.sql.upsert, byteaArray(others.keys), byteaArray(others.values))
	}
}

// settle waits for the private writes in flight, if any: their failure
// is the transaction's.
func (t *txn) settle() {
	if t.sending != nil {
		t.sendEnded(<-t.sending)
	}
}

// sendEnded takes the outcome of the send that ended: its failure is the
// transaction's.
func (t *txn) sendEnded(err error) {
	t.sending = nil
	if err != nil && t.err == nil {
		t.err = mapErr(err)
	}
}

// query runs one statement in the transaction, beginning it first (in the
// same round trip) if this is its first. scan reads the rows.
func (t *txn) query(sql string, args []any, scan func(pgx.Rows) error) error {
	if t.done {
		return errDone
	}
	t.settle()
	if t.err != nil {
		return t.err
	}
	b, err := t.batch()
	if err != nil {
		return err
	}
	b.Queue(sql, args...).Query(scan)
	if err := t.conn.SendBatch(context.Background(), b).Close(); err != nil {
		t.err = mapErr(err)
		return t.err
	}
	return nil
}

// batch returns a batch to send on the transaction's connection, taking
// one and queuing the BEGIN first if the transaction has not begun.
func (t *txn) batch() (*pgx.Batch, error) {
	b := &pgx.Batch{}
	if t.conn == nil {
		c, err := t.db.acquire(context.Background(), !t.view)
		if err != nil {
			return nil, mapErr(err)
		}
		t.conn = c
		b.Queue(t.begin)
	}
	return b, nil
}

// maxReads bounds the reads a transaction remembers: enough for the
// identity reads of a batch of a few hundred payloads.
const maxReads = 1 << 15

func (t *txn) Get(key []byte) ([]byte, error) {
	if _, ok := t.adds[string(key)]; ok {
		v, err := t.countNow(key)
		if err == nil && v == nil {
			err = store.ErrNotFound
		}
		return v, err
	}
	v, ok := t.writes[string(key)]
	if !ok {
		v, ok = t.reads[string(key)]
	}
	if ok {
		if v == nil {
			return nil, store.ErrNotFound
		}
		return bytes.Clone(v), nil
	}
	v, err := t.read(key)
	if err != nil {
		return nil, err
	}
	if len(t.reads) < maxReads {
		t.readsMade()
		t.reads[string(key)] = v
	}
	if v == nil {
		return nil, store.ErrNotFound
	}
	return bytes.Clone(v), nil
}

// read reads key from the server: its value, or nil when absent.
func (t *txn) read(key []byte) ([]byte, error) {
	var v []byte
	found := false
	err := t.query(t.db.sql.get, []any{key}, func(rows pgx.Rows) error {
		for rows.Next() {
			found = true
			if err := rows.Scan(&v); err != nil {
				return err
			}
		}
		return nil
	})
	switch {
	case err != nil || !found:
		return nil, err
	case v == nil:
		v = []byte{}
	}
	return v, nil
}

// Prefetch reads the keys not yet read or written in one round trip
// (SELECT … WHERE key = ANY($1)) and remembers them, absent ones too, so
// that their Gets need none.
func (t *txn) Prefetch(keys [][]byte) error {
	_, err := t.prefetch(keys, false, nil)
	return err
}

// PrefetchWithHolders (store.HolderPrefetcher) is Prefetch that also reads,
// in the same round trip, the record of the CI each identity guard among
// keys names as its only holder (the server follows the guard:
// getWithHolders).
func (t *txn) PrefetchWithHolders(keys [][]byte) error {
	_, err := t.prefetch(keys, true, nil)
	return err
}

// PrefetchChain (store.ChainPrefetcher) is PrefetchWithHolders that also
// follows links from the guards it reads, all in one statement (getChain,
// a recursive query): the keys the links lead to are remembered like the
// others, absent ones too, with the records of the guards' holders.
func (t *txn) PrefetchChain(keys [][]byte, links []store.Link) ([][]byte, error) {
	return t.prefetch(keys, true, links)
}

func (t *txn) prefetch(keys [][]byte, holders bool, links []store.Link) ([][]byte, error) {
	var ask [][]byte
	at := make([]int32, len(keys)) // each key's node on the server, -1 when not asked
	seen := map[string]int32{}
	for i, k := range keys {
		at[i] = -1
		if len(t.reads)+len(ask) >= maxReads {
			continue
		}
		if _, ok := t.writes[string(k)]; ok {
			continue
		}
		if _, ok := t.reads[string(k)]; ok {
			continue
		}
		if n, ok := seen[string(k)]; ok {
			at[i] = n
			continue
		}
		if err := store.KeyTooLong(k); err != nil {
			return nil, err
		}
		at[i] = int32(len(ask))
		seen[string(k)] = at[i]
		ask = append(ask, k)
	}
	if len(ask) == 0 {
		return make([][]byte, len(links)), nil
	}
	// Links whose guard is asked, or a link sent, go to the server.
	var guards []int32
	var prefixes, suffixes [][]byte
	sent := make([]int, len(links)) // each link's index among those sent, -1 when not
	for i, l := range links {
		sent[i] = -1
		g := int32(-1)
		switch {
		case l.Guard >= 0 && l.Guard < len(keys):
			g = at[l.Guard]
		case l.Guard >= len(keys) && l.Guard < len(keys)+i && sent[l.Guard-len(keys)] >= 0:
			g = int32(len(ask) + sent[l.Guard-len(keys)])
		}
		if g < 0 {
			continue
		}
		sent[i] = len(guards)
		guards = append(guards, g)
		prefixes, suffixes = append(prefixes, l.Prefix), append(suffixes, l.Suffix)
	}
	found := map[string][]byte{}
	followed := make([][]byte, len(guards))
	var absent [][]byte
	scan := func(rows pgx.Rows) error {
		for rows.Next() {
			var node int32
			var k, v []byte
			present := true
			var err error
			if links == nil {
				err = rows.Scan(&k, &v)
			} else {
				err = rows.Scan(&node, &k, &v, &present)
			}
			if err != nil {
				return err
			}
			if node >= int32(len(ask)) {
				followed[int(node)-len(ask)] = k
			}
			if !present {
				absent = append(absent, k)
				continue
			}
			if v == nil {
				v = []byte{}
			}
			found[string(k)] = v
		}
		return nil
	}
	sql, args := t.db.sql.getMany, []any{byteaArray(ask)}
	switch {
	case links != nil:
		sql, args = t.db.sql.getChain, []any{byteaArray(ask), guards, byteaArray(prefixes), byteaArray(suffixes),
			store.CIPrefix(), store.IdentityPrefix(), successor(store.IdentityPrefix())}
	case holders:
		sql, args = t.db.sql.getWithHolders, []any{byteaArray(ask), store.CIPrefix(), store.IdentityPrefix(), successor(store.IdentityPrefix())}
	}
	if err := t.query(sql, args, scan); err != nil {
		return nil, err // nothing remembered: the failed read answers no Get
	}
	t.readsMade()
	for _, k := range ask {
		t.reads[string(k)] = found[string(k)] // nil: absent
		delete(found, string(k))
	}
	for _, k := range absent {
		t.remember(k, nil)
	}
	for k, v := range found { // the holders' records and the links' keys
		t.remember([]byte(k), v)
	}
	out := make([][]byte, len(links))
	for i, s := range sent {
		if s >= 0 {
			out[i] = followed[s]
		}
	}
	return out, nil
}

// remember keeps what the server answered for a key the transaction did
// not ask for by name, unless it read or wrote the key already.
func (t *txn) remember(k, v []byte) {
	if _, ok := t.writes[string(k)]; ok {
		return
	}
	if _, read := t.reads[string(k)]; !read && len(t.reads) < maxReads {
		t.reads[string(k)] = v
	}
}

// NoteAbsent (store.AbsenceNoter) remembers key as absent on the server
// unless the transaction read or wrote it already. Not reading it takes no
// predicate lock on it, which is safe: no other transaction can write a
// key under a sys_id only this one knows.
func (t *txn) NoteAbsent(key []byte) {
	if _, ok := t.writes[string(key)]; ok {
		return
	}
	if _, ok := t.reads[string(key)]; ok || len(t.reads) >= maxReads {
		return
	}
	t.readsMade()
	t.reads[string(key)] = nil
}

func (t *txn) Iterate(prefix []byte, fn func(key, value []byte) error) error {
	return t.IterateFrom(prefix, prefix, fn)
}

func (t *txn) IterateFrom(prefix, start []byte, fn func(key, value []byte) error) error {
	if bytes.Compare(start, prefix) < 0 {
		start = prefix
	}
	own, err := t.pendingUnder(prefix)
	if err != nil {
		return err
	}
	for len(own) > 0 && bytes.Compare(own[0].key, start) < 0 {
		own = own[1:]
	}
	visit := func(k, v []byte) (bool, error) {
		if err := fn(k, v); err != nil {
			if errors.Is(err, store.ErrStop) {
				return true, nil
			}
			return true, err
		}
		return false, nil
	}
	// flushOwn visits the pending writes ordered before key (all of them
	// when key is nil) and drops them from own.
	flushOwn := func(key []byte) (bool, error) {
		for len(own) > 0 && (key == nil || bytes.Compare(own[0].key, key) < 0) {
			w := own[0]
			own = own[1:]
			if w.value == nil {
				continue
			}
			if stop, err := visit(w.key, w.value); stop {
				return true, err
			}
		}
		return false, nil
	}
	end := successor(prefix)
	from, limit := start, firstPage
	if from == nil {
		from = []byte{} // nil would be NULL to the server, and no key is >= NULL
	}
	for {
		var keys, values [][]byte
		sql, args := t.db.sql.scanOpen, []any{from, limit}
		if end != nil {
			sql, args = t.db.sql.scanBounded, []any{from, end, limit}
		}
		err := t.query(sql, args, func(rows pgx.Rows) error {
			for rows.Next() {
				var k, v []byte
				if err := rows.Scan(&k, &v); err != nil {
					return err
				}
				keys, values = append(keys, k), append(values, v)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for i, k := range keys {
			if stop, err := flushOwn(k); stop {
				return err
			}
			v := values[i]
			if len(own) > 0 && bytes.Equal(own[0].key, k) {
				v = own[0].value
				own = own[1:]
				if v == nil {
					continue // deleted in this transaction
				}
			}
			if stop, err := visit(k, v); stop {
				return err
			}
		}
		if len(keys) < limit {
			break
		}
		// The smallest key after the last one read.
		from = append(bytes.Clone(keys[len(keys)-1]), 0)
		limit = min(4*limit, maxPage)
	}
	_, err = flushOwn(nil)
	return err
}

type pendingWrite struct{ key, value []byte }

// pendingUnder returns the pending writes under prefix in key order,
// counts with additions pending (countsUnder) among them.
func (t *txn) pendingUnder(prefix []byte) ([]pendingWrite, error) {
	out, err := t.countsUnder(prefix)
	if err != nil {
		return nil, err
	}
	for k, v := range t.writes {
		if _, counted := t.adds[k]; !counted && strings.HasPrefix(k, string(prefix)) {
			out = append(out, pendingWrite{[]byte(k), v})
		}
	}
	slices.SortFunc(out, func(a, b pendingWrite) int { return bytes.Compare(a.key, b.key) })
	return out, nil
}

// successor returns the smallest key above every key with the prefix, or
// nil when there is none (the prefix is empty or all 0xff).
func successor(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

func (t *txn) Set(key, value []byte) error {
	// A copy, never nil: nil marks a delete, and would be NULL to the server.
	return t.put(key, append(make([]byte, 0, len(value)), value...))
}

func (t *txn) Delete(key []byte) error { return t.put(key, nil) }

// maxPending bounds the bytes of pending writes: Commit sends them as one
// statement, and the server takes at most 1 GiB in one parameter.
const maxPending = 64 << 20

// put records a pending write; value nil deletes.
func (t *txn) put(key, value []byte) error {
	if t.done {
		return errDone
	}
	if err := store.KeyTooLong(key); err != nil {
		return err
	}
	if t.writes == nil {
		t.writes = make(map[string][]byte, t.db.sizes.writes.Load())
	}
	size := t.pending + len(key) + len(value)
	if old, ok := t.writes[string(key)]; ok {
		size -= len(key) + len(old)
	}
	if size > maxPending {
		return store.ErrTxnTooBig
	}
	delete(t.adds, string(key)) // the write replaces the count and what was added
	t.writes[string(key)], t.pending = value, size
	return nil
}

// Commit sends every pending write and the COMMIT in one round trip (with
// the BEGIN too when the transaction never read).
func (t *txn) Commit() error {
	if t.done {
		return errDone
	}
	defer t.Discard()
	t.settle()
	if t.err != nil {
		return t.err
	}
	if len(t.writes) == 0 && len(t.adds) == 0 {
		return nil
	}
	// Keys in order, so that concurrent commits lock rows in one order
	// rather than deadlock.
	var err error
	keys := make([]string, 0, len(t.writes))
	for k := range t.writes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	unsent := make(map[string]bool, len(t.private))
	for _, k := range t.private {
		unsent[string(k)] = true
	}
	var news, others keyValues
	var delKeys [][]byte
	for _, k := range keys {
		v := t.writes[k]
		if d, ok := t.adds[k]; ok {
			if v, err = addCount(k, v, d); err != nil {
				return err
			}
		}
		if v != nil {
			t.sortOut([]byte(k), v, unsent[k] || t.absent[k], &news, &others)
		} else {
			delKeys = append(delKeys, []byte(k))
		}
	}
	b, err := t.batch()
	if err != nil {
		return err
	}
	t.queueWrites(b, news, others)
	if len(delKeys) > 0 {
		b.Queue(t.db.sql.delete, byteaArray(delKeys))
	}
	t.queueAdds(b)
	b.Queue("COMMIT").Exec(func(tag pgconn.CommandTag) error {
		if tag.String() != "COMMIT" {
			return errRolledBack
		}
		return nil
	})
	if err := mapErr(t.conn.SendBatch(context.Background(), b).Close()); err != nil {
		return err
	}
	t.db.wrote(len(keys))
	return nil
}

// readsMade makes the map of reads, at the size of the last transaction's.
func (t *txn) readsMade() {
	if t.reads == nil {
		t.reads = make(map[string][]byte, t.db.sizes.reads.Load())
	}
}

// Discard rolls the server transaction back, if it began, and returns the
// connection to the pool. Safe after Commit and more than once.
func (t *txn) Discard() {
	t.settle() // the connection is not ours to return while a send is in flight
	if !t.view && !t.done {
		t.db.sizes.keep(len(t.writes), len(t.reads))
	}
	t.done, t.writes, t.reads, t.adds, t.absent = true, nil, nil, nil, nil
	t.private, t.sent = nil, nil
	c := t.conn
	if c == nil {
		return
	}
	t.conn = nil
	if c.Conn().PgConn().TxStatus() != 'I' {
		// On failure the connection is still in a transaction, and the
		// pool closes it instead of reusing it.
		c.Exec(context.Background(), "ROLLBACK")
	}
	t.db.release(c, !t.view)
}

// snapshot is the read-only face of a View's transaction.
type snapshot struct{ t *txn }

func (s snapshot) Get(key []byte) ([]byte, error) { return s.t.Get(key) }
func (s snapshot) Iterate(prefix []byte, fn func(key, value []byte) error) error {
	return s.t.Iterate(prefix, fn)
}
func (s snapshot) IterateFrom(prefix, start []byte, fn func(key, value []byte) error) error {
	return s.t.IterateFrom(prefix, start, fn)
}

// IterateReverse walks a View's keys backwards (store.ReverseReader); a
// View has no writes of its own to merge.
func (s snapshot) IterateReverse(prefix, before []byte, fn func(key, value []byte) error) error {
	t := s.t
	end := successor(prefix)
	if before != nil && (end == nil || bytes.Compare(before, end) < 0) {
		end = before
	}
	if end == nil {
		end = bytes.Repeat([]byte{0xff}, store.MaxKeyLen+1) // above every key a store holds
	}
	limit := firstPage
	for bytes.Compare(end, prefix) > 0 {
		var keys, values [][]byte
		err := t.query(t.db.sql.scanBack, []any{prefix, end, limit}, func(rows pgx.Rows) error {
			for rows.Next() {
				var k, v []byte
				if err := rows.Scan(&k, &v); err != nil {
					return err
				}
				keys, values = append(keys, k), append(values, v)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for i, k := range keys {
			if err := fn(k, values[i]); err != nil {
				if errors.Is(err, store.ErrStop) {
					return nil
				}
				return err
			}
		}
		if len(keys) < limit {
			return nil
		}
		end = keys[len(keys)-1] // the next page is below the last key read
		limit = min(4*limit, maxPage)
	}
	return nil
}

var _ store.Txn = (*txn)(nil)
var _ store.Prefetcher = (*txn)(nil)
var _ store.AbsenceNoter = (*txn)(nil)
var _ store.Reader = snapshot{}

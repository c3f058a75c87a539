package badger

import (
	"hash/maphash"

	"github.com/irego/irego/store"
)

// absence is what a write transaction was told no committed transaction
// holds (store.AbsenceNoter): keys under a sys_id only it knows. Reading
// them would still ask every memtable and the bloom filter of every
// level, for an answer known in advance. The transaction's own writes of
// such a key still count, so it remembers fingerprints of what it wrote:
// a key it may have written is never noted absent (a fingerprint shared
// by chance only costs the read).
type absence struct {
	absent  map[string]struct{}
	written map[uint64]struct{}
}

var writtenSeed = maphash.MakeSeed()

// noteWrite records that the transaction set or deleted key.
func (a *absence) noteWrite(key []byte) {
	if a.written == nil {
		a.written = map[uint64]struct{}{}
	}
	a.written[maphash.Bytes(writtenSeed, key)] = struct{}{}
	if len(a.absent) > 0 {
		delete(a.absent, string(key))
	}
}

// isAbsent reports whether key was noted absent and not written since.
func (a *absence) isAbsent(key []byte) bool {
	_, ok := a.absent[string(key)]
	return ok
}

// NoteAbsent (store.AbsenceNoter) remembers key as absent unless the
// transaction may have written it. Not reading it leaves it out of
// Badger's conflict check, which is safe: no other transaction can write
// a key under a sys_id only this one knows.
func (t *txn) NoteAbsent(key []byte) {
	a := &t.absence
	if _, ok := a.written[maphash.Bytes(writtenSeed, key)]; ok {
		return
	}
	if a.absent == nil {
		a.absent = map[string]struct{}{}
	}
	a.absent[string(key)] = struct{}{}
}

// Get answers a key noted absent without asking Badger.
func (t *txn) Get(key []byte) ([]byte, error) {
	if t.absence.isAbsent(key) {
		return nil, store.ErrNotFound
	}
	return t.reader.Get(key)
}

var _ store.AbsenceNoter = (*txn)(nil)

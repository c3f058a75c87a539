package badger_test

import (
	"testing"

	"github.com/irego/irego/store"
	"github.com/irego/irego/store/badger"
	"github.com/irego/irego/store/storetest"
)

// A key noted absent reads as absent without asking Badger, unless the
// transaction wrote it, before or after the note.
func TestNoteAbsent(t *testing.T) {
	db, err := badger.Open(badger.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w := db.NewTxn()
	w.Set([]byte("committed"), []byte("1"))
	w.Set([]byte("deleted"), []byte("1"))
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}

	tx := db.NewTxn()
	defer tx.Discard()
	tx.Set([]byte("written"), []byte("mine"))
	tx.Delete([]byte("deleted"))
	an := tx.(store.AbsenceNoter)
	for _, k := range []string{"fresh", "written", "deleted", "committed", "later", "gone"} {
		an.NoteAbsent([]byte(k))
	}
	tx.Set([]byte("later"), []byte("after the note"))
	tx.Set([]byte("gone"), []byte("x"))
	tx.Delete([]byte("gone"))
	want := map[string]string{
		"fresh":   "",
		"written": "mine",
		"deleted": "",
		// The engine notes only keys under sys_ids no commit holds; a
		// committed key noted absent shows that Badger was not asked.
		"committed": "",
		"later":     "after the note",
		"gone":      "",
	}
	storetest.ExpectReads(t, tx, want)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	r := db.NewTxn()
	defer r.Discard()
	if v, err := r.Get([]byte("later")); err != nil || string(v) != "after the note" {
		t.Errorf("after the commit, Get(later) = %q, %v", v, err)
	}
}

package fuzz

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// restoreFunc copies src's store into dst's empty one: backup and
// restore, or a broken variant.
type restoreFunc func(t *rapid.T, src, dst *feedEngine) error

func backupRestore(t *rapid.T, src, dst *feedEngine) error {
	var buf bytes.Buffer
	if err := src.Backup(&buf); err != nil {
		return err
	}
	return dst.Restore(&buf)
}

// Differential property 4: backup and restore are the identity. After a
// feed sequence (and maybe a merge or a stale clean-up) on Badger on disk,
// a backup restored into an empty store on disk holds every key and value
// of the original, and the next payload, applied to both with the same
// clock and sys_ids, answers the same and leaves the same stores.
func TestPropBackupRestoreIsTheIdentity(t *testing.T) {
	t.Parallel()
	src, dst := openShared(t, nil), openShared(t, nil)
	rapid.Check(t, func(t *rapid.T) {
		if v := checkBackupRestore(t, src.fresh(t), dst, backupRestore); v != "" {
			t.Fatal(v)
		}
	})
}

// checkBackupRestore returns the first way the restored store differs
// from the original ("" when none does).
func checkBackupRestore(t *rapid.T, src, dst *feedEngine, restore restoreFunc) string {
	for _, s := range feedSteps(t, 3) {
		applyStep(t, src.Engine, s)
	}
	maintain(t, src, src.clock.between())
	dst.fresh(t)
	if err := restore(t, src, dst); err != nil {
		t.Fatalf("backup and restore: %v", err)
	}
	if diff := cmp.Diff(dump(t, src.Engine), dump(t, dst.Engine), cmp.AllowUnexported(kv{})); diff != "" {
		return fmt.Sprintf("the restored store differs (-original +restored):\n%s", diff)
	}
	checkStore(t, dst.Engine)
	dst.clock.ticks.Store(src.clock.ticks.Load())
	dst.ids.n.Store(src.ids.n.Load())
	next := feedSteps(t, 1)[0]
	ra, rb := applyStep(t, src.Engine, next), applyStep(t, dst.Engine, next)
	if diff := cmp.Diff(decoded(t, jsonOf(ra)), decoded(t, jsonOf(rb))); diff != "" {
		return fmt.Sprintf("the next payload answers differently (-original +restored):\n%s\npayload: %s", diff, jsonOf(next.p))
	}
	if diff := cmp.Diff(withoutSeq(dump(t, src.Engine)), withoutSeq(dump(t, dst.Engine)), cmp.AllowUnexported(kv{})); diff != "" {
		return fmt.Sprintf("after the next payload the stores differ (-original +restored):\n%s\npayload: %s", diff, jsonOf(next.p))
	}
	return ""
}

// A restore that loses one kind of key (when each source last reported
// each CI) is caught.
func TestBackupCatchesARestoreLosingSources(t *testing.T) {
	t.Parallel()
	src, dst := openShared(t, nil), openShared(t, nil)
	catches(t, func(t *rapid.T) string {
		return checkBackupRestore(t, src.fresh(t), dst, func(t *rapid.T, src, dst *feedEngine) error {
			if err := backupRestore(t, src, dst); err != nil {
				return err
			}
			emptied(t, dst.Store(), []byte(sourcePrefix))
			return nil
		})
	})
}

package engine_test

import (
	"bytes"
	"context"
	"testing"
)

func TestBackupRestore(t *testing.T) {
	src := openDisk(t)
	res := apply(t, src, byol(t))
	var buf bytes.Buffer
	if err := src.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	dst := openDisk(t)
	if err := dst.Restore(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	checkClean(t, dst)
	want, err := src.Get(context.Background(), res.Items[0].SysID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := dst.Get(context.Background(), res.Items[0].SysID)
	if err != nil || mustJSON(got) != mustJSON(want) {
		t.Fatalf("restored CI differs: %v\n%s\n%s", err, mustJSON(got), mustJSON(want))
	}
	if again := apply(t, dst, byol(t)); ops(again) != "NO_CHANGE related:NO_CHANGE NO_CHANGE NO_CHANGE NO_CHANGE NO_CHANGE rel:NO_CHANGE rel:NO_CHANGE rel:NO_CHANGE rel:NO_CHANGE" {
		t.Fatalf("the restored store answers as before: %s", ops(again))
	}
	if err := dst.Restore(bytes.NewReader(buf.Bytes())); err == nil {
		t.Fatal("restoring into a store that holds CIs must fail")
	}
}

package transfer_test

import (
	"os"
	"testing"

	"github.com/irego/irego/transfer"
)

func TestZZProf(t *testing.T) {
	dir := os.Getenv("ZZ_EXPORT")
	if dir == "" {
		t.Skip()
	}
	e := open(t, t.TempDir())
	importDir(t, e, dir, transfer.ImportOptions{})
}

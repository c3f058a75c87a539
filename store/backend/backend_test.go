package backend_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irego/irego/internal/pgtest"
	"github.com/irego/irego/store"
	"github.com/irego/irego/store/backend"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// Every spelling opens a working store.
func TestOpenURL(t *testing.T) {
	dir := t.TempDir()
	for _, spec := range []string{filepath.Join(dir, "plain"), "badger:" + filepath.Join(dir, "spelled"), pgtest.DSN(t)} {
		st, err := backend.OpenURL(context.Background(), spec, false)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		if err := store.CheckSchema(st); err != nil {
			t.Errorf("%s: %v", spec, err)
		}
		if err := st.Close(); err != nil {
			t.Errorf("%s: close: %v", spec, err)
		}
	}
}

func TestOpenURLRefusesAndRedacts(t *testing.T) {
	for spec, want := range map[string]string{
		"":                            "no store given",
		"badger:":                     "no directory",
		"mysql://u:secret@h/db":       `unknown kind "mysql"`,
		"postgres://u:secret@[::1/db": "open store",
	} {
		_, err := backend.OpenURL(context.Background(), spec, false)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("OpenURL(%q) = %v, want an error with %q", spec, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("OpenURL(%q): the error shows the password: %v", spec, err)
		}
	}
}

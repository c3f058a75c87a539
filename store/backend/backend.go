package backend

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/irego/irego/store"
	"github.com/irego/irego/store/badger"
	"github.com/irego/irego/store/postgres"
)

// OpenURL opens (creating if needed) the store spec names. syncWrites makes
// every commit wait until it is on stable storage.
func OpenURL(ctx context.Context, spec string, syncWrites bool) (store.Store, error) {
	return open(ctx, spec, syncWrites, false)
}

// OpenReadOnly opens the existing store spec names for reading only: a
// Badger directory is opened read-only and never changed (PostgreSQL is
// opened as usual; the caller writes nothing).
func OpenReadOnly(ctx context.Context, spec string) (store.Store, error) {
	return open(ctx, spec, false, true)
}

func open(ctx context.Context, spec string, syncWrites, readOnly bool) (store.Store, error) {
	switch {
	case spec == "":
		return nil, errors.New("no store given: want a directory, badger:DIR or postgres://…")
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		st, err := postgres.Open(ctx, spec, postgres.Options{SyncWrites: syncWrites})
		if err != nil {
			return nil, fmt.Errorf("open store %s: %w", Redact(spec), err)
		}
		return st, nil
	case strings.Contains(spec, "://"):
		scheme, _, _ := strings.Cut(spec, "://")
		return nil, fmt.Errorf("store %s: unknown kind %q: want a directory, badger:DIR or postgres://…", Redact(spec), scheme)
	}
	dir := strings.TrimPrefix(spec, "badger:")
	if dir == "" {
		return nil, errors.New("store badger: no directory given")
	}
	st, err := badger.Open(badger.Options{Dir: dir, SyncWrites: syncWrites, ReadOnly: readOnly})
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	return st, nil
}

// Redact returns spec with any password replaced, for logs and messages.
func Redact(spec string) string {
	u, err := url.Parse(spec)
	switch {
	case err == nil && u.User != nil:
		return u.Redacted()
	case err != nil && strings.Contains(spec, "@"):
		// Unparsable: keep only what follows the user information.
		scheme, rest, _ := strings.Cut(spec, "://")
		return scheme + "://xxxxx@" + rest[strings.LastIndex(rest, "@")+1:]
	}
	return spec
}

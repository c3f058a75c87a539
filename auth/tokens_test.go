package auth_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/irego/irego/auth"
	"github.com/irego/irego/store"
	"github.com/irego/irego/store/badger"
)

func TestTokens(t *testing.T) {
	users := newUsers(t)
	if _, err := users.Add("ann", "ann-password", []string{"view_license_metrics"}); err != nil {
		t.Fatal(err)
	}
	tok, err := users.Token("ann")
	if err != nil || len(tok) != 40 {
		t.Fatalf("Token = %q, %v", tok, err)
	}
	// Only digests are kept, so a second request makes a second token;
	// both work until the password changes.
	again, _ := users.Token("ann")
	if again == tok || len(again) != 40 {
		t.Errorf("second Token = %q, want a new one besides %q", again, tok)
	}
	for _, tk := range []string{tok, again} {
		u, err := users.VerifyToken(tk)
		if err != nil || u.Name != "ann" {
			t.Fatalf("VerifyToken = %v, %v", u, err)
		}
	}
	for _, bad := range []string{"", "0000", tok + "0"} {
		if _, err := users.VerifyToken(bad); !errors.Is(err, auth.ErrBadCredentials) {
			t.Errorf("VerifyToken(%q) = %v", bad, err)
		}
	}
	if _, err := users.Token("nobody"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("Token of a missing user: %v", err)
	}
	// A role change keeps the token; a password change voids it.
	if _, err := users.Update("ann", auth.Change{Roles: []string{"manage_contracts"}}); err != nil {
		t.Fatal(err)
	}
	if u, err := users.VerifyToken(tok); err != nil || !u.HasAnyRole([]string{"manage_contracts"}) {
		t.Errorf("after a role change: %v %v", u, err)
	}
	pw := "new-ann-password"
	if _, err := users.Update("ann", auth.Change{Password: &pw}); err != nil {
		t.Fatal(err)
	}
	for _, tk := range []string{tok, again} {
		if _, err := users.VerifyToken(tk); !errors.Is(err, auth.ErrBadCredentials) {
			t.Errorf("old token after a password change: %v", err)
		}
	}
	next, _ := users.Token("ann")
	if next == tok || next == again {
		t.Error("the token did not change with the password")
	}
	if err := users.Delete("ann"); err != nil {
		t.Fatal(err)
	}
	if _, err := users.VerifyToken(next); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("token of a deleted user: %v", err)
	}
}

// storeHolds reports whether any key or value in st contains s.
func storeHolds(t *testing.T, st store.Store, s string) bool {
	t.Helper()
	found := false
	err := st.View(func(r store.Reader) error {
		return r.Iterate(nil, func(k, v []byte) error {
			found = found || bytes.Contains(k, []byte(s)) || bytes.Contains(v, []byte(s))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// A token is a password: the store (and so every backup) holds only its
// digest. Tokens stored in plain text by older versions are turned into
// digests when the server starts (EnsureAdmin) and keep working.
func TestTokensAtRestAreDigests(t *testing.T) {
	db, err := badger.Open(badger.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	users := auth.New(db)
	users.Cost = bcrypt.MinCost
	if _, err := users.Add("ann", "ann-password", []string{auth.Admin}); err != nil {
		t.Fatal(err)
	}
	tok, err := users.Token("ann")
	if err != nil {
		t.Fatal(err)
	}
	if storeHolds(t, db, tok) {
		t.Fatalf("the store holds the token %s in plain text", tok)
	}

	// A record as an older version wrote it: the token in plain text.
	const legacy = "0123456789abcdef0123456789abcdef01234567"
	if _, err := users.Add("bob", "bob-password", []string{"view_license_metrics"}); err != nil {
		t.Fatal(err)
	}
	txn := db.NewTxn()
	b, err := txn.Get(store.UserKey("bob"))
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	rec["api_token"] = legacy
	b, _ = json.Marshal(rec)
	txn.Set(store.UserKey("bob"), b)
	sum := auth.Digest(legacy)
	txn.Set(store.TokenKey(sum), []byte("bob"))
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := users.EnsureAdmin(""); err != nil {
		t.Fatal(err)
	}
	if storeHolds(t, db, legacy) {
		t.Error("the plain-text token of an older version is still stored after EnsureAdmin")
	}
	if u, err := users.VerifyToken(legacy); err != nil || u.Name != "bob" {
		t.Errorf("the older token no longer works: %v %v", u, err)
	}
}

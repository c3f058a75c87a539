package auth_test

import (
	"errors"
	"testing"

	"github.com/irego/irego/auth"
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
	if again, _ := users.Token("ann"); again != tok {
		t.Errorf("second Token = %q, want the first %q", again, tok)
	}
	u, err := users.VerifyToken(tok)
	if err != nil || u.Name != "ann" {
		t.Fatalf("VerifyToken = %v, %v", u, err)
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
	if _, err := users.VerifyToken(tok); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("old token after a password change: %v", err)
	}
	next, _ := users.Token("ann")
	if next == tok {
		t.Error("the token did not change with the password")
	}
	if err := users.Delete("ann"); err != nil {
		t.Fatal(err)
	}
	if _, err := users.VerifyToken(next); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("token of a deleted user: %v", err)
	}
}

package auth_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/bcrypt"

	"github.com/irego/irego/auth"
	"github.com/irego/irego/store/badger"
)

func newUsers(t *testing.T) *auth.Users {
	t.Helper()
	db, err := badger.Open(badger.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	u := auth.New(db)
	u.Cost = bcrypt.MinCost
	return u
}

func TestAddVerify(t *testing.T) {
	users := newUsers(t)
	u, err := users.Add("sam", "sam-password", []string{"sam_developer", "itil", "itil"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"itil", "sam_developer"}, u.Roles); diff != "" {
		t.Errorf("roles sorted without repeats (-want +got):\n%s", diff)
	}
	for range 2 { // the second check takes the remembered pass
		got, err := users.Verify("sam", "sam-password")
		if err != nil || got.Name != "sam" {
			t.Fatalf("Verify = %v, %v", got, err)
		}
	}
	for _, c := range []struct{ name, pw string }{{"sam", "wrong-password"}, {"nobody", "sam-password"}, {"sam", ""}} {
		if _, err := users.Verify(c.name, c.pw); !errors.Is(err, auth.ErrBadCredentials) {
			t.Errorf("Verify(%q, %q) = %v, want ErrBadCredentials", c.name, c.pw, err)
		}
	}
	if _, err := users.Add("sam", "other-password", []string{"itil"}); !errors.Is(err, auth.ErrExists) {
		t.Errorf("second Add = %v, want ErrExists", err)
	}
}

func TestPasswordChangeVoidsRememberedPass(t *testing.T) {
	users := newUsers(t)
	if _, err := users.Add("ann", "first-password", []string{"itil"}); err != nil {
		t.Fatal(err)
	}
	if _, err := users.Verify("ann", "first-password"); err != nil {
		t.Fatal(err)
	}
	pw := "second-password"
	if _, err := users.Update("ann", auth.Change{Password: &pw}); err != nil {
		t.Fatal(err)
	}
	if _, err := users.Verify("ann", "first-password"); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("old password after change: %v, want ErrBadCredentials", err)
	}
	u, err := users.Verify("ann", pw)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"itil"}, u.Roles); diff != "" {
		t.Errorf("a password change keeps the roles (-want +got):\n%s", diff)
	}
	if _, err := users.Update("ann", auth.Change{Roles: []string{"asset"}}); err != nil {
		t.Fatal(err)
	}
	if u, _ := users.Verify("ann", pw); !u.HasAnyRole([]string{"asset"}) || u.HasAnyRole([]string{"itil"}) {
		t.Errorf("roles after change: %v", u.Roles)
	}
}

func TestLastAdmin(t *testing.T) {
	users := newUsers(t)
	pw, err := users.EnsureAdmin("")
	if err != nil || len(pw) < auth.MinPasswordLen {
		t.Fatalf("EnsureAdmin = %q, %v", pw, err)
	}
	if again, err := users.EnsureAdmin("ignored-password"); again != "" || err != nil {
		t.Errorf("EnsureAdmin with an admin present = %q, %v; want no change", again, err)
	}
	u, err := users.Verify(auth.AdminName, pw)
	if err != nil || !u.HasAnyRole([]string{"anything"}) {
		t.Fatalf("admin: %v, %v", u, err)
	}
	if err := users.Delete(auth.AdminName); !errors.Is(err, auth.ErrLastAdmin) {
		t.Errorf("deleting the last admin: %v", err)
	}
	if _, err := users.Update(auth.AdminName, auth.Change{Roles: []string{"itil"}}); !errors.Is(err, auth.ErrLastAdmin) {
		t.Errorf("demoting the last admin: %v", err)
	}
	if _, err := users.Add("root", "root-password", []string{auth.Admin}); err != nil {
		t.Fatal(err)
	}
	if err := users.Delete(auth.AdminName); err != nil {
		t.Errorf("deleting one of two admins: %v", err)
	}
	if err := users.Delete(auth.AdminName); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("deleting a deleted user: %v", err)
	}
	list, err := users.List()
	if err != nil || len(list) != 1 || list[0].Name != "root" {
		t.Errorf("List = %v, %v", list, err)
	}
}

func TestInvalid(t *testing.T) {
	users := newUsers(t)
	for _, c := range []struct {
		name, pw string
		roles    []string
	}{
		{"", "long-enough", []string{"itil"}},
		{"a:b", "long-enough", []string{"itil"}},
		{"ann", "short", []string{"itil"}},
		{"ann", string(make([]byte, auth.MaxPasswordLen+1)), []string{"itil"}},
		{"ann", "long-enough", nil},
		{"ann", "long-enough", []string{"Bad Role"}},
	} {
		var invalid *auth.InvalidError
		if _, err := users.Add(c.name, c.pw, c.roles); !errors.As(err, &invalid) {
			t.Errorf("Add(%q, %d bytes, %q) = %v, want *InvalidError", c.name, len(c.pw), c.roles, err)
		}
	}
	if err := auth.UnknownRoles([]string{"itil", "wizard"}, []string{"admin", "itil"}); err == nil {
		t.Error("UnknownRoles accepted wizard")
	}
}

package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/irego/irego/store"
)

// Admin is the role that passes every role check.
const Admin = "admin"

// AdminName is the user the server creates on first start.
const AdminName = "admin"

// Limits on what a user record may hold.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 72 // bcrypt reads no further
	maxNameLen     = 64
)

// Sentinel errors.
var (
	// ErrBadCredentials: no such user, or the password is wrong. Verify
	// never says which.
	ErrBadCredentials = errors.New("auth: bad credentials")
	ErrNotFound       = errors.New("auth: no such user")
	ErrExists         = errors.New("auth: user already exists")
	// ErrLastAdmin: the change would leave no user with the admin role.
	ErrLastAdmin = errors.New("auth: this is the last user with the admin role")
	// ErrVersionMismatch: a conditional change found the user at another
	// version than the one the caller read.
	ErrVersionMismatch = errors.New("auth: the user changed since it was read")
)

// User is a user account as callers see it (never with its password hash).
type User struct {
	Name    string    `json:"name"`
	Roles   []string  `json:"roles"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	// Version counts the user's changes: 1 when added, one more with each
	// update (0 for users stored before versions were kept). The server
	// makes its ETag of it.
	Version uint64 `json:"version"`
}

// HasAnyRole reports whether u holds Admin or one of roles.
func (u *User) HasAnyRole(roles []string) bool {
	return slices.Contains(u.Roles, Admin) || slices.ContainsFunc(roles, func(r string) bool { return slices.Contains(u.Roles, r) })
}

// record is the stored form of a user.
type record struct {
	User
	Hash string `json:"password_hash"`
	// TokenDigests are the digests of the user's API tokens (tokens.go).
	TokenDigests []string `json:"api_token_digests,omitempty"`
	// Token is an API token in plain text, as older versions kept it: read
	// only to be replaced by its digest.
	Token string `json:"api_token,omitempty"`
}

// Users reads and writes user accounts in a store. Safe for concurrent use.
type Users struct {
	st store.Store
	// Cost is the bcrypt cost of new hashes; 0 means bcrypt.DefaultCost.
	// Tests lower it to bcrypt.MinCost.
	Cost int
	// Throttle slows down and locks out failed sign-ins (SignIn).
	Throttle *Throttle
	// OnThrottle, when not nil, hears of each delay or lockout SignIn
	// starts, for the log, with SignIn's context (which names the request).
	OnThrottle func(context.Context, error)
	// key keys the digests of passwords that passed (see the package doc);
	// random per process, so a digest is worthless outside it.
	key    [32]byte
	mu     sync.Mutex
	passed map[string]pass
	// checking holds the bcrypt checks under way, by user, hash and
	// password digest: requests that bring the same credentials at the
	// same moment (clients starting together) wait for one check.
	checking map[string]*check
	compares atomic.Int64 // bcrypt checks made, for tests
	dummy    []byte       // a hash to check unknown names against, so they take as long
	once     sync.Once
}

// check is one bcrypt check under way; ok is set before done closes.
type check struct {
	done chan struct{}
	ok   bool
}

// pass is a password that passed Verify against hash.
type pass struct {
	hash string
	mac  []byte
}

// New returns the user accounts kept in st.
func New(st store.Store) *Users {
	u := &Users{st: st, passed: map[string]pass{}, checking: map[string]*check{}, Throttle: &Throttle{}}
	if _, err := rand.Read(u.key[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return u
}

// Add creates a user. It returns ErrExists when the name is taken.
func (u *Users) Add(name, password string, roles []string) (*User, error) {
	roles, err := checkUser(name, password, roles)
	if err != nil {
		return nil, err
	}
	hash, err := u.hash(password)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	rec := &record{User: User{Name: name, Roles: roles, Created: now, Updated: now, Version: 1}, Hash: hash}
	err = u.write(func(txn store.Txn) error {
		if _, err := txn.Get(store.UserKey(name)); err == nil {
			return ErrExists
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return put(txn, rec)
	})
	if err != nil {
		return nil, err
	}
	return rec.copyUser(), nil
}

// Change says what Update changes; nil fields stay as they are.
type Change struct {
	Password *string
	Roles    []string
	// IfVersion, when not nil, makes the change conditional: the user must
	// be at that version, else Update fails with ErrVersionMismatch.
	IfVersion *uint64
}

// Update changes a user's password and/or roles, all or nothing. Taking
// Admin from the last admin fails with ErrLastAdmin.
func (u *Users) Update(name string, c Change) (*User, error) {
	var hash string
	if c.Password != nil {
		if err := checkPassword(*c.Password); err != nil {
			return nil, err
		}
		var err error
		if hash, err = u.hash(*c.Password); err != nil {
			return nil, err
		}
	}
	roles := c.Roles
	if roles != nil {
		var err error
		if roles, err = checkRoles(roles); err != nil {
			return nil, err
		}
	}
	var out *User
	err := u.write(func(txn store.Txn) error {
		rec, err := get(txn, name)
		if err != nil {
			return err
		}
		if c.IfVersion != nil && *c.IfVersion != rec.Version {
			return ErrVersionMismatch
		}
		if roles != nil && slices.Contains(rec.Roles, Admin) && !slices.Contains(roles, Admin) {
			if err := otherAdmin(txn, name); err != nil {
				return err
			}
		}
		if roles != nil {
			rec.Roles = roles
		}
		if hash != "" {
			rec.Hash = hash
			if err := dropToken(txn, rec); err != nil { // a new password voids the old token
				return err
			}
		}
		rec.Updated = time.Now().UTC()
		rec.Version++
		out = rec.copyUser()
		return put(txn, rec)
	})
	return out, err
}

// Delete removes a user. Removing the last admin fails with ErrLastAdmin.
func (u *Users) Delete(name string) error { return u.DeleteIf(name, nil) }

// DeleteIf removes a user when ifVersion is nil or names its version, and
// fails with ErrVersionMismatch otherwise.
func (u *Users) DeleteIf(name string, ifVersion *uint64) error {
	return u.write(func(txn store.Txn) error {
		rec, err := get(txn, name)
		if err != nil {
			return err
		}
		if ifVersion != nil && *ifVersion != rec.Version {
			return ErrVersionMismatch
		}
		if slices.Contains(rec.Roles, Admin) {
			if err := otherAdmin(txn, name); err != nil {
				return err
			}
		}
		if err := dropToken(txn, rec); err != nil {
			return err
		}
		return txn.Delete(store.UserKey(name))
	})
}

// Get returns one user, or ErrNotFound.
func (u *Users) Get(name string) (*User, error) {
	rec, err := u.get(name)
	if err != nil {
		return nil, err
	}
	return rec.copyUser(), nil
}

// List returns every user, by name.
func (u *Users) List() ([]User, error) {
	var out []User
	err := u.st.View(func(r store.Reader) error {
		return eachUser(r, func(rec *record) error {
			out = append(out, *rec.copyUser())
			return nil
		})
	})
	return out, err
}

// Verify returns the user when password is theirs, else ErrBadCredentials.
// It reads the user's record on every call, so role changes apply at once.
func (u *Users) Verify(name, password string) (*User, error) {
	rec, err := u.get(name)
	if errors.Is(err, ErrNotFound) {
		u.once.Do(func() { u.dummy, _ = bcrypt.GenerateFromPassword([]byte("irego-no-such-user"), u.cost()) })
		_ = bcrypt.CompareHashAndPassword(u.dummy, []byte(password))
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	mac := u.mac(name, password)
	key := name + "\x00" + rec.Hash + "\x00" + string(mac)
	u.mu.Lock()
	p, ok := u.passed[name]
	passed := ok && p.hash == rec.Hash && hmac.Equal(p.mac, mac)
	c, waiting := u.checking[key]
	if !waiting && !passed {
		c = &check{done: make(chan struct{})}
		u.checking[key] = c
	}
	u.mu.Unlock()
	switch {
	case passed:
		return rec.copyUser(), nil
	case waiting:
		<-c.done
	default:
		u.compares.Add(1)
		c.ok = len(password) <= MaxPasswordLen && bcrypt.CompareHashAndPassword([]byte(rec.Hash), []byte(password)) == nil
		u.mu.Lock()
		delete(u.checking, key)
		if c.ok {
			u.passed[name] = pass{hash: rec.Hash, mac: mac}
		}
		u.mu.Unlock()
		close(c.done)
	}
	if !c.ok {
		return nil, ErrBadCredentials
	}
	return rec.copyUser(), nil
}

// EnsureAdmin makes sure some user holds the Admin role. When none does (a
// new store), it creates the user AdminName with password, or with a random
// password when password is empty, and returns the password it used;
// otherwise it creates nothing and returns "". It also replaces API tokens
// that older versions stored in plain text by their digests.
func (u *Users) EnsureAdmin(password string) (string, error) {
	if err := u.forgetPlainTokens(); err != nil {
		return "", err
	}
	users, err := u.List()
	if err != nil {
		return "", err
	}
	for _, x := range users {
		if slices.Contains(x.Roles, Admin) {
			return "", nil
		}
	}
	if password == "" {
		password = RandomPassword()
	}
	if _, err := u.Add(AdminName, password, []string{Admin}); err != nil {
		if errors.Is(err, ErrExists) {
			return "", fmt.Errorf("auth: no user has the admin role and the name %q is taken by a user without it; give it the role with `irego users add --replace`", AdminName)
		}
		return "", err
	}
	return password, nil
}

// RandomPassword returns 24 random URL-safe characters.
func RandomPassword() string {
	var b [18]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (u *Users) cost() int {
	if u.Cost == 0 {
		return bcrypt.DefaultCost
	}
	return u.Cost
}

func (u *Users) hash(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), u.cost())
	return string(h), err
}

func (u *Users) mac(name, password string) []byte {
	m := hmac.New(sha256.New, u.key[:])
	m.Write([]byte(name))
	m.Write([]byte{0})
	m.Write([]byte(password))
	return m.Sum(nil)
}

func (u *Users) get(name string) (*record, error) {
	var rec *record
	err := u.st.View(func(r store.Reader) (err error) {
		rec, err = get(r, name)
		return err
	})
	return rec, err
}

// write runs fn in one transaction and commits it, running it again on a
// fresh transaction while concurrent changes conflict with it (fn reads
// what it changes, so a rerun sees the other change). After a few attempts
// it returns store.ErrConflict.
func (u *Users) write(fn func(store.Txn) error) error {
	for attempt := 1; ; attempt++ {
		err := u.writeOnce(fn)
		if !errors.Is(err, store.ErrConflict) || attempt == 10 {
			return err
		}
	}
}

func (u *Users) writeOnce(fn func(store.Txn) error) error {
	txn := u.st.NewTxn()
	defer txn.Discard()
	if err := fn(txn); err != nil {
		return err
	}
	return txn.Commit()
}

func get(r store.Reader, name string) (*record, error) {
	b, err := r.Get(store.UserKey(name))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("auth: corrupt user record %q: %w", name, err)
	}
	return &rec, nil
}

func put(txn store.Txn, rec *record) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return txn.Set(store.UserKey(rec.Name), b)
}

func eachUser(r store.Reader, fn func(*record) error) error {
	return r.Iterate(store.UserPrefix(), func(k, v []byte) error {
		var rec record
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("auth: corrupt user record %q: %w", k, err)
		}
		return fn(&rec)
	})
}

// otherAdmin returns ErrLastAdmin unless a user other than name holds Admin.
func otherAdmin(r store.Reader, name string) error {
	found := false
	err := eachUser(r, func(rec *record) error {
		if rec.Name != name && slices.Contains(rec.Roles, Admin) {
			found = true
			return store.ErrStop
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !found {
		return ErrLastAdmin
	}
	return nil
}

func (rec *record) copyUser() *User {
	c := rec.User
	c.Roles = slices.Clone(rec.Roles)
	return &c
}

package license

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// AllComputers is the id of the root computer group, which holds every
// computer system.
const (
	AllComputers     = 0
	AllComputersName = "All Computers"
)

// Group is a computer group: the computer systems whose values satisfy its
// condition and those of every group above it. Users are the users granted
// the group (and so the groups below it).
type Group struct {
	ID int `json:"id"`
	// ParentID is the group above; nil only for All Computers.
	ParentID  *int   `json:"parent_id"`
	Name      string `json:"name"`
	Condition string `json:"condition,omitempty"`
	// Users are the users granted the group.
	Users []string `json:"users"`
}

// GroupChange creates or changes a group: the one with ID, else the one
// named Name, else a new one. Nil fields stay as they are (a new group goes
// under All Computers).
type GroupChange struct {
	ID        *int      `json:"id"`
	Name      *string   `json:"name"`
	ParentID  *int      `json:"parent_id"`
	Condition *string   `json:"condition"`
	Users     *[]string `json:"users"`
}

// Sentinel errors of group changes.
var (
	ErrNoGroup    = errors.New("license: no such computer group")
	ErrGroupInUse = errors.New("license: the computer group has groups or contracts under it")
)

// InvalidError reports a change that cannot be made, and why.
type InvalidError struct{ Msg string }

// Error returns the reason, prefixed with the package.
func (e *InvalidError) Error() string { return "license: " + e.Msg }

// groups is the computer group tree as stored, with compiled conditions.
type groups struct {
	list  []Group
	conds map[int]*rules.Condition
}

func readGroups(r store.Reader) (*groups, error) {
	g := &groups{list: []Group{{ID: AllComputers, Name: AllComputersName, Users: []string{}}}}
	b, err := r.Get(store.LicenseDocKey("computer_groups"))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if err == nil {
		if err := json.Unmarshal(b, &g.list); err != nil {
			return nil, fmt.Errorf("license: corrupt computer groups: %w", err)
		}
	}
	return g, g.compile()
}

// compile compiles every condition; a bad one is an InvalidError.
func (g *groups) compile() error {
	g.conds = map[int]*rules.Condition{}
	for _, x := range g.list {
		if x.Condition == "" {
			continue
		}
		c, err := rules.CompileCondition(x.Condition)
		if err != nil {
			msg, _, _ := strings.Cut(err.Error(), "\n")
			return &InvalidError{fmt.Sprintf("computer group %q: bad condition %q: %s", x.Name, x.Condition, msg)}
		}
		g.conds[x.ID] = c
	}
	return nil
}

func (g *groups) get(id int) *Group {
	i := slices.IndexFunc(g.list, func(x Group) bool { return x.ID == id })
	if i < 0 {
		return nil
	}
	return &g.list[i]
}

func (g *groups) named(name string) *Group {
	i := slices.IndexFunc(g.list, func(x Group) bool { return x.Name == name })
	if i < 0 {
		return nil
	}
	return &g.list[i]
}

// under reports whether group id is ancestor or the group itself.
func (g *groups) under(id, ancestor int) bool {
	for steps := 0; steps <= len(g.list); steps++ {
		if id == ancestor {
			return true
		}
		x := g.get(id)
		if x == nil || x.ParentID == nil {
			return false
		}
		id = *x.ParentID
	}
	return false
}

// visible returns the groups v may see.
func (g *groups) visible(v Viewer) map[int]bool {
	out := map[int]bool{}
	for _, x := range g.list {
		if v.Admin {
			out[x.ID] = true
			continue
		}
		for _, y := range g.list {
			if slices.Contains(y.Users, v.Name) && g.under(x.ID, y.ID) {
				out[x.ID] = true
			}
		}
	}
	return out
}

// member reports whether cs belongs to group id.
func (g *groups) member(id int, cs *ComputerSystem) bool {
	for steps := 0; steps <= len(g.list); steps++ {
		x := g.get(id)
		if x == nil {
			return false
		}
		if c := g.conds[id]; c != nil {
			if ok, err := c.Eval(cs.Values); err != nil || !ok {
				return false
			}
		}
		if x.ParentID == nil {
			return true
		}
		id = *x.ParentID
	}
	return false
}

// Groups returns the computer groups v may see, by id.
func (m *Manager) Groups(v Viewer) ([]Group, error) {
	var g *groups
	if err := m.st.View(func(r store.Reader) (err error) { g, err = readGroups(r); return err }); err != nil {
		return nil, err
	}
	vis := g.visible(v)
	var out []Group
	for _, x := range g.list {
		if vis[x.ID] {
			x.Users = slices.Clone(x.Users)
			out = append(out, x)
		}
	}
	slices.SortFunc(out, func(a, b Group) int { return a.ID - b.ID })
	return out, nil
}

// Scope checks that v may read group id and returns it; a negative id
// means v's default group: All Computers when v may see it, else the
// first group granted to v. It returns ErrNoGroup when the group does not
// exist or v may not see it.
func (m *Manager) Scope(v Viewer, id int) (*Group, error) {
	var g *groups
	if err := m.st.View(func(r store.Reader) (err error) { g, err = readGroups(r); return err }); err != nil {
		return nil, err
	}
	vis := g.visible(v)
	if id < 0 {
		id = -1
		for _, x := range g.list {
			if vis[x.ID] && (id < 0 || x.ID < id) {
				id = x.ID
			}
		}
	}
	if !vis[id] {
		return nil, ErrNoGroup
	}
	x := *g.get(id)
	x.Users = slices.Clone(x.Users)
	return &x, nil
}

// PutGroups creates or changes computer groups, all or nothing, and
// returns every group.
func (m *Manager) PutGroups(changes []GroupChange) ([]Group, error) {
	err := m.update(func(txn store.Txn) error {
		g, err := readGroups(txn)
		if err != nil {
			return err
		}
		for i, c := range changes {
			if err := g.apply(c); err != nil {
				return fmt.Errorf("group %d: %w", i+1, err)
			}
		}
		if err := g.check(); err != nil {
			return err
		}
		return g.write(txn)
	})
	if err != nil {
		return nil, err
	}
	return m.Groups(Viewer{Admin: true})
}

// DeleteGroup removes a group without groups or contracts under it.
func (m *Manager) DeleteGroup(id int) error {
	return m.update(func(txn store.Txn) error {
		g, err := readGroups(txn)
		if err != nil {
			return err
		}
		if id == AllComputers {
			return &InvalidError{"All Computers cannot be deleted"}
		}
		if g.get(id) == nil {
			return ErrNoGroup
		}
		for _, x := range g.list {
			if x.ParentID != nil && *x.ParentID == id {
				return ErrGroupInUse
			}
		}
		cs, err := readContracts(txn)
		if err != nil {
			return err
		}
		for _, c := range cs {
			if c.Group == id {
				return ErrGroupInUse
			}
		}
		g.list = slices.DeleteFunc(g.list, func(x Group) bool { return x.ID == id })
		return g.write(txn)
	})
}

// apply makes one change to the tree.
func (g *groups) apply(c GroupChange) error {
	var x *Group
	switch {
	case c.ID != nil:
		if x = g.get(*c.ID); x == nil {
			return &InvalidError{fmt.Sprintf("no computer group has id %d (leave id out to create one)", *c.ID)}
		}
	case c.Name != nil:
		x = g.named(*c.Name)
	}
	if x == nil {
		if c.Name == nil || strings.TrimSpace(*c.Name) == "" {
			return &InvalidError{"a new computer group needs a name"}
		}
		id := 1
		for _, y := range g.list {
			id = max(id, y.ID+1)
		}
		root := AllComputers
		g.list = append(g.list, Group{ID: id, ParentID: &root, Users: []string{}})
		x = &g.list[len(g.list)-1]
	}
	if x.ID == AllComputers && (c.ParentID != nil || c.Condition != nil || c.Name != nil && *c.Name != AllComputersName) {
		return &InvalidError{"All Computers is the root group: only its users can change"}
	}
	if c.Name != nil {
		if strings.TrimSpace(*c.Name) == "" {
			return &InvalidError{"a computer group's name must not be empty"}
		}
		x.Name = *c.Name
	}
	if c.ParentID != nil {
		p := *c.ParentID
		x.ParentID = &p
	}
	if c.Condition != nil {
		x.Condition = *c.Condition
	}
	if c.Users != nil {
		x.Users = slices.Compact(slices.Sorted(slices.Values(*c.Users)))
	}
	return nil
}

// check validates the whole tree: unique names, parents that exist, no
// cycles, conditions that compile.
func (g *groups) check() error {
	names := map[string]int{}
	for _, x := range g.list {
		if other, dup := names[x.Name]; dup {
			return &InvalidError{fmt.Sprintf("computer groups %d and %d are both named %q", other, x.ID, x.Name)}
		}
		names[x.Name] = x.ID
		if x.ParentID == nil {
			continue
		}
		if g.get(*x.ParentID) == nil {
			return &InvalidError{fmt.Sprintf("computer group %q: no parent group %d", x.Name, *x.ParentID)}
		}
		if g.under(*x.ParentID, x.ID) {
			return &InvalidError{fmt.Sprintf("computer group %q: parent %d is below it", x.Name, *x.ParentID)}
		}
	}
	return g.compile()
}

func (g *groups) write(txn store.Txn) error {
	b, err := json.Marshal(g.list)
	if err != nil {
		return err
	}
	return txn.Set(store.LicenseDocKey("computer_groups"), b)
}

package license

import (
	"fmt"

	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// What an import reads of the graph: the software installs, a page at a
// time, and for each install's computer the values of the computer, of
// its VM instance and of the host the VM runs on. It keeps values only,
// not whole CIs with their relations, sources and history, and reads a
// host shared by many VMs once: what it holds grows with the computers
// and hosts, not with the graph around them.

// installPage is how many installs one store view reads. They are
// evaluated outside it, so no read stays open for the whole import. A
// variable for tests.
var installPage = 1024

// machine is a computer with the VM instance and cloud host under it.
// computer and host are the ones the import numbers (see system).
type machine struct {
	computer, host *ComputerSystem
	vm             map[string]any // the VM instance's values; nil when none
}

// countInstalls counts the install class keys, retired or not, for the
// progress of an import.
func (imp *importRun) countInstalls(rs *rules.RuleSet) (int, error) {
	n := 0
	err := imp.m.st.View(func(r store.Reader) error {
		for _, class := range rs.Descendants(InstallClass) {
			if err := r.Iterate(store.ClassPrefix(class), func(_, _ []byte) error { n++; return nil }); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// eachInstall calls fn for every install record, retired or not, of
// InstallClass and of the classes below it, in the order engine.List
// gives them (class by class in name order, by sys_id within a class),
// and returns the first error fn returns.
func (imp *importRun) eachInstall(rs *rules.RuleSet, fn func(*store.Record) error) error {
	for _, class := range rs.Descendants(InstallClass) {
		prefix := store.ClassPrefix(class)
		for from := prefix; from != nil; {
			var next []byte
			page := make([]*store.Record, 0, installPage)
			err := imp.m.st.View(func(r store.Reader) error {
				return r.IterateFrom(prefix, from, func(k, _ []byte) error {
					if len(page) == installPage {
						next = append([]byte(nil), k...)
						return store.ErrStop
					}
					id := store.SysIDFromClassKey(k)
					rec, err := store.ReadRecord(r, id)
					if err != nil {
						return err
					}
					if rec == nil {
						return fmt.Errorf("install %s: listed in class %s and not stored", id, class)
					}
					page = append(page, rec)
					return nil
				})
			})
			if err != nil {
				return fmt.Errorf("reading software installs: %w", err)
			}
			for _, rec := range page {
				if err := fn(rec); err != nil {
					return err
				}
			}
			from = next
		}
	}
	return nil
}

// machine reads a computer with its VM and host, once per import. It
// returns nil when the computer is not stored or retired.
func (imp *importRun) machine(sysID string) (*machine, error) {
	if mc, ok := imp.machines[sysID]; ok {
		return mc, nil
	}
	var mc *machine
	err := imp.m.st.View(func(r store.Reader) error {
		rec, err := readLive(r, sysID)
		if err != nil || rec == nil {
			return err
		}
		mc = &machine{computer: imp.node(rec)}
		var vm *store.Record
		err = follow(r, sysID, VirtualizedBy, func(id string) (found bool, err error) {
			vm, err = readLive(r, id)
			return vm != nil, err
		})
		if err != nil || vm == nil {
			return err
		}
		mc.vm = vm.Values
		return follow(r, vm.SysID, RunsOn, func(id string) (found bool, err error) {
			mc.host, err = imp.host(r, id)
			return mc.host != nil, err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("reading computer %s: %w", sysID, err)
	}
	imp.machines[sysID] = mc
	return mc, nil
}

// host reads a host once per import (many VMs may run on one). It returns
// nil when the host is not stored or retired.
func (imp *importRun) host(r store.Reader, sysID string) (*ComputerSystem, error) {
	if cs, ok := imp.hosts[sysID]; ok {
		return cs, nil
	}
	rec, err := readLive(r, sysID)
	if err != nil {
		return nil, err
	}
	var cs *ComputerSystem
	if rec != nil {
		cs = imp.node(rec)
	}
	imp.hosts[sysID] = cs
	return cs, nil
}

// node is the computer system of a record: the one numbered already when
// there is one (see system).
func (imp *importRun) node(rec *store.Record) *ComputerSystem {
	if cs := imp.systems[rec.SysID]; cs != nil {
		return cs
	}
	name, _ := rec.Values["name"].(string)
	return &ComputerSystem{SysID: rec.SysID, Class: rec.Class, Name: name, Values: rec.Values}
}

// follow calls get with each CI that sysID reaches by an outbound relation
// of relType, in key order, until get reports it found one.
func follow(r store.Reader, sysID, relType string, get func(string) (bool, error)) error {
	var children []string
	err := r.Iterate(store.OutPrefix(sysID), func(_, v []byte) error {
		ed, err := store.DecodeEdge(v)
		if err == nil && ed.Type == relType {
			children = append(children, ed.Child)
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, child := range children {
		if found, err := get(child); err != nil || found {
			return err
		}
	}
	return nil
}

// readLive reads a CI's record; nil when it is not stored or retired.
func readLive(r store.Reader, sysID string) (*store.Record, error) {
	rec, err := store.ReadRecord(r, sysID)
	if rec != nil && rec.Retired {
		return nil, err
	}
	return rec, err
}

package identify

import (
	"fmt"

	"github.com/irego/irego/rules"
)

var (
	reclassOp   = map[string]string{rules.Upgrade: OpUpdateWithUpgrade, rules.Downgrade: OpUpdateWithDowngrade, rules.Switch: OpUpdateWithSwitch}
	skippedCode = map[string]string{rules.Upgrade: SkippedClassUpgrade, rules.Downgrade: SkippedClassDowngrade, rules.Switch: SkippedClassSwitch}
)

// reclassify decides what becomes of a stored CI the payload reports as
// another class of the same identification rule: its class changes (an
// upgrade, downgrade or switch), or it keeps its class while its attributes
// update (info SKIPPED_CLASS_*), or the target fails with
// RECLASSIFICATION_NOT_ALLOWED. As in ServiceNow, an update-without flag
// (the item's settings or the rules) beats a refusal, and a restriction
// rule only ever keeps the class.
func (pl *planner) reclassify(t *Target, stored, class *rules.Class) {
	kind := rules.Switch
	switch {
	case class.IsA(stored.Name):
		kind = rules.Upgrade
	case stored.IsA(class.Name):
		kind = rules.Downgrade
	}
	rc := pl.rs.Reclassification()
	f := pl.reclassFlags(t, kind)
	skip := func(ruleID, why string) {
		t.Info = append(t.Info, Issue{Code: skippedCode[kind], RuleSysID: ruleID, Message: fmt.Sprintf(
			"%s (%s): kept class %s instead of the %s to %s: %s", t.where(), class.Name, stored.Name, kind, class.Name, why)})
		t.Class = stored
	}
	switch {
	case f.without != "":
		skip("", f.without)
	case rc.WithoutChange[kind]:
		skip("", "the rules set reclassification.update_without_"+kind)
	case f.refused != "":
		t.Errors = append(t.Errors, notAllowed(t, stored, class, f.refused))
	case !f.allowed && !rc.Allowed[kind]:
		t.Errors = append(t.Errors, notAllowed(t, stored, class, "the rules set reclassification."+kind+": false"))
	default:
		if kind != rules.Upgrade && rc.RestrictionsEnabled && !f.skipRestrictions {
			if x := rc.Restriction(stored, class, kind, pl.opts.Source); x != nil {
				skip(x.ID, fmt.Sprintf("reclassification restriction %q (line %d)", x.Name, x.Line))
				return
			}
		}
		t.Class, t.Op = class, reclassOp[kind]
	}
}

func notAllowed(t *Target, stored, class *rules.Class, why string) Issue {
	return issue(ReclassificationNotAllowed, "%s (%s): CI Reclassification not allowed from class [%s] to [%s]: %s",
		t.where(), class.Name, stored.Name, class.Name, why)
}

// flags is what the items merged into a target say about one kind of
// class change.
type flags struct {
	without          string // why the class is kept, when an item asks so
	refused          string // why the change is refused, when an item says so
	allowed          bool   // an item allows the change explicitly
	skipRestrictions bool
}

// reclassFlags combines the flags of the items merged into t: an item that
// asks to keep the class, or refuses the change, decides. Related records
// carry no flags.
func (pl *planner) reclassFlags(t *Target, kind string) flags {
	var f flags
	if t.IsRelated {
		return f
	}
	for _, in := range t.incoming {
		it := &pl.p.Items[in.index]
		if s := it.Settings; s != nil {
			without := map[string]bool{rules.Upgrade: s.UpdateWithoutUpgrade, rules.Downgrade: s.UpdateWithoutDowngrade, rules.Switch: s.UpdateWithoutSwitch}
			if without[kind] && f.without == "" {
				f.without = fmt.Sprintf("item %d sets settings.updateWithout%s", in.index, title(kind))
			}
			f.skipRestrictions = f.skipRestrictions || s.SkipReclassificationRestrictionRules
		}
		flag := map[string]*bool{rules.Upgrade: it.ClassUpgrade, rules.Downgrade: it.ClassDowngrade, rules.Switch: it.ClassSwitch}[kind]
		switch {
		case flag == nil:
		case !*flag && f.refused == "":
			f.refused = fmt.Sprintf("item %d sets class%s: false", in.index, title(kind))
		case *flag:
			f.allowed = true
		}
	}
	return f
}

func title(kind string) string { return string(kind[0]-'a'+'A') + kind[1:] }

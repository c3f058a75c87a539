package rules

// Rule file format. A rule file is YAML or JSON (JSON is read as YAML, so
// errors carry line numbers either way). Every key below is known; any
// other key is an error, and so is a value of the wrong type.
//
//	relation_types:            # every relation type items may use, "Parent descriptor::Child descriptor"
//	  - "Hosted on::Hosts"     # a payload may also spell it in other letter case or the other way round
//	                           # ("Hosts::Hosted on", parent and child swapped): it is stored as declared
//	  - name: "Owns::Owned by" # or a mapping, with the classes the type is documented for (not enforced)
//	    suggested:
//	      - [cmdb_ci_computer, cmdb_ci_network_adapter]   # [parent class, child class]
//	classes:                   # the class hierarchy; every class referenced anywhere must be declared here
//	  - name: cmdb_ci
//	  - name: cmdb_ci_hardware
//	    extends: cmdb_ci       # parent class (must be declared; no cycles)
//	  - name: samp_sw_usage
//	    required: [reclamation_type, configuration_item, norm_product]   # needed to insert (inherited by subclasses, merged with own)
//	    values:                # allowed values per attribute (inherited; a subclass's list replaces the parent's for that attribute)
//	      reclamation_type: [total_usage, last_used_date]
//	    indexed: [state, customer]   # attributes the engine indexes for engine.Find (see indexes.go)
//	extends: default           # optional: build on the default pack (or a rule file's path) with
//	                           # additions, a change section and a remove section (see compose.go)
//	identification:            # identification rules, at most one active rule per class
//	  - name: Hardware Rule    # unique
//	    applies_to: cmdb_ci_hardware
//	    active: false          # optional: an inactive rule is checked but never used (default true)
//	    independent: true      # optional; if given must agree with depends_on (independent <=> no depends_on)
//	    entries:               # at least one
//	      - priority: 100      # lower is tried first; equal priorities keep declaration order
//	        attributes: [serial_number]   # at least one, no duplicates
//	        allow_null: false  # optional
//	        when: 'reclamation_type == "total_usage"'   # optional expr condition over the item's values
//	        unique: true       # optional: no two CIs may hold these values (default false for a rule's
//	                           # entries, as in ServiceNow; true for a related entry's)
//	        active: false      # optional: an inactive entry is never tried (default true)
//	        filter: 'install_status != "7"'   # optional expr over a stored CI's values: only CIs it holds for match
//	      - priority: 50       # a lookup entry: finds the CI a record of the item's lookup list belongs to
//	        search_on_table: cmdb_serial_number
//	        attributes: [serial_number, serial_number_type]   # attributes of the lookup records
//	        hybrid_attributes: [name]   # optional: the CI's own attributes also compared (a hybrid entry)
//	        exact_count_match: false    # optional: true matches only a CI every lookup record names
//	    allow_fallback: true   # optional, dependent rules: when nothing matches, try the parent class's rule
//	    depends_on:            # makes the rule dependent: hosting/containment rules
//	      - class: cmdb_ci_cloud_service_account   # the class depended on (must be declared)
//	        relation: "Hosted on::Hosts"           # must be a declared relation type
//	        direction: item_to_parent              # item_to_parent (the dependent item is the relation's parent) | parent_to_item
//	    related:               # related entries: records of another class identified within this item
//	      - class: cmdb_sam_sw_install
//	        referenced_field: installed_on         # the related record's field holding the main item's sys_id
//	        entries:
//	          - priority: 100
//	            attributes: [publisher, display_name, version]
//	duplicates:                # what an entry that finds several CIs does
//	  threshold: 5             # up to this many: the oldest is matched and a de-duplication task names them all;
//	                           # more: MULTIPLE_DUPLICATE_RECORDS (default 5, as ServiceNow)
//	reconciliation:            # which source's value an attribute keeps when several sources report a CI
//	  - applies_to: cmdb_ci_hardware
//	    attributes: all        # "all", or a list: an attribute-specific rule beats an all-attributes one,
//	                           # and a rule on the class beats an inherited one
//	    refresh: 30d           # optional: an owner that has not reported the CI for this long loses its hold
//	    sources:               # authorised sources; lower priority wins; "*" is every unlisted source
//	      - name: ServiceNow
//	        priority: 100
//	        refresh: 7d        # optional, overrides the rule's refresh for this source
//	      - name: "*"
//	        priority: 1000
//	    prefer: 'incoming > current'   # optional expr: the reported value wins exactly when this holds
//	                                   # (variables incoming, current, attribute, source, owner)
//	    policy: largest        # optional, instead of prefer: latest | largest | smallest | most_reported
//	                           # (a rule with prefer or policy is dynamic; it beats a static rule at the same level)
//	    update_with_null: [location]   # optional, static rules only: a null from an authorised source clears these
//	data_sources:              # data source rules
//	  - applies_to: cmdb_ci_computer
//	    source: SAM
//	    insert_not_allowed: true       # SAM may update computers but not create them (a subclass may re-allow)
//	reclassification:          # which class changes a match may make (each key optional)
//	  upgrade: true            # false: an item asking for an upgrade fails with RECLASSIFICATION_NOT_ALLOWED
//	  downgrade: true          # the same for a downgrade
//	  switch: true             # the same for a switch to another branch
//	  update_without_upgrade: false    # true: update the attributes, keep the class (info SKIPPED_CLASS_UPGRADE)
//	  update_without_downgrade: false
//	  update_without_switch: false
//	  restriction_rules: true  # false switches the restrictions below off
//	  restrictions:            # keep a CI's class for these changes; its attributes still update
//	    - name: keep linux servers     # unique
//	      from: cmdb_ci_linux_server   # the stored class
//	      from_inheritance: false      # optional: also its descendants
//	      to: cmdb_ci_server           # the class the payload reports
//	      to_inheritance: false        # optional: also its descendants
//	      type: downgrade              # downgrade | switch
//	      sources: [SGC]               # optional: only payloads from these data sources
//	metrics:                   # license metric rules, evaluated per software install by a license import (see metrics.go)
//	  installs: 'install.cloud_license_type in [nil, "", "BYOL"]'   # optional expr: which installs count
//	  vars: {pvu_per_core: 70} # optional variables for every rule
//	  rules:                   # per metric, the first rule whose when holds gives the value
//	    - metric: PVU_FULL_CAP # code name
//	      when: 'host != nil'  # optional expr condition over install, computer, vm, host and the vars
//	      per: host            # optional: computer (default) | host (counts once per cloud host)
//	      value: 'host.cpu_core_count * pvu_per_core'   # expr yielding a number
//
// All sections are optional, in any order. In depends_on every key is
// required; in an entry priority and attributes are. A class without a rule
// of its own uses its nearest ancestor's, related entries included; a rule on
// a subclass replaces the inherited one entirely. Allowed values are
// compared with an item's values as text. YAML anchors and aliases are not
// supported, and a file holds one document.

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load parses and compiles a rule file. name is the file name errors carry.
// On failure the error is an ErrorList holding every problem found.
func Load(name string, data []byte) (*RuleSet, error) { return load(name, data, nil) }

// load loads data; a pack it extends by path is read from fsys, or from
// the operating system's files when fsys is nil.
func load(name string, data []byte, fsys fs.FS) (*RuleSet, error) {
	l := &loader{
		fsys:  fsys,
		file:  name,
		decls: map[string]*classDecl{},
		own:   map[string]*Rule{},
		rs:    &RuleSet{classes: map[string]*Class{}, relationTypes: map[string]*RelationType{}, relationFold: map[string]*RelationType{}},
	}
	source := append([]byte(nil), data...)
	if root := l.parse(data); root != nil {
		parsed := root
		if root = l.compose(root, name, nil); root != nil {
			l.load(root)
			if root != parsed {
				// A file that extends a pack is kept as the whole composed
				// file: it loads anywhere, without the packs it named, and
				// its fingerprint changes when they do.
				var err error
				if source, err = yaml.Marshal(root); err != nil {
					l.errs = append(l.errs, &Error{File: name, Reason: "cannot write the composed rules: " + err.Error()})
				}
			}
		}
	}
	if len(l.errs) > 0 {
		// The file's own errors first, then those in packs it extends.
		sort.SliceStable(l.errs, func(i, j int) bool {
			if oi, oj := l.errs[i].File != name, l.errs[j].File != name; oi != oj {
				return oj
			}
			return l.errs[i].Line < l.errs[j].Line
		})
		return nil, l.errs
	}
	l.rs.source, l.rs.name = source, name
	return l.rs, nil
}

// LoadFile reads and loads the rule file at path.
func LoadFile(path string) (*RuleSet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Load(path, data)
}

// LoadFS reads and loads the rule file name in fsys, e.g. a rule file
// embedded in a program with go:embed.
func LoadFS(fsys fs.FS, name string) (*RuleSet, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	return load(name, data, fsys)
}

// loader holds the state of one Load call.
type loader struct {
	file  string
	errs  ErrorList
	rs    *RuleSet
	decls map[string]*classDecl // by class name
	order []*classDecl          // declaration order
	own   map[string]*Rule      // class name → the rule defined on it
	// relDecls are the declared relation types, for suggestedPairs.
	relDecls []*relationDecl
	// origin names the file of every node when the file extends another
	// (compose.go); nil otherwise.
	origin map[*yaml.Node]string
	// fsys holds the packs a file extends by path; nil: the OS's files.
	fsys fs.FS
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// parse returns the single document's root node, or nil after reporting
// why there is none.
func (l *loader) parse(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			l.errorAt(1, scope{}, "empty rule file")
		} else {
			l.yamlError(err)
		}
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		l.errorAt(max(extra.Line, 1), scope{}, "more than one YAML document; a rule file holds one")
		return nil
	} else if !errors.Is(err, io.EOF) {
		l.yamlError(err)
		return nil
	}
	if len(doc.Content) == 0 {
		l.errorAt(1, scope{}, "empty rule file")
		return nil
	}
	return doc.Content[0]
}

// yamlError turns a yaml.v3 syntax error ("yaml: line 3: ...") into an
// Error at that line. For some parser errors yaml.v3's line is one short
// of the fault; it is passed on unchanged rather than guessed at. The few
// errors yaml cannot place (unknown anchors, some on line 1) get line 0.
func (l *loader) yamlError(err error) {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	l.errorAt(line, scope{}, "YAML: "+msg)
}

// load reads the sections in dependency order, whatever their order in the
// file: rules refer to classes and relation types.
func (l *loader) load(root *yaml.Node) {
	f := l.fields(root, scope{}, "relation_types", "classes", "identification", "reconciliation", "data_sources", "metrics", "duplicates", "reclassification", "sources")
	if f == nil {
		return
	}
	if n := f["relation_types"]; n != nil {
		l.relationTypes(n)
	}
	if n := f["classes"]; n != nil {
		l.classes(n)
	}
	l.suggestedPairs()
	if n := f["identification"]; n != nil {
		l.identification(n)
	}
	if n := f["reconciliation"]; n != nil {
		l.reconciliation(n)
	}
	if n := f["data_sources"]; n != nil {
		l.dataSources(n)
	}
	if n := f["metrics"]; n != nil {
		l.metrics(n)
	}
	if n := f["sources"]; n != nil {
		l.declaredSources(n)
	}
	l.rs.duplicates = Duplicates{Threshold: DefaultDuplicateThreshold}
	if n := f["duplicates"]; n != nil {
		l.duplicates(n)
	}
	l.inherit()
	if n := f["reclassification"]; n != nil {
		l.reclassification(n) // needs the inherited rules
	}
	l.indexEntries()
}

// duplicates reads the duplicates section: {threshold: N, merge: {attribute: main|newest|oldest}}.
func (l *loader) duplicates(n *yaml.Node) {
	s := scope{field: "duplicates"}
	f := l.fields(n, s, "threshold", "merge")
	if f == nil {
		return
	}
	if mn := f["merge"]; mn != nil {
		ms := s.key("merge")
		ps, _ := l.pairs(mn, ms)
		l.rs.duplicates.Merge = map[string]MergeWinner{}
		for _, p := range ps {
			v, ok := l.str(p.val, ms.key(p.name))
			if !ok {
				continue
			}
			if w := MergeWinner(v); !slices.Contains(mergeWinners, w) {
				l.errorf(p.val, ms.key(p.name), "unknown merge winner %q: one of main, newest, oldest", v)
			} else {
				l.rs.duplicates.Merge[p.name] = w
			}
		}
	}
	if tn := f["threshold"]; tn != nil {
		if t, ok := l.integer(tn, s.key("threshold")); ok {
			if t < 1 {
				l.errorf(tn, s.key("threshold"), "threshold %d: at least 1 (a single CI always matches)", t)
			} else {
				l.rs.duplicates.Threshold = t
			}
		}
	}
}

// indexEntries lets identity keys be traced back to their entry.
func (l *loader) indexEntries() {
	l.rs.entries = map[string]*Entry{}
	for _, r := range l.rs.rules {
		for _, e := range r.Entries {
			l.rs.entries[e.ID] = e
		}
		for _, re := range r.Related {
			for _, e := range re.Entries {
				l.rs.entries[e.ID] = e
			}
		}
	}
}

package transfer_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// A generated ServiceNow export in the shape the Table API returns:
// reference fields as {"link","value"} objects, sys_ids everywhere, the
// CI tables in pages. Each machine brings a network adapter it owns, an IP
// address the adapter owns, every other machine an application running on
// it, a serial number record, a software install and a native key; each
// application depends on the machine before it.

// machineClasses are the hardware classes machines cycle through.
var machineClasses = []string{"cmdb_ci_linux_server", "cmdb_ci_win_server", "cmdb_ci_aix_server", "cmdb_ci_solaris_server",
	"cmdb_ci_hpux_server", "cmdb_ci_esx_server", "cmdb_ci_pc_hardware", "cmdb_ci_computer", "cmdb_ci_ip_switch", "cmdb_ci_ip_router"}

const instance = "https://example.service-now.com/api/now/table/"

// Kinds of generated records; a record's sys_id is its kind and number.
const (
	kMachine = iota + 1
	kAdapter
	kIP
	kApp
	kSerial
	kInstall
	kOwnsAdapter
	kOwnsIP
	kRunsOn
	kDependsOn
	kSource
	kCIBase
)

func sid(kind, i int) string { return fmt.Sprintf("%08x%024x", kind, i) }

var relTypeIDs = map[string]string{"Owns::Owned by": sid(100, 1), "Runs on::Runs": sid(100, 2), "Depends on::Used by": sid(100, 3)}

type genOptions struct {
	Machines int
	// PageSize is the records per page file of the CI tables; 0: one file.
	PageSize int
	// SameSerial makes machines 1 and 2 share machine 0's serial number.
	SameSerial bool
}

// genCounts are what an import of the export should load.
type genCounts struct{ CIs, Related, Edges, NativeKeys int }

func ref(table, sysID string) map[string]string {
	return map[string]string{"link": instance + table + "/" + sysID, "value": sysID}
}

// pager writes one table as pages of pageSize records.
type pager struct {
	dir, table string
	size, n    int
	f          *os.File
	w          *bufio.Writer
}

func (p *pager) add(t testing.TB, row map[string]any) {
	if p.w == nil || (p.size > 0 && p.n%p.size == 0) {
		p.close(t)
		name := p.table + ".json"
		if p.size > 0 {
			name = fmt.Sprintf("%s_%d.json", p.table, p.n/p.size+1)
		}
		f, err := os.Create(filepath.Join(p.dir, name))
		if err != nil {
			t.Fatal(err)
		}
		p.f, p.w = f, bufio.NewWriter(f)
		p.w.WriteString(`{"result":[`)
	} else {
		p.w.WriteString(",\n")
	}
	b, err := json.Marshal(row)
	if err != nil {
		t.Fatal(err)
	}
	p.w.Write(b)
	p.n++
}

func (p *pager) close(t testing.TB) {
	if p.w == nil {
		return
	}
	p.w.WriteString("]}\n")
	if err := p.w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := p.f.Close(); err != nil {
		t.Fatal(err)
	}
	p.w = nil
}

func writeExport(t testing.TB, dir string, o genOptions) genCounts {
	pages := map[string]*pager{}
	add := func(table string, row map[string]any) {
		p := pages[table]
		if p == nil {
			size := 0
			if table != "cmdb_rel_type" {
				size = o.PageSize
			}
			p = &pager{dir: dir, table: table, size: size}
			pages[table] = p
		}
		p.add(t, row)
	}
	var c genCounts
	at := func(i int) string {
		return fmt.Sprintf("2024-%02d-%02d %02d:%02d:%02d", 1+i/(28*24*3600)%12, 1+i/(24*3600)%28, i/3600%24, i/60%60, i%60)
	}
	sys := func(kind, i int, class string) map[string]any {
		return map[string]any{"sys_id": sid(kind, i), "sys_class_name": class, "sys_created_on": at(i), "sys_updated_on": at(i),
			"sys_created_by": "admin", "sys_mod_count": "3", "sys_domain": map[string]string{"link": instance + "sys_user_group/global", "value": "global"},
			"discovery_source": "ServiceNow"}
	}
	rel := func(kind, i int, parent, child, typ string) {
		add("cmdb_rel_ci", map[string]any{"sys_id": sid(kind, i), "parent": ref("cmdb_ci", parent), "child": ref("cmdb_ci", child),
			"type": ref("cmdb_rel_type", relTypeIDs[typ]), "sys_created_on": at(i), "connection_strength": "always"})
		c.Edges++
	}
	for i := 0; i < o.Machines; i++ {
		class := machineClasses[i%len(machineClasses)]
		m := sys(kMachine, i, class)
		serial := fmt.Sprintf("SN%07d", i)
		if o.SameSerial && (i == 1 || i == 2) {
			serial = "SN0000000"
		}
		m["name"], m["serial_number"], m["ram"], m["os"] = fmt.Sprintf("host-%d", i), serial, "16384", "Linux"
		m["location"] = ref("cmn_location", sid(200, i%7))
		m["short_description"] = ""
		add(class, m)
		add("cmdb_ci", map[string]any{"sys_id": sid(kMachine, i), "sys_class_name": class, "name": fmt.Sprintf("host-%d", i)})
		nic := sys(kAdapter, i, "cmdb_ci_network_adapter")
		nic["name"], nic["mac_address"], nic["cmdb_ci"] = "eth0", fmt.Sprintf("02:00:%02x:%02x:%02x:%02x", i>>24&255, i>>16&255, i>>8&255, i&255), ref("cmdb_ci", sid(kMachine, i))
		add("cmdb_ci_network_adapter", nic)
		ip := sys(kIP, i, "cmdb_ci_ip_address")
		ip["ip_address"], ip["nic"] = fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), ref("cmdb_ci_network_adapter", sid(kAdapter, i))
		add("cmdb_ci_ip_address", ip)
		c.CIs += 3
		rel(kOwnsAdapter, i, sid(kMachine, i), sid(kAdapter, i), "Owns::Owned by")
		rel(kOwnsIP, i, sid(kAdapter, i), sid(kIP, i), "Owns::Owned by")
		if i%2 == 0 {
			app := sys(kApp, i, "cmdb_ci_appl")
			app["name"], app["cl_port"], app["version"] = fmt.Sprintf("app-%d", i), fmt.Sprint(8000+i%1000), "2.1"
			add("cmdb_ci_appl", app)
			c.CIs++
			rel(kRunsOn, i, sid(kApp, i), sid(kMachine, i), "Runs on::Runs")
			if i > 0 {
				rel(kDependsOn, i, sid(kApp, i), sid(kMachine, i-1), "Depends on::Used by")
			}
		}
		sn := sys(kSerial, i, "cmdb_serial_number")
		sn["serial_number"], sn["serial_number_type"], sn["valid"], sn["cmdb_ci"] = serial, "bios", "true", ref("cmdb_ci", sid(kMachine, i))
		add("cmdb_serial_number", sn)
		inst := sys(kInstall, i, "cmdb_sam_sw_install")
		inst["publisher"], inst["display_name"], inst["version"], inst["installed_on"] = "Canonical", "openssh-server", "9.6", ref("cmdb_ci", sid(kMachine, i))
		add("cmdb_sam_sw_install", inst)
		c.Related += 2
		add("sys_object_source", map[string]any{"sys_id": sid(kSource, i), "name": "SCCM", "id": fmt.Sprintf("sccm-%d", i),
			"target_sys_id": sid(kMachine, i), "target_table": class, "last_scan": at(i)})
		c.NativeKeys++
	}
	for name, id := range relTypeIDs {
		add("cmdb_rel_type", map[string]any{"sys_id": id, "name": name})
	}
	for _, p := range pages {
		p.close(t)
	}
	return c
}

// TestGenerateExport writes a generated export for benchmarks when
// IREGO_GEN_EXPORT names a directory (IREGO_GEN_MACHINES machines, each
// about 3.5 CIs; default 1000):
//
//	IREGO_GEN_EXPORT=/tmp/cmdb IREGO_GEN_MACHINES=285000 go test -run TestGenerateExport ./transfer
//	/usr/bin/time -v irego import servicenow --db /tmp/db /tmp/cmdb
func TestGenerateExport(t *testing.T) {
	dir := os.Getenv("IREGO_GEN_EXPORT")
	if dir == "" {
		t.Skip("IREGO_GEN_EXPORT is not set")
	}
	n := 1000
	if s := os.Getenv("IREGO_GEN_MACHINES"); s != "" {
		if _, err := fmt.Sscan(s, &n); err != nil {
			t.Fatalf("IREGO_GEN_MACHINES=%q: %v", s, err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c := writeExport(t, dir, genOptions{Machines: n, PageSize: 10000})
	t.Logf("%s: %d CIs, %d related records, %d relations, %d native keys", dir, c.CIs, c.Related, c.Edges, c.NativeKeys)
}

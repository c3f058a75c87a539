package version

import (
	"fmt"
	"runtime/debug"
)

// Info names a build.
type Info struct {
	// Version is the module version ("v1.2.3"), or "(devel)" for a build
	// from a source checkout.
	Version string `json:"version"`
	// Revision is the VCS commit the binary was built from, "" when
	// unknown; Modified says the work tree had uncommitted changes.
	Revision string `json:"revision"`
	Modified bool   `json:"modified"`
	// Time is the commit time (RFC 3339), "" when unknown.
	Time string `json:"time"`
	// Go is the toolchain version that built the binary.
	Go string `json:"go"`
}

// Get reads the running binary's build information.
func Get() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: "unknown"}
	}
	v := Info{Version: bi.Main.Version, Go: bi.GoVersion}
	if v.Version == "" {
		v.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// String is one line for humans and logs: "irego v1.2.3 (abc123…, go1.26)".
func (v Info) String() string {
	rev := v.Revision
	if rev == "" {
		rev = "unknown revision"
	}
	if v.Modified {
		rev += ", modified"
	}
	return fmt.Sprintf("irego %s (%s, %s)", v.Version, rev, v.Go)
}

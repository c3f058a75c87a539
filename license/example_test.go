package license_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/license"
	"github.com/irego/irego/payload"
)

// License usage computed from a small graph: SQL Server installed on a
// computer that is a VM on a dedicated AWS host. The default pack's metric
// rules count the VM's virtual cores, and processor value units on the
// server that carries the license: the dedicated host, at full capacity
// (its 32 cores) and at sub-capacity (the VM's 4).
func Example() {
	e, err := engine.Open("", engine.Options{InMemory: true})
	if err != nil {
		panic(err)
	}
	defer e.Close()
	ctx := context.Background()
	body, err := os.ReadFile("../examples/byol-dedicated-vm.json")
	if err != nil {
		panic(err)
	}
	p, err := payload.DecodeBytes(body)
	if err != nil {
		panic(err)
	}
	if _, err := e.Apply(ctx, "ServiceNow", p, engine.DefaultApplyOptions()); err != nil {
		panic(err)
	}
	day := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	m := license.New(e, license.Options{Now: func() time.Time { return day }, Logger: slog.New(slog.DiscardHandler)})
	if _, err := m.Import(ctx); err != nil {
		panic(err)
	}
	peaks, _, err := m.Peaks(ctx)
	if err != nil {
		panic(err)
	}
	var lines []string // peaks come in the order of the systems' ids
	for _, pk := range peaks {
		lines = append(lines, fmt.Sprintf("%s on %s: %s %g on %s", pk.Title.Name(), pk.System.Name, pk.Metric.CodeName, pk.Value, pk.Day))
	}
	sort.Strings(lines)
	fmt.Println(strings.Join(lines, "\n"))
	// Output:
	// SQL Server 2017 on AWS Dedicated Host - 1: PVU_FULL_CAP 2240 on 2026-03-01
	// SQL Server 2017 on AWS Dedicated Host - 1: PVU_SUB_CAP 280 on 2026-03-01
	// SQL Server 2017 on Comp - Dedicated AWS - 1: VIRTUAL_PROCESSOR_CORE 4 on 2026-03-01
}

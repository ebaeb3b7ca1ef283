package scenarios

import (
	"fmt"

	"gale/sim"
)

// checkFault reports, before anything starts, whether target t can inject
// fault f (for a random schedule f has only its Kind): the static part of
// sim.Env.Check, which Run also calls once the broker is up.
func checkFault(t Target, f sim.Fault) error {
	switch f.Kind {
	case sim.PowerLoss:
		if !t.Memory {
			return fmt.Errorf("power-loss needs target {broker: embedded, memory: true}: only the in-memory log can lose unsynced writes (the kernel keeps a killed process's page cache)")
		}
	case sim.FsyncFail, sim.DiskFull:
		if t.Broker != "embedded" {
			return fmt.Errorf("%s needs target broker: embedded (it fails the broker's file operations in-process)", f.Kind)
		}
	}
	return nil
}

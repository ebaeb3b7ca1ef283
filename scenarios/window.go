package scenarios

import (
	"gale/reports"
	"gale/sim"
)

// faultWindow is a sim window as results.json records it.
func faultWindow(w sim.Window) reports.FaultWindow {
	fw := reports.FaultWindow{
		Fault: w.Fault.String(),
		Kind:  string(w.Fault.Kind),
		Start: w.Start.Seconds(),
		End:   w.End.Seconds(),
	}
	if w.Err != nil {
		fw.Error = w.Err.Error()
	}
	return fw
}

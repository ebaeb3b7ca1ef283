package sim_test

import (
	"fmt"
	"time"

	"gale/sim"
)

func ExampleParseFault() {
	f, err := sim.ParseFault("{latency: clients-broker, at: 40s, for: 10s, delay: 20ms, jitter: 5ms}")
	if err != nil {
		panic(err)
	}
	fmt.Println(f)
	fmt.Println(f.Kind, f.Target, f.End())
	_, err = sim.ParseFault("{at: 40s, latency: clients-broker, delya: 20ms, for: 10s}")
	fmt.Println(err)
	// Output:
	// {at: 40s, latency: clients-broker, delay: 20ms, jitter: 5ms, for: 10s}
	// latency clients-broker 50s
	// line 1: latency: unknown field "delya" (it takes at, delay, jitter, for)
}

func ExampleSchedule_Faults() {
	s, err := sim.ParseSchedule("{random: {every: 20s, kinds: {kill: 1, partition: 1}, for: 5s}}")
	if err != nil {
		panic(err)
	}
	fmt.Print(sim.FormatFaults(s.Faults(42, 2*time.Minute)))
	// Output:
	// - {at: 35.997s, partition: clients-broker, for: 5s}
	// - {at: 59.652s, kill: broker, restart_after: 2s}
	// - {at: 1m29.661s, kill: broker, restart_after: 2s}
	// - {at: 1m33.261s, partition: clients-broker, for: 5s}
}

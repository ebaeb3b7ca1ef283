// Package sim injects faults into a broker while load runs against it:
// process faults (kill -9, pause, graceful restart), network faults through
// an in-process TCP fault proxy, and disk faults through the partition log's
// file seam (lose unsynced writes, tear the tail, flip a bit, fail fsync,
// fill the disk). Faults are printable values, schedules come from one
// seed, and the same seed replays the same run.
//
// # Faults
//
// A Fault is a value: when it starts (At, an offset from the start of the
// load), its Kind, its Target and its parameters. It prints (String) as a
// YAML flow mapping, the syntax a scenario file uses, and ParseFault (or
// UnmarshalYAML inside a scenario file) reads that text back to an equal
// Fault:
//
//	{at: 10s, kill: broker, restart_after: 2s}        kill -9, start again 2 s later
//	{at: 12s, pause: broker, for: 3s}                 SIGSTOP, SIGCONT 3 s later
//	{at: 20s, restart: broker}                        graceful: SIGTERM, wait, start
//	{at: 25s, partition: clients-broker, for: 5s}     blackhole both ways
//	{at: 25s, drop: clients->broker, for: 5s}         blackhole one way (or broker->clients)
//	{at: 40s, latency: clients-broker, delay: 20ms, jitter: 5ms, for: 10s}
//	{at: 40s, bandwidth: clients-broker, rate: 1MB/s, for: 10s}
//	{at: 50s, reset: clients-broker}                  reset every open connection
//	{at: 50s, slow-close: clients-broker, delay: 2s, for: 10s}
//	{at: 30s, power-loss: broker, restart_after: 1s}  crash losing every unsynced write
//	{at: 30s, torn-tail: broker, restart_after: 1s}   crash keeping a torn prefix of the last writes
//	{at: 30s, bitflip: broker}                        flip one bit in a sealed segment
//	{at: 30s, fsync-fail: broker, for: 5s}            every fsync fails with EIO
//	{at: 30s, disk-full: broker, for: 5s}             every write fails with ENOSPC
//	{at: 30s, crash: consumer, restart_after: 2s}     run by the load generator (Env.Handle)
//
// latency, bandwidth and the link targets also take clients->broker or
// broker->clients for one direction. Durations are Go durations (150ms,
// 1m30s); rates take B, KB, MB, GB (powers of 1000) or KiB, MiB, GiB
// (powers of 1024) per second. Keys may come in any order; String prints at
// first, then the kind, then delay, jitter, rate, for, restart_after. An
// unknown kind or field, a missing required parameter, a parameter the kind
// does not take, a target the kind does not accept and a negative duration
// are SyntaxErrors naming the line and the field: `line 7: latency: unknown
// field "delya" (it takes at, delay, jitter, for)`.
//
// # Schedules
//
// A Schedule is a fixed list of faults or a Random spec, written in a
// scenario as a sequence of faults or as
//
//	{random: {every: 15s, kinds: {kill: 1, partition: 2, latency: 2}, for: 5s}}
//
// Schedule.Faults expands a Random spec from the run's seed with one
// *rand.Rand: fault starts form a Poisson process whose gaps, exponential
// with mean every, are counted from the end of the previous fault (so
// random faults never overlap); each kind is drawn with its weight and gets
// the spec's parameters or the defaults (for 5s, restart_after 2s, delay
// 20ms and jitter 5ms for latency, delay 1s for slow-close, rate 1MB/s;
// a drop picks its direction). Faults that would not end within the run are
// dropped. The same seed and duration give the same faults; FormatFaults
// prints them as a fixed list to paste back into the scenario.
//
// # The broker under test: Env
//
// NewEnv starts a broker and a Proxy in front of it; the broker advertises
// the proxy's address, so clients dialling Env.Addr never bypass it. The
// broker is either "embedded", a kafka.Server in this process serving a
// loopback listener, on a FaultFS over vfs.Mem (Memory) or the data
// directory on disk; or "subprocess", a `gale broker` child process on a
// data directory, whose address is read from its start log line and which
// is waited for (bounded) until it accepts connections. The proxy follows
// the broker to its new port after every restart.
//
// What each target supports (Env.Check says so before a run starts):
//
//	fault          subprocess                        embedded                            embedded, memory: true
//	kill           SIGKILL, start again              Abandon, new Server on the same FS  same
//	pause          SIGSTOP / SIGCONT                 link held both ways at the proxy    same
//	restart        SIGTERM, wait <= 10 s, start      Close, new Server                   same
//	network        proxy                             proxy                               proxy
//	power-loss     no (the kernel keeps the cache)   no                                  Abandon, CrashClone keeping nothing unsynced
//	torn-tail      SIGKILL, zero the end of the      Abandon, zero the end of the        Abandon, CrashClone keeping a seeded
//	               last batch of one partition       last batch of one partition         prefix of each file's unsynced writes
//	bitflip        pwrite one bit, live              same                                same, on Mem
//	fsync-fail     no                                FaultFS: Sync fails with EIO        same
//	disk-full      no                                FaultFS: writes fail with ENOSPC    same
//	crash          with a handler (Env.Handle)       same                                same
//
// An embedded broker runs in this process, so pause cannot stop it: it is
// emulated at the proxy, which holds every byte both ways (the broker keeps
// running timers, e.g. group session timeouts, which a SIGSTOPped process
// would not). torn-tail on vfs.Mem keeps a seeded prefix of the unsynced
// writes, so under flush=always (nothing unsynced) it tears nothing; on disk
// it zeroes 1 to all bytes of the last batch of the newest segment of one
// seeded partition while the broker is down. bitflip flips a seeded bit in
// the CRC-covered part of one batch of a sealed segment (not the newest of
// its partition, internal topics excluded) of the running broker; it fails
// when no segment has been sealed yet (keep segment_bytes small). Every
// seeded choice of a fault depends on the seed and the fault's text only,
// not on the order of injection.
//
// Inject applies one fault now and returns the function that ends it (nil
// for the instant faults restart, reset and bitflip). Play injects a list
// of faults on a clock that starts at the given instant, ends each one
// Duration after it began, and returns a Window per fault (start and end
// offsets, error). Faults may overlap: active link faults combine (a
// blackhole wins over everything, the largest delay and slow close win, the
// smallest bandwidth cap wins, per direction); a broker fault that finds the
// broker down (killed and not yet restarted) fails with an error in its
// window. When Play's context ends it undoes what is active, bounded by 30
// s (a killed broker is restarted, the link healed), and leaves out faults
// not yet started.
//
// # The fault proxy
//
// Proxy carries every accepted client connection to the broker with one
// goroutine per direction. Per direction (Up: clients to broker, Down:
// broker to clients) a LinkFault holds each chunk for Delay±Jitter (uniform,
// from the seed; byte order kept), caps the bytes per second with a token
// bucket shared by every connection, blackholes the direction by holding
// its bytes (and closes) until healed, when they go through in order, and
// delays a close by SlowClose. A change applies at once to open connections.
// Reset sends an RST to both sides of every open connection. A client whose
// upstream cannot be dialled (the broker is down) is closed at once, so
// clients see a dead broker as they would without the proxy.
//
// # Concurrency
//
// Env, Proxy and FaultFS are safe for concurrent use. Env serializes its
// broker operations (kill, restart, crash, start); Play runs one goroutine
// per started fault and waits for all of them. Every goroutine and child
// process Env starts ends by Close, which kills the child (which also dies
// with this process: Pdeathsig), closes an embedded server and the proxy,
// and removes a temporary data directory. Faults, Schedules and Random specs
// are plain values.
package sim

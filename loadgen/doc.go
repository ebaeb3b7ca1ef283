// Package loadgen drives a workload against a broker and measures it.
//
// Contract (to be built, issue 4): a workload (OpenMessaging Benchmark YAML
// plus gale's fields) runs through one small driver interface against the
// embedded reference broker, any Kafka cluster, RabbitMQ or NATS JetStream;
// throughput is measured by batch size and latency with HdrHistograms,
// from the intended send time in open-loop runs (no coordinated omission).
// Results go to results.json (schema_version) and .hlog files; operations
// may be recorded as a JSON Lines history for package linearizability.
//
// The package holds no code yet: this comment fixes its place in the
// layout (imports point down: loadgen may import broker, never the reverse).
package loadgen

package kafka

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// A librdkafka consumer group: kcat's balanced consumer (-G).

// kcatGroupConsume runs `kcat -G grp topic` until it has consumed n
// records and exited (committing its offsets), and returns the sequence
// numbers it printed by partition and offset.
func kcatGroupConsume(t *testing.T, kcat, addr, grp, topic string, n int) map[[2]int64]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, kcat, "-b", addr, "-G", grp, "-q", "-c", fmt.Sprint(n),
		"-X", "auto.offset.reset=earliest", "-X", "session.timeout.ms=6000",
		"-f", "%p %o %s\n", topic)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kcat: %v\nstderr:\n%s\nstdout: %d bytes", err, stderr.String(), out.Len())
	}
	got := make(map[[2]int64]int)
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var p, o int64
		var v string
		if _, err := fmt.Sscanf(line, "%d %d %s", &p, &o, &v); err != nil || len(v) < 9 {
			t.Fatalf("kcat printed %q: %v", line, err)
		}
		got[[2]int64{p, o}] = seqOf(t, []byte(v))
	}
	return got
}

// TestKcatGroupConsume consumes with kcat in a group, then again with a new
// kcat in the same group after more records arrive: the second resumes
// from the offsets the first committed.
func TestKcatGroupConsume(t *testing.T) {
	kcat := needKcat(t)
	const parts, n = 3, 300
	b := groupBroker(t, "")
	b.createTopic(t, "kc", parts)
	check := func(got map[[2]int64]int, from, to int) {
		t.Helper()
		if len(got) != to-from {
			t.Fatalf("kcat consumed %d records, want %d", len(got), to-from)
		}
		for at, seq := range got {
			if seq < from || seq >= to || int64(seq%parts) != at[0] || int64(seq/parts) != at[1] {
				t.Fatalf("kcat: record %d at partition %d offset %d; want records %d-%d at their offsets", seq, at[0], at[1], from, to)
			}
		}
	}
	produce(t, b, "kc", parts, 0, n)
	check(kcatGroupConsume(t, kcat, b.addr, "kcg", "kc", n), 0, n)
	committed := offsetFetch(t, b.client(t), "kcg", "kc", parts)
	for p := range int32(parts) {
		if committed[p] != n/parts {
			t.Errorf("partition %d: kcat committed %d, want %d", p, committed[p], n/parts)
		}
	}
	produce(t, b, "kc", parts, n, 2*n)
	check(kcatGroupConsume(t, kcat, b.addr, "kcg", "kc", n), n, 2*n)
}

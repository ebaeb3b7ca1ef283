package loadgen

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	for _, tc := range []struct {
		in, kind, str string
		err           bool
	}{
		{"embedded", "embedded", "embedded", false},
		{"null", "null", "null", false},
		{"kafka://a:9092,b:9093", "kafka", "kafka://a:9092,b:9093", false},
		{"kafka://a", "kafka", "kafka://a:9092", false},
		{"amqp://guest:s3cret@127.0.0.1:5672/", "amqp", "amqp://127.0.0.1:5672", false},
		{"nats://127.0.0.1:4222", "nats", "nats://127.0.0.1:4222", false},
		{"redis://x:1", "", "", true},
		{"kafka://", "", "", true},
		{"amqp://u:p@%zz/", "", "", true},
	} {
		got, err := ParseTarget(tc.in)
		if tc.err {
			if err == nil || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("ParseTarget(%q) = %v, %v; want an error without credentials", tc.in, got, err)
			}
			continue
		}
		if err != nil || got.Kind != tc.kind || got.String() != tc.str {
			t.Errorf("ParseTarget(%q) = %q (%s), %v; want %q (%s)", tc.in, got.String(), got.Kind, err, tc.str, tc.kind)
		}
	}
}

// Credentials never show in any print form.
func TestCredentialsNotPrinted(t *testing.T) {
	tgt, _ := ParseTarget("amqp://guest:s3cret@127.0.0.1:5672/")
	sec := Security{SASLMechanism: "PLAIN", SASLUser: "alice", SASLPassword: "s3cret"}
	for _, s := range []string{
		fmt.Sprint(tgt), fmt.Sprintf("%+v", tgt), fmt.Sprintf("%#v", tgt),
		fmt.Sprint(sec), fmt.Sprintf("%+v", sec), fmt.Sprintf("%#v", sec),
		fmt.Sprintf("%+v", Config{Target: tgt, Security: sec}),
	} {
		if strings.Contains(s, "s3cret") || strings.Contains(s, "alice") {
			t.Errorf("credentials printed: %s", s)
		}
	}
}

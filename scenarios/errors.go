package scenarios

import (
	"errors"
	"fmt"
)

// ErrScenario marks every error in a scenario file: bad YAML, an unknown
// field, a value of the wrong type, a fault the target cannot inject, a
// fault past the end of its run, an unknown metric. gale run exits 2 on it.
var ErrScenario = errors.New("scenarios: invalid scenario")

// Error is an invalid scenario: the file, the line and the field at fault,
// and what is wrong. It matches ErrScenario.
type Error struct {
	File  string // the scenario file, or "canned:<name>"
	Line  int    // 1-based; 0 when no line applies
	Field string // the field's path, such as "faults[1].at"; may be empty
	Msg   string
}

func (e *Error) Error() string {
	s := "scenario"
	if e.File != "" {
		s += " " + e.File
	}
	if e.Line > 0 {
		s += fmt.Sprintf(":%d", e.Line)
	}
	s += ": "
	if e.Field != "" {
		s += e.Field + ": "
	}
	return s + e.Msg
}

func (e *Error) Unwrap() error { return ErrScenario }

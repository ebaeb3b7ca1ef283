package linearizability

import (
	"errors"
	"fmt"
	"io"

	"github.com/anishathalye/porcupine"
)

// ErrNothingToShow is returned by WriteHTML when no partition has a
// violation.
var ErrNothingToShow = errors.New("linearizability: no violating partition to visualise")

// WriteHTML writes porcupine's visualisation (one self-contained HTML page)
// of every partition with a violation: the longest partial linearizations
// of one that has none, or a linearization, with each violating anomaly
// marked on the operations it names. It searches again, within the
// Options.Timeout given to Check.
func (r *Result) WriteHTML(w io.Writer) error {
	show := make(map[partKey]bool)
	for _, a := range r.Anomalies {
		if a.Violation {
			show[partKey{a.Topic, a.Partition}] = true
		}
	}
	var ops []porcupine.Operation
	for _, p := range r.parts {
		if show[partKey{p.topic, p.part}] {
			ops = append(ops, p.modelOps(len(ops))...)
		}
	}
	if len(ops) == 0 {
		return ErrNothingToShow
	}
	model := logModel
	model.Partition = func(h []porcupine.Operation) [][]porcupine.Operation {
		var parts [][]porcupine.Operation
		index := make(map[*partition]int)
		for _, o := range h {
			p := o.Input.(*modelOp).p
			i, ok := index[p]
			if !ok {
				i = len(parts)
				index[p] = i
				parts = append(parts, nil)
			}
			parts[i] = append(parts[i], o)
		}
		return parts
	}
	_, info := porcupine.CheckOperationsVerbose(model, ops, r.opts.Timeout)
	info.AddAnnotations(r.annotations())
	if err := porcupine.Visualize(model, info, w); err != nil {
		return fmt.Errorf("linearizability: visualise: %w", err)
	}
	return nil
}

// annotations marks each violating anomaly on the operations it names.
func (r *Result) annotations() []porcupine.Annotation {
	byLine := make(map[int]*Op, len(r.ops))
	for i := range r.ops {
		byLine[r.ops[i].Line] = &r.ops[i]
	}
	var out []porcupine.Annotation
	for _, a := range r.Anomalies {
		if !a.Violation {
			continue
		}
		for _, l := range a.Lines {
			op := byLine[l]
			if op == nil {
				continue
			}
			out = append(out, porcupine.Annotation{
				Tag:             fmt.Sprintf("%s/%d %s", a.Topic, a.Partition, a.Kind),
				Start:           op.Call,
				End:             op.Return,
				Description:     fmt.Sprintf("%s (line %d)", a.Kind, l),
				Details:         a.Explain,
				BackgroundColor: "#f8d7da",
			})
		}
	}
	return out
}

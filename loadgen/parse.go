package loadgen

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// LoadWorkload reads and parses a workload file. A relative payloadFile is
// resolved against the file's directory. The result is not yet validated.
func LoadWorkload(path string) (Workload, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Workload{}, werr("%v", err)
	}
	w, err := ParseWorkload(data)
	if err != nil {
		return w, werr("%s: %v", path, strings.TrimPrefix(err.Error(), ErrWorkload.Error()+": "))
	}
	if w.PayloadFile != "" && !filepath.IsAbs(w.PayloadFile) {
		w.PayloadFile = filepath.Join(filepath.Dir(path), w.PayloadFile)
	}
	return w, nil
}

// ParseWorkload parses one YAML workload document. A field gale does not
// know is an error naming the field and its line; so is a value of the
// wrong type. The result is not yet validated (see Workload.Validate).
func ParseWorkload(data []byte) (Workload, error) {
	var w Workload
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return w, werr("%v", err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return w, werr("line %d: a workload is a mapping of field: value", doc.Line)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return w, werr("line %d: one workload per file (found a second document)", extra.Line)
	}
	return DecodeWorkload(doc.Content[0])
}

// DecodeWorkload decodes a workload from a YAML mapping node, such as the
// workload section of a scenario file, with ParseWorkload's checks; errors
// name lines of the document the node came from.
func DecodeWorkload(n *yaml.Node) (Workload, error) {
	var w Workload
	if n.Kind != yaml.MappingNode {
		return w, werr("line %d: a workload is a mapping of field: value", n.Line)
	}
	if err := checkFields(n, reflect.TypeFor[Workload](), ""); err != nil {
		return w, err
	}
	if err := n.Decode(&w); err != nil {
		return w, werr("%v", err)
	}
	if w.Sweep != nil {
		if err := checkSweep(w, n); err != nil {
			return w, err
		}
	}
	return w, nil
}

var durationType = reflect.TypeFor[time.Duration]()

// checkFields reports the first key of mapping n that names no field of t
// (by yaml tag), descending into nested structs.
func checkFields(n *yaml.Node, t reflect.Type, prefix string) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		f, ok := fieldByTag(t, k.Value)
		if !ok {
			return werr("line %d: unknown field %q", k.Line, prefix+k.Value)
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft != durationType && v.Kind == yaml.MappingNode {
			if err := checkFields(v, ft, prefix+k.Value+"."); err != nil {
				return err
			}
		}
	}
	return nil
}

func fieldByTag(t reflect.Type, tag string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name == tag {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// checkSweep makes sure the swept field exists, is not the sweep itself,
// and takes every listed value.
func checkSweep(w Workload, root *yaml.Node) error {
	line := root.Line
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "sweep" {
			line = root.Content[i].Line
		}
	}
	s := w.Sweep
	if s.Field == "" || strings.HasPrefix(s.Field, "sweep") {
		return werr("line %d: sweep.field must name a workload field, got %q", line, s.Field)
	}
	if len(s.Values) == 0 {
		return werr("line %d: sweep.values is empty", line)
	}
	for _, v := range s.Values {
		if _, err := w.With(s.Field, v); err != nil {
			return werr("line %d: sweep: %v", line, strings.TrimPrefix(err.Error(), ErrWorkload.Error()+": "))
		}
	}
	return nil
}

// With returns a copy of w with the field at the YAML path field (such as
// "batch.maxMessages") set to value, parsed as YAML, and no sweep.
func (w Workload) With(field, value string) (Workload, error) {
	w.Sweep = nil
	v := reflect.ValueOf(&w).Elem()
	parts := strings.Split(field, ".")
	for i, p := range parts {
		f, ok := fieldByTag(v.Type(), p)
		if !ok {
			return w, werr("unknown field %q", field)
		}
		v = v.FieldByIndex(f.Index)
		if i < len(parts)-1 && v.Kind() == reflect.Pointer && v.Type().Elem().Kind() == reflect.Struct {
			n := reflect.New(v.Type().Elem()) // a copy: never write through the caller's pointer
			if !v.IsNil() {
				n.Elem().Set(v.Elem())
			}
			v.Set(n)
			v = n.Elem()
		}
		if i < len(parts)-1 && (v.Kind() != reflect.Struct || v.Type() == durationType) {
			return w, werr("field %q has no sub-fields", strings.Join(parts[:i+1], "."))
		}
	}
	if v.Kind() == reflect.Pointer {
		v.Set(reflect.New(v.Type().Elem()))
		v = v.Elem()
	}
	if err := yaml.Unmarshal([]byte(value), v.Addr().Interface()); err != nil {
		return w, werr("%s = %q: %v", field, value, err)
	}
	return w, nil
}

// Runs expands w's sweep: one workload per value, named after it, or w
// alone when it has no sweep. The workloads are not validated.
func (w Workload) Runs() ([]Workload, error) {
	if w.Sweep == nil {
		return []Workload{w}, nil
	}
	var runs []Workload
	for _, val := range w.Sweep.Values {
		r, err := w.With(w.Sweep.Field, val)
		if err != nil {
			return nil, err
		}
		r.Name = w.Name + "/" + w.Sweep.Field + "=" + val
		runs = append(runs, r)
	}
	return runs, nil
}

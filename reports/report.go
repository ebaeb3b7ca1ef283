package reports

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Options are Generate's settings; the zero value is a valid default.
type Options struct {
	// Title heads the report. Default: "gale report: " and the scenario
	// or workload name(s).
	Title string
	// Names names each input, in order (usually the file it was read
	// from); shown beside its section and used to tell apart inputs with
	// the same target and workload. Default: none.
	Names []string
	// Hlogs are .hlog files (HdrHistogram logs, as gale loadgen writes
	// them beside results.json) to merge into one latency spectrum: the
	// full distribution, from every machine that ran a share of the load.
	Hlogs []string
	// HlogSkip leaves out each log's intervals that start within it of the
	// log's first (its warmup). Default 0: every interval.
	HlogSkip time.Duration
}

// Report lists what Generate wrote.
type Report struct {
	Dir      string
	Markdown string // path of report.md
	HTML     string // path of report.html
	Plots    []Plot
	// Files are every file written, report.md and report.html first,
	// then each plot's PNG and SVG.
	Files []string
}

// Plot is one figure of a report, written as PNG and SVG.
type Plot struct {
	Name  string // the files' name without extension
	Title string
	Alt   string // what it shows, in one line
	PNG   string // file names, relative to the report's directory
	SVG   string
}

// Generate writes a report on inputs (one section per input, in order)
// into dir, creating it if needed: report.md, report.html and the plots as
// PNG and SVG. It draws only the plots the data allows. inputs may be
// empty when opts.Hlogs is not. It does not change inputs, and is safe to
// call from several goroutines for different directories.
func Generate(dir string, inputs []*Results, opts Options) (*Report, error) {
	if len(inputs) == 0 && len(opts.Hlogs) == 0 {
		return nil, errors.New("reports: nothing to report: no results and no histogram logs")
	}
	for i, r := range inputs {
		if r == nil {
			return nil, fmt.Errorf("reports: input %d is nil", i+1)
		}
	}
	var hl *HistogramLogs
	if len(opts.Hlogs) > 0 {
		var err error
		if hl, err = ReadHistogramLogs(opts.Hlogs, opts.HlogSkip); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	g := newGenerator(dir, inputs, opts, hl)
	blocks, err := g.content()
	if err != nil {
		return nil, err
	}
	rep := &Report{
		Dir:      dir,
		Markdown: filepath.Join(dir, "report.md"),
		HTML:     filepath.Join(dir, "report.html"),
		Plots:    g.plots,
	}
	if err := os.WriteFile(rep.Markdown, []byte(markdown(blocks)), 0o644); err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	if err := os.WriteFile(rep.HTML, []byte(htmlDoc(g.title, blocks)), 0o644); err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	rep.Files = []string{rep.Markdown, rep.HTML}
	for _, p := range rep.Plots {
		rep.Files = append(rep.Files, filepath.Join(dir, p.PNG), filepath.Join(dir, p.SVG))
	}
	return rep, nil
}

// input is one results file as the report shows it.
type input struct {
	res   *Results
	name  string // Options.Names[i], or ""
	label string // its section's heading, unique in the report
}

// generator holds one report's inputs and the plots drawn so far.
type generator struct {
	dir    string
	opts   Options
	inputs []input
	hl     *HistogramLogs
	title  string
	plots  []Plot
	used   map[string]bool // plot names taken
}

func newGenerator(dir string, res []*Results, opts Options, hl *HistogramLogs) *generator {
	g := &generator{dir: dir, opts: opts, hl: hl, used: map[string]bool{}}
	for i, r := range res {
		in := input{res: r}
		if i < len(opts.Names) {
			in.name = opts.Names[i]
		}
		in.label = describe(r)
		g.inputs = append(g.inputs, in)
	}
	g.uniqueLabels()
	g.title = opts.Title
	if g.title == "" {
		g.title = defaultTitle(res)
	}
	return g
}

// describe labels a results file: its target and its scenario or workload.
func describe(r *Results) string {
	what := r.WorkloadName()
	if r.Scenario != nil && r.Scenario.Name != "" {
		what = r.Scenario.Name
	}
	return join(targetOf(r), what)
}

// targetOf is a file's target, or its first phase's.
func targetOf(r *Results) string {
	if r.Target != "" {
		return r.Target
	}
	for i := range r.Phases {
		if r.Phases[i].Target != "" {
			return r.Phases[i].Target
		}
	}
	return ""
}

// uniqueLabels makes the inputs' labels unique: with the file name, then
// with the input's number.
func (g *generator) uniqueLabels() {
	count := func() map[string]int {
		m := map[string]int{}
		for _, in := range g.inputs {
			m[in.label]++
		}
		return m
	}
	m := count()
	for i := range g.inputs {
		in := &g.inputs[i]
		if in.label == "" {
			in.label = "results"
		}
		if m[in.label] > 1 && in.name != "" {
			in.label += " (" + in.name + ")"
		}
	}
	m = count()
	for i := range g.inputs {
		if m[g.inputs[i].label] > 1 {
			g.inputs[i].label += fmt.Sprintf(" #%d", i+1)
		}
	}
}

func defaultTitle(res []*Results) string {
	var names []string
	seen := map[string]bool{}
	for _, r := range res {
		n := r.WorkloadName()
		if r.Scenario != nil && r.Scenario.Name != "" {
			n = r.Scenario.Name
		}
		if n != "" && !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "gale report"
	}
	return "gale report: " + strings.Join(names, ", ")
}

// plotName returns a file name stem for a plot made of parts, unique in
// the report: lower case, letters, digits and dashes.
func (g *generator) plotName(parts ...string) string {
	var b strings.Builder
	last := ""
	for _, p := range parts {
		s := slug(p)
		if s == "" || s == last {
			continue
		}
		last = s
		if b.Len() > 0 {
			b.WriteByte('-')
		}
		b.WriteString(s)
	}
	name := b.String()
	if name == "" {
		name = "plot"
	}
	base := name
	for i := 2; g.used[name]; i++ {
		name = fmt.Sprintf("%s-%d", base, i)
	}
	g.used[name] = true
	return name
}

// slug keeps letters and digits, lower case, and turns runs of anything
// else into one dash; at most 40 bytes.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	return b.String()
}

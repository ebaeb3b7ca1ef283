package reports

// A report's content is built once as a list of blocks (content.go), then
// written as Markdown (markdown.go) and as HTML (html.go), so the two always
// say the same thing.

// block is one piece of a report: heading, para, table, list, figure or
// details.
type block interface{ isBlock() }

// spanKind says how a span of text is shown.
type spanKind int

const (
	plain  spanKind = iota
	strong          // bold
	code            // monospace
	link            // a link to href
)

// span is a run of inline text.
type span struct {
	kind spanKind
	text string
	href string // for link
}

func txt(s string) span                 { return span{kind: plain, text: s} }
func bold(s string) span                { return span{kind: strong, text: s} }
func mono(s string) span                { return span{kind: code, text: s} }
func linkTo(s, href string) span        { return span{kind: link, text: s, href: href} }
func spans(ss ...span) []span           { return ss }
func paraOf(ss ...span) para            { return para{spans: ss} }
func textPara(s string) para            { return para{spans: []span{txt(s)}} }
func headingOf(l int, s string) heading { return heading{level: l, text: s} }

// heading is a section title; level 1 is the report's title.
type heading struct {
	level int
	text  string
}

// para is a paragraph.
type para struct{ spans []span }

// list is a bulleted list, one item a line.
type list struct{ items [][]span }

// table is a table with a header row. Numeric columns are right-aligned.
type table struct {
	head  []string
	right []bool // per column: right-aligned
	rows  [][]string
}

// figure is a plot: Markdown links to its files, HTML embeds its SVG.
type figure struct {
	plot Plot
	svg  []byte
	err  error // the plot could not be drawn
}

// details is a collapsed group of blocks (<details> in both outputs).
type details struct {
	summary string
	blocks  []block
}

func (heading) isBlock() {}
func (para) isBlock()    {}
func (list) isBlock()    {}
func (table) isBlock()   {}
func (figure) isBlock()  {}
func (details) isBlock() {}

package reports

import (
	"strings"
)

// markdown writes blocks as GitHub-flavoured Markdown, fit for a CI step
// summary: tables, links to the plots (a step summary cannot show local
// images) and <details> for what most readers skip.
func markdown(bs []block) string {
	var b strings.Builder
	for i, bl := range bs {
		if _, ok := bl.(list); ok && i > 0 {
			if _, ok := bs[i-1].(list); ok {
				b.WriteString("<!-- -->\n\n") // two lists, not one
			}
		}
		writeMarkdown(&b, bl)
	}
	return b.String()
}

func writeMarkdown(b *strings.Builder, bl block) {
	switch v := bl.(type) {
	case heading:
		b.WriteString(strings.Repeat("#", v.level) + " " + mdEscape(v.text) + "\n\n")
	case para:
		b.WriteString(mdSpans(v.spans) + "\n\n")
	case list:
		for _, it := range v.items {
			b.WriteString("- " + mdSpans(it) + "\n")
		}
		b.WriteString("\n")
	case table:
		writeMarkdownTable(b, v)
	case figure:
		if v.err != nil {
			return
		}
		b.WriteString("📈 " + mdSpans(spans(linkTo(v.plot.Title, v.plot.PNG), txt(" ("), linkTo("SVG", v.plot.SVG), txt(")"))) + "\n\n")
	case details:
		b.WriteString("<details><summary>" + htmlEscape(v.summary) + "</summary>\n\n")
		for _, inner := range v.blocks {
			writeMarkdown(b, inner)
		}
		b.WriteString("</details>\n\n")
	}
}

func writeMarkdownTable(b *strings.Builder, t table) {
	row := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			b.WriteString(" " + mdCell(c) + " |")
		}
		b.WriteString("\n")
	}
	row(t.head)
	b.WriteString("|")
	for i := range t.head {
		if i < len(t.right) && t.right[i] {
			b.WriteString("---:|")
		} else {
			b.WriteString("---|")
		}
	}
	b.WriteString("\n")
	for _, r := range t.rows {
		row(r)
	}
	b.WriteString("\n")
}

func mdSpans(ss []span) string {
	var b strings.Builder
	for _, s := range ss {
		switch s.kind {
		case strong:
			b.WriteString("**" + mdEscape(s.text) + "**")
		case code:
			b.WriteString(mdCode(s.text))
		case link:
			b.WriteString("[" + mdEscape(s.text) + "](" + mdURL(s.href) + ")")
		default:
			b.WriteString(mdEscape(s.text))
		}
	}
	return b.String()
}

// mdEscape backslash-escapes the characters that would start Markdown
// (or HTML) markup inside a line of text.
func mdEscape(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '<', '>', '|', '~':
			b.WriteByte('\\')
		case '#', '+', '-':
			if i == 0 { // a heading or a list item
				b.WriteByte('\\')
			}
		case '\n', '\r':
			r = ' '
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mdCell is a table cell: escaped text, where an empty cell stays empty.
func mdCell(s string) string { return mdEscape(s) }

// mdCode is a code span; a text holding backticks gets a longer fence.
func mdCode(s string) string {
	s = strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// mdURL escapes what would end a link target.
func mdURL(s string) string {
	return strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E").Replace(s)
}

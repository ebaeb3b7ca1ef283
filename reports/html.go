package reports

import (
	"encoding/base64"
	"html"
	"strconv"
	"strings"
)

// htmlDoc writes blocks as one self-contained HTML page: the plots are
// embedded as SVG data: URIs, the style is inline, and the page makes no
// request of its own (no scripts, fonts, stylesheets or images from
// elsewhere); links to the PNG and SVG files beside it are relative.
func htmlDoc(title string, bs []block) string {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="gale report">
<title>` + htmlEscape(title) + `</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", "Liberation Sans", Arial, sans-serif; max-width: 64rem; margin: 1.5rem auto; padding: 0 1rem; color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.6rem; border-bottom: 2px solid #333; padding-bottom: .3rem; }
h2 { font-size: 1.3rem; border-bottom: 1px solid #bbb; padding-bottom: .2rem; margin-top: 2rem; }
h3 { font-size: 1.1rem; margin-top: 1.5rem; }
h4 { font-size: 1rem; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #c8c8c8; padding: .25rem .55rem; }
th { background: #f0f0f0; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fafafa; }
code { font-family: ui-monospace, "Liberation Mono", Menlo, Consolas, monospace; font-size: .88em; background: #f3f3f3; padding: .05rem .25rem; border-radius: 3px; }
figure { margin: 1rem 0 1.5rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-size: .88rem; color: #444; }
details { margin: .5rem 0 1rem; }
summary { cursor: pointer; color: #0b5394; }
</style>
</head>
<body>
`)
	for _, bl := range bs {
		writeHTML(&b, bl)
	}
	b.WriteString("</body>\n</html>\n")
	return b.String()
}

func writeHTML(b *strings.Builder, bl block) {
	switch v := bl.(type) {
	case heading:
		l := strconv.Itoa(min(max(v.level, 1), 6))
		b.WriteString("<h" + l + ">" + htmlEscape(v.text) + "</h" + l + ">\n")
	case para:
		b.WriteString("<p>" + htmlSpans(v.spans) + "</p>\n")
	case list:
		b.WriteString("<ul>\n")
		for _, it := range v.items {
			b.WriteString("<li>" + htmlSpans(it) + "</li>\n")
		}
		b.WriteString("</ul>\n")
	case table:
		writeHTMLTable(b, v)
	case figure:
		if v.err != nil {
			return
		}
		p := v.plot
		b.WriteString(`<figure id="` + htmlEscape(p.Name) + `"><img src="data:image/svg+xml;base64,` +
			base64.StdEncoding.EncodeToString(v.svg) + `" alt="` + htmlEscape(p.Title+": "+p.Alt) + `">` +
			"<figcaption>" + htmlEscape(p.Title) + ` — <a href="` + htmlEscape(p.PNG) + `">PNG</a> · <a href="` +
			htmlEscape(p.SVG) + `">SVG</a></figcaption></figure>` + "\n")
	case details:
		b.WriteString("<details><summary>" + htmlEscape(v.summary) + "</summary>\n")
		for _, inner := range v.blocks {
			writeHTML(b, inner)
		}
		b.WriteString("</details>\n")
	}
}

func writeHTMLTable(b *strings.Builder, t table) {
	class := func(i int) string {
		if i < len(t.right) && t.right[i] {
			return ` class="num"`
		}
		return ""
	}
	b.WriteString("<table>\n<thead><tr>")
	for i, h := range t.head {
		b.WriteString("<th" + class(i) + ">" + htmlEscape(h) + "</th>")
	}
	b.WriteString("</tr></thead>\n<tbody>\n")
	for _, r := range t.rows {
		b.WriteString("<tr>")
		for i, c := range r {
			b.WriteString("<td" + class(i) + ">" + htmlEscape(c) + "</td>")
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody>\n</table>\n")
}

func htmlSpans(ss []span) string {
	var b strings.Builder
	for _, s := range ss {
		switch s.kind {
		case strong:
			b.WriteString("<strong>" + htmlEscape(s.text) + "</strong>")
		case code:
			b.WriteString("<code>" + htmlEscape(s.text) + "</code>")
		case link:
			b.WriteString(`<a href="` + htmlEscape(s.href) + `">` + htmlEscape(s.text) + "</a>")
		default:
			b.WriteString(htmlEscape(s.text))
		}
	}
	return b.String()
}

func htmlEscape(s string) string { return html.EscapeString(s) }

package register

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"strings"

	"github.com/fidelis/fidelis"
)

// Output formats.
const (
	OutJSON     = "json"
	OutMarkdown = "md"
	OutHTML     = "html"
)

// ParseFormat validates an output format: "json", "md" or "html" ("" means def).
func ParseFormat(s, def string) (string, error) {
	if s == "" {
		s = def
	}
	switch s {
	case OutJSON, OutMarkdown, OutHTML:
		return s, nil
	}
	return "", fidelis.Invalid(fidelis.FieldError{Field: "format", Rule: "one_of", Message: "must be json, md or html"})
}

// ContentType returns the media type of a format.
func ContentType(format string) string {
	switch format {
	case OutMarkdown:
		return "text/markdown; charset=utf-8"
	case OutHTML:
		return "text/html; charset=utf-8"
	}
	return "application/json"
}

// Document is a register or a notice, ready to render.
type Document interface {
	// Markdown renders the document as CommonMark; every text is escaped.
	Markdown() []byte
	// HTMLFragment renders the document's body (no <html>, no styles), escaped, for
	// embedding in a page.
	HTMLFragment() template.HTML
	// Hash returns the content hash.
	Hash() string
	// Language returns the document's language.
	Language() string
	// Heading returns the title.
	Heading() string
}

var (
	_ Document = (*Register)(nil)
	_ Document = (*Notice)(nil)
)

// Hash returns the register's content hash.
func (r *Register) Hash() string { return r.ContentHash }

// Language returns the register's language.
func (r *Register) Language() string { return r.Lang }

// Heading returns the register's title.
func (r *Register) Heading() string { return r.Title }

// Hash returns the notice's content hash.
func (n *Notice) Hash() string { return n.ContentHash }

// Language returns the notice's language.
func (n *Notice) Language() string { return n.Lang }

// Heading returns the notice's title.
func (n *Notice) Heading() string { return n.Title }

// Render renders doc in format: indented JSON, Markdown or a standalone HTML page.
func Render(doc Document, format string) ([]byte, error) {
	switch format {
	case OutMarkdown:
		return doc.Markdown(), nil
	case OutHTML:
		return HTMLPage(doc), nil
	case OutJSON:
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return nil, err
		}
		return append(b, '\n'), nil
	}
	_, err := ParseFormat(format, "")
	return nil, err
}

// --- Markdown ---

var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`, `<`, `\<`, `>`, `\>`,
	`#`, `\#`, `|`, `\|`, `~`, `\~`, `!`, `\!`, `&`, `&amp;`, "\r", "", "\n", ", ",
)

// md escapes text for Markdown: nothing in it can become markup, a link or raw HTML, and it
// stays on one line.
func md(s string) string {
	s = mdEscaper.Replace(s)
	// A leading list or block marker would start a block: escape it ("1." as "1\.").
	if s != "" && strings.ContainsRune("-+=", rune(s[0])) {
		s = `\` + s
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }); i > 0 && (s[i] == '.' || s[i] == ')') {
		s = s[:i] + `\` + s[i:]
	}
	return s
}

type mdWriter struct {
	b    bytes.Buffer
	lang string
}

func (w *mdWriter) line(parts ...string) {
	for _, p := range parts {
		w.b.WriteString(p)
	}
	w.b.WriteByte('\n')
}

func (w *mdWriter) or(s string) string {
	if s == "" {
		return "*" + l(w.lang, "not_configured") + "*"
	}
	return md(s)
}

func (w *mdWriter) item(label, value string) { w.line("- **", md(label), "**", w.colon(), value) }

func (w *mdWriter) colon() string { return colon(w.lang) }

func (w *mdWriter) list(label string, values []string, none string) {
	if len(values) == 0 {
		w.item(label, md(none))
		return
	}
	esc := make([]string, len(values))
	for i, v := range values {
		esc[i] = md(v)
	}
	w.item(label, strings.Join(esc, semicolon(w.lang)))
}

func (w *mdWriter) parties(c, d Party) {
	w.line("## ", md(l(w.lang, "h.controller")))
	w.line()
	w.item(l(w.lang, "f.name"), w.or(c.Name))
	w.item(l(w.lang, "f.address"), w.or(c.Address))
	w.item(l(w.lang, "f.email"), w.or(c.Email))
	w.line()
	w.line("## ", md(l(w.lang, "h.dpo")))
	w.line()
	w.item(l(w.lang, "f.name"), w.or(d.Name))
	w.item(l(w.lang, "f.contact"), w.or(d.Contact))
	w.line()
}

func (w *mdWriter) version(registryVersion, registryDate, hash string) {
	w.line("## ", md(l(w.lang, "h.version")))
	w.line()
	w.item(l(w.lang, "f.registry_version"), "`"+registryVersion+"`")
	if registryDate != "" {
		w.item(l(w.lang, "f.registry_date"), md(registryDate))
	}
	w.item(l(w.lang, "f.content_hash"), "`"+hash+"`")
	w.line()
	w.line(md(l(w.lang, "hash.note")))
}

// ruleLinks renders the retention rules a purpose points to, by name, or nothing.
func (w *mdWriter) ruleLinks(ids []string, label func(string) string) {
	if len(ids) == 0 {
		return
	}
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = label(id)
	}
	w.list(l(w.lang, "f.retention_rules"), names, "")
}

// retentionRule renders one rule as a sub-section; register adds the default and the
// change, which the notice does not state.
func (w *mdWriter) retentionRule(v RetentionView, notice bool, reg *RegisterRetention) {
	w.line("### ", md(v.Name), " (", md(v.Rule), ")")
	w.line()
	if notice {
		w.item(l(w.lang, "f.notice_subjects"), md(v.Subjects))
		w.item(l(w.lang, "f.notice_period"), md(v.Period))
		w.item(l(w.lang, "f.notice_at_end"), md(v.AtEnd))
		w.line()
		return
	}
	w.item(l(w.lang, "f.rule_subjects"), md(v.Subjects))
	w.item(l(w.lang, "f.period"), md(v.Period))
	w.item(l(w.lang, "f.default"), md(reg.Default))
	if reg.Overridden {
		w.item(l(w.lang, "f.change"), md(l(w.lang, "f.changed_at")+" "+reg.ChangedAt)+semicolon(w.lang)+md(l(w.lang, "f.change_reason"))+w.colon()+md(reg.ChangeReason))
	} else {
		w.item(l(w.lang, "f.change"), md(l(w.lang, "retention.unchanged")))
	}
	w.item(l(w.lang, "f.at_end"), md(v.AtEnd))
	w.line()
}

func (w *mdWriter) recipients(rs []RecipientView) {
	if len(rs) == 0 {
		w.line(md(l(w.lang, "none.external")))
		w.line()
		return
	}
	w.line("| ", md(l(w.lang, "f.recipient")), " | ", md(l(w.lang, "f.kind")), " | ", md(l(w.lang, "f.country")), " | ",
		md(l(w.lang, "h.purposes")), " | ", md(l(w.lang, "f.safeguard")), " |")
	w.line("|---|---|---|---|---|")
	for _, r := range rs {
		ps := make([]string, len(r.Purposes))
		for i, p := range r.Purposes {
			ps[i] = md(string(p))
		}
		w.line("| ", md(r.Name), " | ", md(r.KindLabel), " | ", md(r.Country), " | ", strings.Join(ps, ", "), " | ", md(r.SafeguardLabel), " |")
	}
	w.line()
}

// Markdown renders the register.
func (r *Register) Markdown() []byte {
	w := &mdWriter{lang: r.Lang}
	w.line("# ", md(r.Title))
	w.line()
	w.line(md(l(r.Lang, "register.intro")))
	w.line()
	w.parties(r.Controller, r.DPO)
	w.line("## ", md(l(r.Lang, "h.activities")))
	w.line()
	for _, a := range r.Activities {
		w.line("### ", md(a.Description), " (`", string(a.Purpose), "`)")
		w.line()
		w.item(l(r.Lang, "f.basis"), md(a.LawfulBasisLabel))
		if a.LegitimateInterest != "" {
			w.item(l(r.Lang, "f.interest"), md(a.LegitimateInterest))
		}
		w.list(l(r.Lang, "f.subjects"), a.DataSubjects, "")
		var cats []string
		for _, c := range a.DataCategories {
			cats = append(cats, c.Text())
		}
		w.list(l(r.Lang, "f.categories"), cats, l(r.Lang, "none.data"))
		w.list(l(r.Lang, "f.internal"), a.InternalRecipients, l(r.Lang, "none.internal"))
		w.list(l(r.Lang, "f.external"), a.ExternalRecipients, l(r.Lang, "none.external"))
		w.list(l(r.Lang, "f.transfers"), a.Transfers, l(r.Lang, "none.transfers"))
		w.item(l(r.Lang, "f.retention"), md(a.Retention))
		w.ruleLinks(a.RetentionRuleIDs, r.RuleLabel)
		w.line()
	}
	w.line("## ", md(l(r.Lang, "h.retention")))
	w.line()
	if len(r.RetentionRules) == 0 {
		w.line(md(l(r.Lang, "retention.none")))
		w.line()
	} else {
		w.line(md(l(r.Lang, "retention.intro")))
		w.line()
	}
	for i := range r.RetentionRules {
		w.retentionRule(r.RetentionRules[i].RetentionView, false, &r.RetentionRules[i])
	}
	w.line("## ", md(l(r.Lang, "h.recipients")))
	w.line()
	w.recipients(r.Recipients)
	w.line("## ", md(l(r.Lang, "h.security")))
	w.line()
	for _, m := range r.Security {
		w.line("- ", md(m))
	}
	w.line()
	w.version(r.RegistryVersion, r.RegistryDate, r.ContentHash)
	return w.b.Bytes()
}

// Markdown renders the notice.
func (n *Notice) Markdown() []byte {
	w := &mdWriter{lang: n.Lang}
	w.line("# ", md(n.Title))
	w.line()
	w.line(md(n.Intro))
	w.line()
	w.parties(n.Controller, n.DPO)
	w.line("## ", md(l(n.Lang, "h.purposes")))
	w.line()
	for _, p := range n.Purposes {
		w.line("### ", md(p.Description))
		w.line()
		w.item(l(n.Lang, "f.basis"), md(p.LawfulBasisLabel))
		if p.LegitimateInterest != "" {
			w.item(l(n.Lang, "f.interest"), md(p.LegitimateInterest))
		}
		w.list(l(n.Lang, "f.data"), p.Data, l(n.Lang, "none.data"))
		w.item(l(n.Lang, "f.retention"), md(p.Retention))
		w.ruleLinks(p.RetentionRuleIDs, n.RuleLabel)
		w.item(l(n.Lang, "f.required"), md(p.Required))
		w.line()
	}
	w.line("## ", md(l(n.Lang, "h.notice_retention")))
	w.line()
	if len(n.RetentionRules) == 0 {
		w.line(md(l(n.Lang, "retention.none")))
		w.line()
	} else {
		w.line(md(n.RetentionIntro))
		w.line()
	}
	for _, v := range n.RetentionRules {
		w.retentionRule(v, true, nil)
	}
	w.line("## ", md(l(n.Lang, "h.recipients")))
	w.line()
	w.line(md(n.RecipientsIntro))
	w.line()
	w.recipients(n.Recipients)
	w.line("## ", md(l(n.Lang, "h.transfers")))
	w.line()
	transfers := 0
	for _, r := range n.Recipients {
		if r.Transfer {
			transfers++
			w.line("- ", md(r.Name), " (", md(r.Country), ") — ", md(r.SafeguardLabel))
		}
	}
	if transfers == 0 {
		w.line(md(l(n.Lang, "none.transfers")))
	} else {
		w.line()
		w.line(md(n.TransfersNote))
	}
	w.line()
	w.line("## ", md(l(n.Lang, "h.source")))
	w.line()
	w.line(md(n.Source))
	w.line()
	w.line("## ", md(l(n.Lang, "h.rights")))
	w.line()
	for _, r := range n.Rights {
		w.line("- **", md(r.Title), "**", w.colon(), md(r.Text))
	}
	w.line()
	w.line("## ", md(l(n.Lang, "h.exercise")))
	w.line()
	w.line(md(n.HowToExercise))
	w.line()
	w.item(l(n.Lang, "exercise.contact"), w.or(exerciseContact(n)))
	w.line()
	w.line("## ", md(l(n.Lang, "h.complaint")))
	w.line()
	w.line(md(n.Complaint.Text))
	w.line()
	w.item(n.Complaint.Name, md(n.Complaint.Address))
	w.line("- <", n.Complaint.Website, ">")
	w.line()
	w.line("## ", md(l(n.Lang, "h.automated")))
	w.line()
	w.line(md(n.AutomatedDecisions))
	w.line()
	w.version(n.RegistryVersion, n.RegistryDate, n.ContentHash)
	return w.b.Bytes()
}

// exerciseContact is where requests go: the DPO when configured, else the controller.
func exerciseContact(n *Notice) string {
	if n.DPO.Contact != "" {
		return n.DPO.Contact
	}
	return n.Controller.Email
}

// --- HTML ---

// pageStyle is the standalone page's only style; CSP allows it by hash (StyleSource).
const pageStyle = `body{font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;max-width:52rem;margin:2rem auto;padding:0 1rem}` +
	`h1{font-size:1.8rem}h2{margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.25rem}h3{margin-top:1.5rem}` +
	`dl{display:grid;grid-template-columns:minmax(10rem,max-content) 1fr;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0}` +
	`table{border-collapse:collapse;width:100%}th,td{border:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}` +
	`.nc{font-style:italic;color:#8a4b00}.warn{color:#a40e26;font-weight:600}code{font-size:.9em;word-break:break-all}.muted{color:#57606a}`

// StyleSource returns the CSP source that allows the standalone page's style.
func StyleSource() string {
	sum := sha256.Sum256([]byte(pageStyle))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

const htmlTemplates = `
{{define "nc"}}{{if .}}{{.}}{{else}}<span class="nc">{{nc}}</span>{{end}}{{end}}
{{define "list"}}{{if .}}<ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{else}}<span class="muted">{{none}}</span>{{end}}{{end}}
{{define "parties"}}
<section data-section="controller"><h2>{{t "h.controller"}}</h2>
<dl><dt>{{t "f.name"}}</dt><dd>{{template "nc" .Controller.Name}}</dd>
<dt>{{t "f.address"}}</dt><dd>{{template "nc" .Controller.Address}}</dd>
<dt>{{t "f.email"}}</dt><dd>{{template "nc" .Controller.Email}}</dd></dl></section>
<section data-section="dpo"><h2>{{t "h.dpo"}}</h2>
<dl><dt>{{t "f.name"}}</dt><dd>{{template "nc" .DPO.Name}}</dd>
<dt>{{t "f.contact"}}</dt><dd>{{template "nc" .DPO.Contact}}</dd></dl></section>
{{end}}
{{define "recipients"}}{{if .}}<table><thead><tr><th>{{t "f.recipient"}}</th><th>{{t "f.kind"}}</th><th>{{t "f.country"}}</th><th>{{t "h.purposes"}}</th><th>{{t "f.safeguard"}}</th></tr></thead><tbody>
{{range .}}<tr data-recipient="{{.Name}}"><td>{{.Name}}</td><td>{{.KindLabel}}</td><td>{{.Country}}</td><td>{{range $i, $p := .Purposes}}{{if $i}}, {{end}}<code>{{$p}}</code>{{end}}</td><td{{if and .Transfer (not .Safeguard)}} class="warn"{{end}}>{{.SafeguardLabel}}</td></tr>
{{end}}</tbody></table>{{else}}<p class="muted">{{t "none.external"}}</p>{{end}}{{end}}
{{define "rulelinks"}}{{if .}}<dt>{{t "f.retention_rules"}}</dt><dd>{{range $i, $r := .}}{{if $i}}, {{end}}<a href="#retention-{{$r.ID}}">{{$r.Label}}</a>{{end}}</dd>{{end}}{{end}}
{{define "version"}}<section data-section="version"><h2>{{t "h.version"}}</h2>
<dl><dt>{{t "f.registry_version"}}</dt><dd><code>{{.RegistryVersion}}</code></dd>
{{if .RegistryDate}}<dt>{{t "f.registry_date"}}</dt><dd>{{.RegistryDate}}</dd>{{end}}
<dt>{{t "f.content_hash"}}</dt><dd><code data-testid="content-hash">{{.ContentHash}}</code></dd></dl>
<p class="muted">{{t "hash.note"}}</p></section>{{end}}

{{define "register"}}<article class="register" lang="{{.Lang}}" data-document="register">
<h1>{{.Title}}</h1><p>{{t "register.intro"}}</p>
{{template "parties" .}}
<section data-section="activities"><h2>{{t "h.activities"}}</h2>
{{range .Activities}}<section data-purpose="{{.Purpose}}"><h3>{{.Description}} <code>{{.Purpose}}</code></h3>
<dl><dt>{{t "f.basis"}}</dt><dd data-basis="{{.LawfulBasis}}">{{.LawfulBasisLabel}}</dd>
{{if .LegitimateInterest}}<dt>{{t "f.interest"}}</dt><dd>{{.LegitimateInterest}}</dd>{{end}}
<dt>{{t "f.subjects"}}</dt><dd>{{template "list" .DataSubjects}}</dd>
<dt>{{t "f.categories"}}</dt><dd>{{if .DataCategories}}<ul>{{range .DataCategories}}<li>{{.Text}}</li>{{end}}</ul>{{else}}<span class="muted">{{t "none.data"}}</span>{{end}}</dd>
<dt>{{t "f.internal"}}</dt><dd>{{if .InternalRecipients}}{{template "list" .InternalRecipients}}{{else}}<span class="muted">{{t "none.internal"}}</span>{{end}}</dd>
<dt>{{t "f.external"}}</dt><dd>{{if .ExternalRecipients}}{{template "list" .ExternalRecipients}}{{else}}<span class="muted">{{t "none.external"}}</span>{{end}}</dd>
<dt>{{t "f.transfers"}}</dt><dd>{{if .Transfers}}{{template "list" .Transfers}}{{else}}<span class="muted">{{t "none.transfers"}}</span>{{end}}</dd>
<dt>{{t "f.retention"}}</dt><dd>{{.Retention}}</dd>
{{template "rulelinks" (links $ .RetentionRuleIDs)}}</dl></section>
{{end}}</section>
<section data-section="retention"><h2>{{t "h.retention"}}</h2>
{{if .RetentionRules}}<p>{{t "retention.intro"}}</p>{{else}}<p class="muted">{{t "retention.none"}}</p>{{end}}
{{range .RetentionRules}}<section id="retention-{{.Rule}}" data-rule="{{.Rule}}" data-months="{{.Months}}"><h3>{{.Name}} <code>{{.Rule}}</code></h3>
<dl><dt>{{t "f.rule_subjects"}}</dt><dd>{{.Subjects}}</dd>
<dt>{{t "f.period"}}</dt><dd data-field="period">{{.Period}}</dd>
<dt>{{t "f.default"}}</dt><dd data-field="default">{{.Default}}</dd>
<dt>{{t "f.change"}}</dt><dd data-field="change">{{if .Overridden}}{{t "f.changed_at"}} {{.ChangedAt}}{{semicolon}}{{t "f.change_reason"}}{{colon}}{{.ChangeReason}}{{else}}{{t "retention.unchanged"}}{{end}}</dd>
<dt>{{t "f.at_end"}}</dt><dd data-outcome="{{.Outcome}}">{{.AtEnd}}</dd></dl></section>
{{end}}</section>
<section data-section="recipients"><h2>{{t "h.recipients"}}</h2>{{template "recipients" .Recipients}}</section>
<section data-section="security"><h2>{{t "h.security"}}</h2><p>{{t "security.intro"}}</p>{{template "list" .Security}}</section>
{{template "version" .}}
</article>{{end}}

{{define "notice"}}<article class="notice" lang="{{.Lang}}" data-document="notice">
<h1>{{.Title}}</h1><p>{{.Intro}}</p>
{{template "parties" .}}
<section data-section="purposes"><h2>{{t "h.purposes"}}</h2>
{{range .Purposes}}<section data-purpose="{{.Purpose}}"><h3>{{.Description}}</h3>
<dl><dt>{{t "f.basis"}}</dt><dd data-basis="{{.LawfulBasis}}">{{.LawfulBasisLabel}}</dd>
{{if .LegitimateInterest}}<dt>{{t "f.interest"}}</dt><dd>{{.LegitimateInterest}}</dd>{{end}}
<dt>{{t "f.data"}}</dt><dd>{{if .Data}}{{template "list" .Data}}{{else}}<span class="muted">{{t "none.data"}}</span>{{end}}</dd>
<dt>{{t "f.retention"}}</dt><dd>{{.Retention}}</dd>
{{template "rulelinks" (links $ .RetentionRuleIDs)}}
<dt>{{t "f.required"}}</dt><dd>{{.Required}}</dd></dl></section>
{{end}}</section>
<section data-section="retention"><h2>{{t "h.notice_retention"}}</h2>
{{if .RetentionRules}}<p>{{.RetentionIntro}}</p>{{else}}<p class="muted">{{t "retention.none"}}</p>{{end}}
{{range .RetentionRules}}<section id="retention-{{.Rule}}" data-rule="{{.Rule}}" data-months="{{.Months}}"><h3>{{.Name}} ({{.Rule}})</h3>
<dl><dt>{{t "f.notice_subjects"}}</dt><dd>{{.Subjects}}</dd>
<dt>{{t "f.notice_period"}}</dt><dd data-field="period">{{.Period}}</dd>
<dt>{{t "f.notice_at_end"}}</dt><dd data-outcome="{{.Outcome}}">{{.AtEnd}}</dd></dl></section>
{{end}}</section>
<section data-section="recipients"><h2>{{t "h.recipients"}}</h2><p>{{.RecipientsIntro}}</p>{{template "recipients" .Recipients}}</section>
<section data-section="transfers"><h2>{{t "h.transfers"}}</h2>{{$n := 0}}<ul>{{range .Recipients}}{{if .Transfer}}{{$n = 1}}<li>{{.Name}} ({{.Country}}) — {{.SafeguardLabel}}</li>{{end}}{{end}}</ul>{{if not $n}}<p class="muted">{{t "none.transfers"}}</p>{{end}}{{with .TransfersNote}}<p>{{.}}</p>{{end}}</section>
<section data-section="source"><h2>{{t "h.source"}}</h2><p>{{.Source}}</p></section>
<section data-section="rights"><h2>{{t "h.rights"}}</h2><dl>{{range .Rights}}<dt data-right="{{.Right}}">{{.Title}}</dt><dd>{{.Text}}</dd>{{end}}</dl></section>
<section data-section="exercise"><h2>{{t "h.exercise"}}</h2><p>{{.HowToExercise}}</p>
<dl><dt>{{t "exercise.contact"}}</dt><dd>{{template "nc" (contact .)}}</dd></dl></section>
<section data-section="complaint"><h2>{{t "h.complaint"}}</h2><p>{{.Complaint.Text}}</p>
<p>{{.Complaint.Name}}<br>{{.Complaint.Address}}<br><a href="{{.Complaint.Website}}" rel="noopener">{{.Complaint.Website}}</a></p></section>
<section data-section="automated"><h2>{{t "h.automated"}}</h2><p>{{.AutomatedDecisions}}</p></section>
{{template "version" .}}
</article>{{end}}

{{define "page"}}<!doctype html>
<html lang="{{.Language}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Heading}}</title><style>{{style}}</style></head>
<body>{{body .}}</body></html>
{{end}}`

// ruleLink is a link to a retention rule of the same document.
type ruleLink struct{ ID, Label string }

// ruleLinks returns the links to the retention rules ids of doc.
func ruleLinks(doc interface{ RuleLabel(string) string }, ids []string) []ruleLink {
	out := make([]ruleLink, len(ids))
	for i, id := range ids {
		out[i] = ruleLink{id, doc.RuleLabel(id)}
	}
	return out
}

// templates returns the HTML templates for lang. html/template escapes every text in its
// context, so hostile registry texts cannot inject markup.
func templates(lang string) *template.Template {
	return template.Must(template.New("").Funcs(template.FuncMap{
		"t":         func(key string) string { return l(lang, key) },
		"nc":        func() string { return l(lang, "not_configured") },
		"none":      func() string { return "—" },
		"contact":   exerciseContact,
		"colon":     func() string { return colon(lang) },
		"semicolon": func() string { return semicolon(lang) },
		"links":     ruleLinks,
		"style":     func() template.CSS { return template.CSS(pageStyle) },
		"body":      func(d Document) template.HTML { return d.HTMLFragment() },
	}).Parse(htmlTemplates))
}

func execute(lang, name string, data any) []byte {
	var b bytes.Buffer
	if err := templates(lang).ExecuteTemplate(&b, name, data); err != nil {
		panic("register: template " + name + ": " + err.Error()) // constant templates over plain data
	}
	return b.Bytes()
}

// HTMLFragment renders the register's body.
func (r *Register) HTMLFragment() template.HTML {
	return template.HTML(execute(r.Lang, "register", r)) // escaped by html/template
}

// HTMLFragment renders the notice's body.
func (n *Notice) HTMLFragment() template.HTML {
	return template.HTML(execute(n.Lang, "notice", n)) // escaped by html/template
}

// HTMLPage renders doc as a standalone HTML page with its own style and no script.
func HTMLPage(doc Document) []byte { return execute(doc.Language(), "page", doc) }

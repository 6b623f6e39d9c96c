package rights

import (
	"archive/zip"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/customer"
)

// Table is one section of the portability archive: written as <Name>.json (an array
// of objects, one per row) and <Name>.csv (a header row, then the rows).
type Table struct {
	Name    string       // file name without extension: lower case, digits, _ and -
	Title   fidelis.Text // what the readable access page calls it; Name when empty
	Columns []string
	Rows    [][]string
}

// Tables returns the other parts of Fidelis's data about customer id (Sections, in order,
// those holding nothing left out), for the access and portability answers.
func (s *Service) Tables(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID) ([]*Table, error) {
	var out []*Table
	for _, sec := range s.Sections {
		t, err := sec(ctx, p, id)
		if err != nil {
			return nil, err
		}
		if t != nil {
			out = append(out, t)
		}
	}
	return out, nil
}

// Section produces one table of the portability archive for customer id under purpose p.
// Another part of Fidelis adds its data to the archive with one function, appended to
// Service.Sections; for instance the loyalty ledger:
//
//	func LedgerSection(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID) (*rights.Table, error) {
//		return &rights.Table{Name: "loyalty_ledger", Columns: []string{"at", "points", "rule", "terms_version"}, Rows: ...}, nil
//	}
//
// and orders with "gtin" and "promotion_amount" columns likewise. A section returns nil
// when it holds nothing about the customer; its errors abort the export.
type Section func(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID) (*Table, error)

// Export checks that case id is an open or completed access or portability case and
// returns everything held about the customer, audited by the customer service and
// here.
func (s *Service) Export(ctx context.Context, p fidelis.Purpose, id string) (*customer.Export, *Case, error) {
	if err := s.authorize(ctx, p, fidelis.ActionExport, ActExport); err != nil {
		return nil, nil, err
	}
	if err := validCaseID(id); err != nil {
		return nil, nil, err
	}
	var c *Case
	if err := s.Store.Read(ctx, func(tx Tx) (err error) { c, err = tx.GetRightsRequest(ctx, id); return err }); err != nil {
		return nil, nil, fmt.Errorf("rights.Export: %w", err)
	}
	if c.Kind != KindAccess && c.Kind != KindPortability {
		return nil, nil, precondition("wrong_kind", fmt.Sprintf("a %s request has no export; only access and portability requests do", c.Kind))
	}
	if c.Status == StatusRefused {
		return nil, nil, precondition("case_closed", "the request was refused: there is nothing to export")
	}
	ex, err := s.Customers.Export(ctx, p, c.CustomerID)
	if err != nil {
		return nil, nil, err
	}
	if err := s.Store.RecordAudit(ctx, s.entry(ctx, ActExport, c, p)); err != nil {
		return nil, nil, fmt.Errorf("rights.Export: audit: %w", err)
	}
	return ex, c, nil
}

// CustomerTable is the customer's own data as a portability table: one row, a column per
// field that holds a value, custom attributes as "attributes.<name>".
func CustomerTable(ex *customer.Export) *Table {
	t := &Table{Name: "customer", Columns: []string{"id", "created_at", "updated_at"}}
	row := []string{string(ex.Customer.ID), ex.Customer.CreatedAt.Format(time.RFC3339Nano), ex.Customer.UpdatedAt.Format(time.RFC3339Nano)}
	for _, f := range fidelis.CustomerFields() {
		if v := ex.Customer.Get(f); !v.IsZero() {
			t.Columns = append(t.Columns, string(f))
			row = append(row, v.Reveal())
		}
	}
	for _, k := range slices.Sorted(maps.Keys(ex.Customer.Attributes)) {
		t.Columns = append(t.Columns, "attributes."+k)
		row = append(row, ex.Customer.Attributes[k].Reveal())
	}
	t.Rows = [][]string{row}
	return t
}

// WritePortability writes the portability archive of an export: a zip holding, for
// the customer's data and every Section, a JSON and a CSV file, and a README in French and
// English.
func (s *Service) WritePortability(ctx context.Context, p fidelis.Purpose, w io.Writer, ex *customer.Export, c *Case) error {
	more, err := s.Tables(ctx, p, c.CustomerID)
	if err != nil {
		return err
	}
	tables := append([]*Table{CustomerTable(ex)}, more...)
	zw := zip.NewWriter(w)
	hdr := func(name string) (io.Writer, error) {
		return zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: ex.GeneratedAt})
	}
	readme, err := hdr("README.txt")
	if err != nil {
		return err
	}
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = t.Name
	}
	fmt.Fprintf(readme, "Fidelis - portabilite / portability (RGPD/GDPR art. 20)\nRequest / demande: %s\nCustomer / client: %s\nGenerated / genere le: %s\n\n"+
		"FR : chaque partie est fournie en JSON (tableau d'objets) et en CSV (UTF-8, ligne d'en-tete) : %v.\n"+
		"EN: each part is given as JSON (an array of objects) and CSV (UTF-8, header row): %v.\n",
		c.ID, c.CustomerID, ex.GeneratedAt.Format(time.RFC3339), names, names)
	for _, t := range tables {
		objs := make([]map[string]string, len(t.Rows))
		for i, row := range t.Rows {
			objs[i] = make(map[string]string, len(t.Columns))
			for j, col := range t.Columns {
				if j < len(row) {
					objs[i][col] = row[j]
				}
			}
		}
		jw, err := hdr(t.Name + ".json")
		if err != nil {
			return err
		}
		enc := json.NewEncoder(jw)
		enc.SetIndent("", "  ")
		if err := enc.Encode(objs); err != nil {
			return err
		}
		cw, err := hdr(t.Name + ".csv")
		if err != nil {
			return err
		}
		w := csv.NewWriter(cw)
		if err := w.Write(t.Columns); err != nil {
			return err
		}
		if err := w.WriteAll(t.Rows); err != nil {
			return err
		}
	}
	return zw.Close()
}

var fieldText = map[fidelis.Field]Text{
	fidelis.FieldGivenName: {FR: "Prénom", EN: "Given name"}, fidelis.FieldFamilyName: {FR: "Nom", EN: "Family name"},
	fidelis.FieldEmail: {FR: "Adresse e-mail", EN: "E-mail address"}, fidelis.FieldPhone: {FR: "Téléphone", EN: "Telephone"},
	fidelis.FieldBirthDate: {FR: "Date de naissance", EN: "Date of birth"}, fidelis.FieldStreet: {FR: "Adresse", EN: "Street"},
	fidelis.FieldPostalCode: {FR: "Code postal", EN: "Postal code"}, fidelis.FieldCity: {FR: "Ville", EN: "City"},
	fidelis.FieldCountry: {FR: "Pays", EN: "Country"}, fidelis.FieldLocale: {FR: "Langue", EN: "Language"},
	fidelis.FieldAttributes: {FR: "Attributs personnalisés", EN: "Custom attributes"},
}

var basisText = map[fidelis.LawfulBasis]Text{
	fidelis.BasisConsent:            {FR: "votre consentement (art. 6(1)(a) RGPD)", EN: "your consent (GDPR art. 6(1)(a))"},
	fidelis.BasisContract:           {FR: "l'exécution d'un contrat (art. 6(1)(b) RGPD)", EN: "performance of a contract (GDPR art. 6(1)(b))"},
	fidelis.BasisLegalObligation:    {FR: "une obligation légale (art. 6(1)(c) RGPD)", EN: "a legal obligation (GDPR art. 6(1)(c))"},
	fidelis.BasisLegitimateInterest: {FR: "notre intérêt légitime (art. 6(1)(f) RGPD)", EN: "our legitimate interest (GDPR art. 6(1)(f))"},
}

var accessTmpl = template.Must(template.New("access").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.T.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5}table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f4f4f4}</style>
</head><body>
<h1>{{.T.Title}}</h1>
<p>{{.T.Intro}}</p>
<p>{{.T.Reference}} <code>{{.CaseID}}</code> · {{.T.Generated}} {{.Generated}}</p>
<h2>{{.T.YourData}}</h2>
<table>{{range .Fields}}<tr><th scope="row">{{.Label}}</th><td>{{.Value}}</td></tr>{{else}}<tr><td>{{$.T.None}}</td></tr>{{end}}</table>
<h2>{{.T.Purposes}}</h2>
<table><tr><th>{{.T.Purpose}}</th><th>{{.T.Basis}}</th><th>{{.T.Categories}}</th><th>{{.T.Retention}}</th><th>{{.T.Recipients}}</th></tr>
{{range .Purposes}}<tr><td>{{.Description}}</td><td>{{.Basis}}</td><td>{{.Categories}}</td><td>{{.Retention}}</td><td>{{.Recipients}}</td></tr>{{end}}</table>
<h2>{{.T.Source}}</h2>
<p>{{.T.SourceText}}</p>
<h2>{{.T.History}}</h2>
<table><tr><th>{{.T.Date}}</th><th>{{.T.Changed}}</th><th>{{.T.Purpose}}</th></tr>
{{range .History}}<tr><td>{{.At}}</td><td>{{.Fields}}</td><td>{{.Purpose}}</td></tr>{{else}}<tr><td colspan="3">{{$.T.None}}</td></tr>{{end}}</table>
<h2>{{.T.AccessLog}}</h2>
<p>{{.T.AccessLogText}}</p>
<table><tr><th>{{.T.Date}}</th><th>{{.T.Who}}</th><th>{{.T.Action}}</th><th>{{.T.Purpose}}</th><th>{{.T.FieldsSeen}}</th><th>{{.T.Outcome}}</th></tr>
{{range .Log}}<tr><td>{{.At}}</td><td>{{.Actor}}</td><td>{{.Action}}</td><td>{{.Purpose}}</td><td>{{.Fields}}</td><td>{{.Outcome}}</td></tr>{{end}}</table>
{{if .More}}<h2>{{.T.More}}</h2>
{{range .More}}<h3>{{.Title}}</h3>
<table><tr>{{range .Columns}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>{{end}}</table>
{{end}}{{end}}<h2>{{.T.Rights}}</h2>
<p>{{.T.RightsText}}</p>
<p>{{.Complaint}}</p>
</body></html>
`))

type accessStrings struct {
	Title, Intro, Reference, Generated, YourData, None, Purposes, Purpose, Basis, Categories, Retention, Recipients,
	NoRecipients, Source, SourceText, History, Date, Changed, AccessLog, AccessLogText, Who, Action, FieldsSeen, Outcome, More, Rights, RightsText string
}

var accessText = map[string]accessStrings{
	"fr": {
		Title: "Vos données personnelles", Intro: "Réponse à votre demande d'accès (article 15 du RGPD) : voici toutes les données que nous détenons sur vous, pourquoi nous les traitons, à qui elles sont communiquées, combien de temps nous les conservons, d'où elles viennent et qui y a accédé.",
		Reference: "Référence de la demande :", Generated: "établi le", YourData: "Les données que nous détenons", None: "Aucune",
		Purposes: "Pourquoi nous les traitons", Purpose: "Finalité", Basis: "Base légale", Categories: "Catégories de données", Retention: "Durée de conservation", Recipients: "Destinataires",
		NoRecipients: "Aucun destinataire externe", Source: "Origine des données",
		SourceText: "Ces données ont été collectées auprès de vous par nos équipes (en magasin, au téléphone, par courrier ou en ligne) ou par nos systèmes (API, import) ; l'historique ci-dessous montre chaque modification.",
		History:    "Historique des modifications", Date: "Date", Changed: "Champs modifiés",
		AccessLog: "Qui a accédé à vos données", AccessLogText: "Chaque lecture et chaque modification de vos données est enregistrée dans un journal infalsifiable.",
		Who: "Par", Action: "Opération", FieldsSeen: "Champs", Outcome: "Résultat",
		More:   "Autres données vous concernant (programme de fidélité, achats, ...)",
		Rights: "Vos droits", RightsText: "Vous pouvez demander la rectification, l'effacement, la limitation ou la portabilité de vos données et vous opposer à leur traitement, gratuitement.",
	},
	"en": {
		Title: "Your personal data", Intro: "Answer to your access request (GDPR article 15): here is all the data we hold about you, why we process it, who receives it, how long we keep it, where it comes from and who accessed it.",
		Reference: "Request reference:", Generated: "generated on", YourData: "The data we hold", None: "None",
		Purposes: "Why we process it", Purpose: "Purpose", Basis: "Lawful basis", Categories: "Categories of data", Retention: "Retention period", Recipients: "Recipients",
		NoRecipients: "No external recipient", Source: "Source of the data",
		SourceText: "These data were collected from you by our staff (in shop, by phone, by post or online) or by our systems (API, import); the history below shows every change.",
		History:    "History of changes", Date: "Date", Changed: "Fields changed",
		AccessLog: "Who accessed your data", AccessLogText: "Every read and every change of your data is recorded in a tamper-evident log.",
		Who: "By", Action: "Operation", FieldsSeen: "Fields", Outcome: "Outcome",
		More:   "Other data about you (loyalty programme, purchases, ...)",
		Rights: "Your rights", RightsText: "You may ask for your data to be rectified, erased, restricted or ported, and object to its processing, free of charge.",
	},
}

// AccessHTML writes the readable answer to access case c with what it must hold
// besides the export: the other parts of Fidelis's data (Tables) and the retention periods
// in force (Retention).
func (s *Service) AccessHTML(ctx context.Context, p fidelis.Purpose, w io.Writer, ex *customer.Export, c *Case) error {
	tables, err := s.Tables(ctx, p, c.CustomerID)
	if err != nil {
		return err
	}
	var retention map[fidelis.Purpose]string
	if s.Retention != nil {
		if retention, err = s.Retention(ctx, lang(ex.Customer.Get(fidelis.FieldLocale).Reveal())); err != nil {
			return err
		}
	}
	return WriteAccessHTML(w, ex, c, tables, retention)
}

// WriteAccessHTML writes the readable answer to an access request in the customer's
// language (French unless their locale is English): their data, the purposes with lawful
// basis, categories, retention and recipients from the registry, the source, the history,
// the access log, and the other parts of Fidelis's data (tables, from Service.Tables: the
// loyalty ledger, orders with their GTINs and promotion amounts, ...). retention, when it
// names a purpose, replaces the registry's retention text for it.
func WriteAccessHTML(w io.Writer, ex *customer.Export, c *Case, tables []*Table, retention map[fidelis.Purpose]string) error {
	l := lang(ex.Customer.Get(fidelis.FieldLocale).Reveal())
	T := accessText[l]
	when := func(t time.Time) string {
		if l == "fr" {
			return t.UTC().Format("02/01/2006 15:04 UTC")
		}
		return t.UTC().Format("2 Jan 2006 15:04 UTC")
	}
	labels := func(fs []fidelis.Field) string {
		out := ""
		for i, f := range fs {
			if i > 0 {
				out += ", "
			}
			if t, ok := fieldText[f]; ok {
				out += t.In(l)
			} else {
				out += string(f)
			}
		}
		return out
	}
	type kv struct{ Label, Value string }
	type purpose struct{ Description, Basis, Categories, Retention, Recipients string }
	type change struct{ At, Fields, Purpose string }
	type access struct{ At, Actor, Action, Purpose, Fields, Outcome string }
	type more struct {
		Title   string
		Columns []string
		Rows    [][]string
	}
	data := struct {
		Lang, CaseID, Generated, Complaint string
		T                                  accessStrings
		Fields                             []kv
		Purposes                           []purpose
		History                            []change
		Log                                []access
		More                               []more
	}{Lang: l, CaseID: c.ID, Generated: when(ex.GeneratedAt), Complaint: Complaint.In(l), T: T}
	for _, t := range tables {
		title := t.Title.In(l)
		if title == "" {
			title = t.Name
		}
		data.More = append(data.More, more{title, t.Columns, t.Rows})
	}
	for _, f := range fidelis.CustomerFields() {
		if f == fidelis.FieldAttributes {
			for _, k := range slices.Sorted(maps.Keys(ex.Customer.Attributes)) {
				data.Fields = append(data.Fields, kv{fieldText[f].In(l) + " : " + k, ex.Customer.Attributes[k].Reveal()})
			}
			continue
		}
		if v := ex.Customer.Get(f); !v.IsZero() {
			data.Fields = append(data.Fields, kv{fieldText[f].In(l), v.Reveal()})
		}
	}
	for _, p := range ex.Processing {
		rec := T.NoRecipients
		if len(p.Recipients) > 0 {
			rec = fmt.Sprint(p.Recipients)
			rec = rec[1 : len(rec)-1]
		}
		cats := labels(p.Fields)
		if cats == "" {
			cats = T.None
		}
		ret := p.Retention.In(l)
		if r, ok := retention[p.Name]; ok && r != "" {
			ret = r
		}
		data.Purposes = append(data.Purposes, purpose{p.Description.In(l), basisText[p.LawfulBasis].In(l), cats, ret, rec})
	}
	for _, h := range ex.History {
		data.History = append(data.History, change{when(h.At), labels(h.Fields), string(h.Purpose)})
	}
	for _, e := range ex.AccessLog {
		data.Log = append(data.Log, access{when(e.At), e.Actor, e.Action, string(e.Purpose), labels(e.Fields), string(e.Outcome)})
	}
	return accessTmpl.Execute(w, data)
}

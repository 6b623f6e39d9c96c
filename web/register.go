package web

import (
	"html/template"
	"net/http"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/register"
)

// registerView is the data of the register page.
type registerView struct {
	DocLang  string        // the document's language, which may differ from the page's
	Document template.HTML // the register, rendered and escaped by package register
	Hash     string
	Version  string
}

// docLang returns the language of the document asked for: ?lang=, else the page's.
func docLang(r *http.Request, v *visit) (string, error) {
	if l := r.URL.Query().Get("lang"); l != "" {
		return register.ParseLang(l)
	}
	return v.lang, nil
}

// handleRegister shows the register of processing (D-2) to roles holding read_register
// (P-4), with a switch of the document's language and downloads.
func (s *server) handleRegister(w http.ResponseWriter, r *http.Request, v *visit) error {
	lang, err := docLang(r, v)
	if err != nil {
		return err
	}
	doc, err := s.app.Register.Register(r.Context(), lang)
	if err != nil {
		return err
	}
	rv := &registerView{DocLang: lang, Document: doc.HTMLFragment(), Hash: doc.ContentHash, Version: doc.RegistryVersion}
	return s.render(w, http.StatusOK, s.newPage(r, v, "register", s.cat.t(v.lang, "register.heading"), rv))
}

// handleRegisterDownload sends the register as a file: Markdown, JSON or a standalone HTML
// page, named after its language and registry version.
func (s *server) handleRegisterDownload(w http.ResponseWriter, r *http.Request, v *visit) error {
	lang, err := docLang(r, v)
	if err != nil {
		return err
	}
	format, err := register.ParseFormat(r.URL.Query().Get("format"), register.OutMarkdown)
	if err != nil {
		return err
	}
	doc, err := s.app.Register.Register(r.Context(), lang)
	if err != nil {
		return err
	}
	b, err := register.Render(doc, format)
	if err != nil {
		return &fidelis.Error{Code: fidelis.EINTERNAL, Message: "register rendering failed", Err: err}
	}
	h := w.Header()
	h.Set("Content-Type", register.ContentType(format))
	h.Set("Content-Disposition", `attachment; filename="register-`+lang+"-"+doc.RegistryVersion+"."+format+`"`)
	h.Set("Cache-Control", "no-store")
	h.Set("ETag", `"`+doc.ContentHash+`"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	return nil
}

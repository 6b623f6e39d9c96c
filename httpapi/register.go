package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/register"
)

// handleRegister serves the register of processing (D-2, P-4) as JSON, Markdown or HTML. It
// holds no personal data: it needs a token whose role holds read_register, no purpose.
func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) error {
	// The permission comes before parsing, like the purpose check of personal-data routes.
	if err := s.Register.CanRead(r.Context()); err != nil {
		return err
	}
	q := r.URL.Query()
	format, ferr := register.ParseFormat(q.Get("format"), register.OutJSON)
	lang, lerr := register.ParseLang(q.Get("lang"))
	if err := joinInvalid(ferr, lerr); err != nil {
		return err
	}
	doc, err := s.Register.Register(r.Context(), lang)
	if err != nil {
		return err
	}
	return writeDocument(w, doc, format, "no-store")
}

// handlePrivacy serves the public privacy notice as a readable page; the language is
// ?lang=, else the browser's Accept-Language, else French.
func (s *Server) handlePrivacy(format string) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		lang := r.URL.Query().Get("lang")
		if lang == "" {
			lang = PreferredLanguage(r.Header.Get("Accept-Language"))
		}
		lang, err := register.ParseLang(lang)
		if err != nil {
			return err
		}
		doc, err := s.Register.Notice(r.Context(), lang)
		if err != nil {
			return err
		}
		h := w.Header()
		h.Set("Vary", "Accept-Language")
		h.Set("Referrer-Policy", "no-referrer")
		if format == register.OutHTML {
			// The page has no script and one inline style, allowed by its hash.
			h.Set("Content-Security-Policy", "default-src 'none'; style-src "+register.StyleSource()+"; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
			h.Set("X-Frame-Options", "DENY")
		}
		return writeDocument(w, doc, format, "public, max-age=300")
	}
}

// writeDocument renders doc in format with its language, content hash (as ETag) and
// caching policy.
func writeDocument(w http.ResponseWriter, doc register.Document, format, cache string) error {
	b, err := register.Render(doc, format)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", register.ContentType(format))
	h.Set("Content-Language", doc.Language())
	h.Set("ETag", `"`+doc.Hash()+`"`)
	h.Set("Cache-Control", cache)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	return nil
}

// joinInvalid merges EINVALID errors into one with every field error; nil when all are nil.
func joinInvalid(errs ...error) error {
	var fields []fidelis.FieldError
	for _, err := range errs {
		if err == nil {
			continue
		}
		e := fidelis.AsError(err)
		if e == nil || e.Code != fidelis.EINVALID {
			return err
		}
		fields = append(fields, e.Fields...)
	}
	if len(fields) == 0 {
		return nil
	}
	return fidelis.Invalid(fields...)
}

// PreferredLanguage picks "fr" or "en" from an Accept-Language header (RFC 9110 §12.5.4):
// the supported language with the highest weight, the first listed on a tie; "fr" when
// neither is acceptable.
func PreferredLanguage(header string) string {
	best, bestQ := register.LangFR, 0.0
	for part := range strings.SplitSeq(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if primary != register.LangFR && primary != register.LangEN {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		if q > bestQ {
			best, bestQ = primary, q
		}
	}
	return best
}

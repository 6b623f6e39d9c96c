package web

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/consent"
	"github.com/fidelis/fidelis/privacy"
)

// consentView is the consent section of a customer page (C-1, C-2, C-5): the current
// decision per purpose and channel, the ledger, and a form to record a new decision.
type consentView struct {
	Current     []consentRow
	Records     []consentRow
	Options     []consentOption // what may be asked: consent-based purposes with a notice
	CanRecord   bool
	Restriction *privacy.Restriction
	Objection   *time.Time
}

type consentRow struct {
	Purpose       fidelis.Purpose
	PurposeLabel  string
	Channel       privacy.Channel
	Decision      privacy.ConsentDecision
	At            time.Time
	NoticeVersion int
	Method        consent.Method
	RecordedBy    string
	Parental      bool
	Minor         bool
}

type consentOption struct {
	Value  string // purpose/channel
	Label  string
	Notice string // the notice text shown to the customer, in the page's language
}

// loadConsents fills the consent section under the session's purpose; a purpose that may
// not read the customer's consents leaves the section out.
func (s *server) loadConsents(ctx context.Context, v *visit, cv *customerView) error {
	h, err := s.app.Consents.History(ctx, v.sess.Purpose, cv.ID, "", 50)
	if fidelis.ErrorCode(err) == fidelis.EFORBIDDEN {
		return nil
	} else if err != nil {
		return err
	}
	view := &consentView{CanRecord: s.can(v, fidelis.ActionUpdate)}
	label := func(p fidelis.Purpose) string {
		if d, err := s.app.Registry.Purpose(p); err == nil {
			return d.Description.In(v.lang)
		}
		return string(p)
	}
	for _, k := range slices.Sorted(maps.Keys(h.Current)) {
		c := h.Current[k]
		purpose, channel, _ := strings.Cut(k, "/")
		view.Current = append(view.Current, consentRow{Purpose: fidelis.Purpose(purpose), PurposeLabel: label(fidelis.Purpose(purpose)),
			Channel: privacy.Channel(channel), Decision: c.Decision, At: c.At, NoticeVersion: c.NoticeVersion, Minor: c.Minor})
	}
	for _, r := range h.Records {
		view.Records = append(view.Records, consentRow{Purpose: r.Purpose, PurposeLabel: label(r.Purpose), Channel: r.Channel, Decision: r.Decision,
			At: r.CollectedAt, NoticeVersion: r.NoticeVersion, Method: r.Method, RecordedBy: r.RecordedBy, Parental: r.Parental, Minor: r.Minor})
	}
	for _, d := range s.app.Registry.Purposes() {
		if d.LawfulBasis != fidelis.BasisConsent {
			continue
		}
		n, err := s.app.Consents.LatestNotice(ctx, d.Name)
		if err != nil {
			continue // no notice published: consent cannot be asked (C-1)
		}
		for _, c := range d.ConsentChannels {
			view.Options = append(view.Options, consentOption{Value: string(d.Name) + "/" + string(c),
				Label: d.Description.In(v.lang) + " — " + s.cat.t(v.lang, "consent.channel."+string(c)), Notice: n.Text.In(v.lang)})
		}
	}
	if st, err := s.app.States.State(ctx, fidelis.PurposeDataProtection, cv.ID); err == nil {
		view.Restriction, view.Objection = st.Restriction, st.MarketingObjection
	}
	cv.Consents = view
	return nil
}

// handleConsentRecord records the decision of the form: one purpose and channel, and a
// decision the staff member picked (none is preselected: C-5).
func (s *server) handleConsentRecord(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := fidelis.ParseCustomerID(r.PathValue("id"))
	if err != nil {
		return err
	}
	purpose, channel, _ := strings.Cut(r.PostForm.Get("option"), "/")
	in := consent.Input{Purpose: fidelis.Purpose(purpose), Channel: privacy.Channel(channel),
		Decision: privacy.ConsentDecision(r.PostForm.Get("decision")), Method: consent.MethodBackOffice}
	if in.Decision == privacy.ConsentGranted || in.Decision == privacy.ConsentRefused {
		if n, err := s.app.Consents.LatestNotice(r.Context(), in.Purpose); err == nil {
			in.NoticeVersion = n.Version // the text the form showed
		}
	}
	if _, _, err := s.app.Consents.Record(r.Context(), v.sess.Purpose, id, in); err != nil {
		if e := fidelis.AsError(err); e != nil && e.Code == fidelis.EINVALID {
			http.Redirect(w, r, "/app/customers/"+string(id)+"?done=consent_invalid#consents", http.StatusSeeOther)
			return nil
		}
		return err
	}
	http.Redirect(w, r, "/app/customers/"+string(id)+"?done=consent#consents", http.StatusSeeOther)
	return nil
}

func consentMessages() catalogue {
	return catalogue{
		"consent.heading":             {"Consentements", "Consents"},
		"consent.intro":               {"Chaque décision est conservée avec le texte exact présenté, la manière dont elle a été recueillie et qui l'a enregistrée. Le retrait s'applique immédiatement.", "Each decision is kept with the exact text shown, how it was collected and who recorded it. A withdrawal applies at once."},
		"consent.current":             {"État actuel", "Current state"},
		"consent.none":                {"Aucun consentement enregistré.", "No consent recorded."},
		"consent.ledger":              {"Registre des décisions", "Ledger of decisions"},
		"consent.col_purpose":         {"Finalité", "Purpose"},
		"consent.col_channel":         {"Canal", "Channel"},
		"consent.col_decision":        {"Décision", "Decision"},
		"consent.col_when":            {"Date", "When"},
		"consent.col_notice":          {"Texte", "Notice"},
		"consent.col_method":          {"Recueil", "Collected"},
		"consent.col_by":              {"Enregistré par", "Recorded by"},
		"consent.decision.granted":    {"accordé", "granted"},
		"consent.decision.refused":    {"refusé", "refused"},
		"consent.decision.withdrawn":  {"retiré", "withdrawn"},
		"consent.parental":            {"parental", "parental"},
		"consent.minor":               {"moins de 15 ans : accord parental requis", "under 15: parental consent required"},
		"consent.record":              {"Enregistrer une décision", "Record a decision"},
		"consent.option":              {"Finalité et canal", "Purpose and channel"},
		"consent.notice_shown":        {"Texte présenté au client :", "Text shown to the customer:"},
		"consent.decision":            {"Décision du client", "The customer's decision"},
		"consent.submit":              {"Enregistrer", "Record"},
		"consent.no_option":           {"Aucun texte de consentement publié : publiez-en un avant de recueillir un consentement.", "No consent notice published: publish one before asking for consent."},
		"consent.restricted":          {"Traitement limité depuis le", "Processing restricted since"},
		"consent.objection":           {"Opposition à la prospection depuis le", "Objected to direct marketing since"},
		"consent.channel.email":       {"courriel", "e-mail"},
		"consent.channel.sms":         {"SMS", "SMS"},
		"consent.channel.phone":       {"téléphone", "phone"},
		"consent.channel.post":        {"courrier", "post"},
		"consent.channel.ad_matching": {"ciblage publicitaire", "ad matching"},
		"consent.method.back_office":  {"back-office", "back-office"},
		"consent.method.portal":       {"portail", "portal"},
		"consent.method.api":          {"API", "API"},
		"consent.method.import":       {"import", "import"},
		"consent.method.paper":        {"papier", "paper"},
		"flash.consent":               {"Décision enregistrée.", "Decision recorded."},
		"flash.consent_invalid":       {"Choisissez une finalité et une décision : aucune n'est cochée d'avance.", "Choose a purpose and a decision: none is ticked in advance."},
	}
}

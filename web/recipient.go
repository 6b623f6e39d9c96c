package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/recipient"
)

// mountRecipients adds the recipients registry pages (D-4) and their deliveries.
func (s *server) mountRecipients(mux *http.ServeMux) {
	mux.HandleFunc("GET /app/recipients", s.private(s.handleRecipientList))
	mux.HandleFunc("GET /app/recipients/new", s.private(s.handleRecipientNew))
	mux.HandleFunc("POST /app/recipients", s.private(s.handleRecipientCreate))
	mux.HandleFunc("GET /app/recipients/{id}", s.private(s.handleRecipientShow))
	mux.HandleFunc("GET /app/recipients/{id}/edit", s.private(s.handleRecipientEdit))
	mux.HandleFunc("POST /app/recipients/{id}", s.private(s.handleRecipientUpdate))
	mux.HandleFunc("POST /app/recipients/{id}/rotate", s.private(s.handleRecipientRotate))
	mux.HandleFunc("POST /app/recipients/{id}/deliveries/{delivery}/redeliver", s.private(s.handleRecipientRedeliver))
}

// recipientListView is the data of the recipients list.
type recipientListView struct {
	Rows  []*recipient.Recipient
	Next  string
	After string
}

func (s *server) handleRecipientList(w http.ResponseWriter, r *http.Request, v *visit) error {
	after := r.URL.Query().Get("after")
	pg, err := s.app.Recipients.List(r.Context(), after, listPageSize)
	if err != nil {
		return err
	}
	p := s.newPage(r, v, "recipients", s.cat.t(v.lang, "recipients.heading"), &recipientListView{Rows: pg.Items, Next: pg.Next, After: after})
	return s.render(w, http.StatusOK, p)
}

// choice is one option of a select or a checkbox group.
type choice struct {
	Value   string
	Label   string
	Checked bool
	Note    string
}

// recipientForm is the data of the create and edit form. Values are what the user typed
// (recipients are not personal data of customers; the contact is a business contact).
type recipientForm struct {
	ID       string
	Edit     bool
	Version  int
	Action   string
	Values   map[string]string
	Texts    []string // the text inputs, in order
	Kinds    []choice
	Purposes []choice
	Guards   []choice
	Events   []choice
	Active   bool
	Errors   map[string][]fieldMsg
	Summary  []fieldMsg
	Conflict bool
}

func (s *server) recipientForm(lang string, rec *recipient.Recipient) *recipientForm {
	f := &recipientForm{Values: map[string]string{}, Errors: map[string][]fieldMsg{}, Active: true, Action: "/app/recipients",
		Texts: []string{"name", "contact_name", "contact_email", "contract_ref", "country", "endpoint"}}
	if rec != nil {
		f.ID, f.Edit, f.Version, f.Action, f.Active = rec.ID, true, rec.Version, "/app/recipients/"+rec.ID, rec.Active
		f.Values = map[string]string{"name": rec.Name, "country": rec.Country, "contract_ref": rec.ContractRef, "contact_name": rec.ContactName,
			"contact_email": rec.ContactEmail, "endpoint": rec.Endpoint, "kind": string(rec.Kind), "safeguard": string(rec.Safeguard)}
	}
	var purposes, events []string
	if rec != nil {
		for _, p := range rec.Purposes {
			purposes = append(purposes, string(p))
		}
		events = rec.Events
	}
	s.fillChoices(f, lang, purposes, events)
	return f
}

func (s *server) fillChoices(f *recipientForm, lang string, purposes, events []string) {
	f.Kinds, f.Guards, f.Purposes, f.Events = nil, nil, nil, nil
	for _, k := range recipient.Kinds() {
		f.Kinds = append(f.Kinds, choice{Value: string(k), Label: s.cat.t(lang, "recipients.kind."+string(k)), Checked: f.Values["kind"] == string(k)})
	}
	f.Guards = append(f.Guards, choice{Value: "", Label: s.cat.t(lang, "recipients.safeguard.none"), Checked: f.Values["safeguard"] == ""})
	for _, g := range recipient.Safeguards() {
		f.Guards = append(f.Guards, choice{Value: string(g), Label: s.cat.t(lang, "recipients.safeguard."+string(g)), Checked: f.Values["safeguard"] == string(g)})
	}
	for _, p := range s.app.Registry.Purposes() {
		f.Purposes = append(f.Purposes, choice{Value: string(p.Name), Label: p.Description.In(lang), Checked: slices.Contains(purposes, string(p.Name))})
	}
	for _, e := range recipient.EventTypes() {
		c := choice{Value: e, Label: s.cat.t(lang, "recipients.event."+e), Checked: slices.Contains(events, e)}
		if recipient.Art19(e) {
			c.Note = s.cat.t(lang, "recipients.always")
		}
		f.Events = append(f.Events, c)
	}
}

// readRecipientForm turns the posted form into an input for the service.
func readRecipientForm(r *http.Request, f *recipientForm) recipient.Input {
	pf := r.PostForm
	text := func(k string) *string {
		v := strings.TrimSpace(pf.Get(k))
		f.Values[k] = v
		return &v
	}
	in := recipient.Input{Name: text("name"), Country: text("country"), ContractRef: text("contract_ref"),
		ContactName: text("contact_name"), ContactEmail: text("contact_email"), Endpoint: text("endpoint")}
	kind := recipient.Kind(*text("kind"))
	guard := recipient.Safeguard(*text("safeguard"))
	purposes := make([]fidelis.Purpose, 0)
	for _, p := range pf["purposes"] {
		purposes = append(purposes, fidelis.Purpose(p))
	}
	events := append([]string{}, pf["events"]...)
	active := pf.Get("active") == "on"
	f.Active = active
	in.Kind, in.Safeguard, in.Purposes, in.Events, in.Active = &kind, &guard, &purposes, &events, &active
	return in
}

// formErrors spreads a validation error over the form, or returns the error to render.
func (s *server) formErrors(lang string, f *recipientForm, err error) error {
	e := fidelis.AsError(err)
	if e == nil || e.Code != fidelis.EINVALID || len(e.Fields) == 0 {
		return err
	}
	for _, fe := range e.Fields {
		m := s.cat.fieldError(lang, fe)
		f.Errors[m.Field] = append(f.Errors[m.Field], m)
		f.Summary = append(f.Summary, m)
	}
	return nil
}

func (s *server) renderRecipientForm(w http.ResponseWriter, r *http.Request, v *visit, f *recipientForm, status int) error {
	title := s.cat.t(v.lang, "recipients.new_heading")
	if f.Edit {
		title = s.cat.t(v.lang, "recipients.edit_heading")
	}
	return s.render(w, status, s.newPage(r, v, "recipient_form", title, f))
}

func (s *server) handleRecipientNew(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := s.app.Recipients.Check(r.Context()); err != nil {
		return err
	}
	f := s.recipientForm(v.lang, nil)
	f.Values["kind"] = string(recipient.KindProcessor)
	f.Values["country"] = "FR"
	s.fillChoices(f, v.lang, nil, nil)
	return s.renderRecipientForm(w, r, v, f, http.StatusOK)
}

func (s *server) handleRecipientCreate(w http.ResponseWriter, r *http.Request, v *visit) error {
	f := s.recipientForm(v.lang, nil)
	in := readRecipientForm(r, f)
	rec, secret, err := s.app.Recipients.Create(r.Context(), in)
	if err != nil {
		if err := s.formErrors(v.lang, f, err); err != nil {
			return err
		}
		s.fillChoices(f, v.lang, r.PostForm["purposes"], r.PostForm["events"])
		return s.renderRecipientForm(w, r, v, f, http.StatusUnprocessableEntity)
	}
	// The secret is shown on this response only: no redirect, nothing stored in clear.
	return s.showRecipient(w, r, v, rec, secret, "created")
}

func (s *server) handleRecipientEdit(w http.ResponseWriter, r *http.Request, v *visit) error {
	rec, err := s.app.Recipients.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.renderRecipientForm(w, r, v, s.recipientForm(v.lang, rec), http.StatusOK)
}

func (s *server) handleRecipientUpdate(w http.ResponseWriter, r *http.Request, v *visit) error {
	id := r.PathValue("id")
	rec, err := s.app.Recipients.Get(r.Context(), id)
	if err != nil {
		return err
	}
	f := s.recipientForm(v.lang, rec)
	in := readRecipientForm(r, f)
	version, err := strconv.Atoi(r.PostForm.Get("version"))
	if err != nil || version < 1 {
		return fidelis.Invalid(fidelis.FieldError{Field: "version", Rule: "invalid_version", Message: "the form is missing its version; reload it"})
	}
	if _, err := s.app.Recipients.Update(r.Context(), id, in, version); err != nil {
		if e := fidelis.AsError(err); e != nil && e.Reason == "version_mismatch" {
			f.Conflict = true
			s.fillChoices(f, v.lang, r.PostForm["purposes"], r.PostForm["events"])
			return s.renderRecipientForm(w, r, v, f, http.StatusConflict)
		}
		if err := s.formErrors(v.lang, f, err); err != nil {
			return err
		}
		s.fillChoices(f, v.lang, r.PostForm["purposes"], r.PostForm["events"])
		return s.renderRecipientForm(w, r, v, f, http.StatusUnprocessableEntity)
	}
	http.Redirect(w, r, "/app/recipients/"+id+"?done=saved", http.StatusSeeOther)
	return nil
}

func (s *server) handleRecipientRotate(w http.ResponseWriter, r *http.Request, v *visit) error {
	rec, secret, err := s.app.Recipients.RotateSecret(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.showRecipient(w, r, v, rec, secret, "rotated")
}

func (s *server) handleRecipientRedeliver(w http.ResponseWriter, r *http.Request, v *visit) error {
	id := r.PathValue("id")
	if _, err := s.app.Recipients.Redeliver(r.Context(), id, r.PathValue("delivery")); err != nil {
		return err
	}
	http.Redirect(w, r, "/app/recipients/"+id+"?done=redelivered", http.StatusSeeOther)
	return nil
}

// recipientView is the data of a recipient's page.
type recipientView struct {
	R          *recipient.Recipient
	Kind       string
	Safeguard  string
	Purposes   []string
	Events     []string
	Secret     string // shown once, after creation or rotation
	Deliveries []*recipient.Delivery
	State      string
	States     []choice
	Next       string
}

func (s *server) handleRecipientShow(w http.ResponseWriter, r *http.Request, v *visit) error {
	rec, err := s.app.Recipients.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.showRecipient(w, r, v, rec, "", r.URL.Query().Get("done"))
}

func (s *server) showRecipient(w http.ResponseWriter, r *http.Request, v *visit, rec *recipient.Recipient, secret, done string) error {
	q := r.URL.Query()
	if r.Method != http.MethodGet {
		q = url.Values{}
	}
	state := recipient.State(q.Get("state"))
	pg, err := s.app.Recipients.Deliveries(r.Context(), rec.ID, state, q.Get("after"), listPageSize)
	if err != nil {
		return err
	}
	rv := &recipientView{R: rec, Secret: secret, Deliveries: pg.Items, Next: pg.Next, State: string(state),
		Kind: s.cat.t(v.lang, "recipients.kind."+string(rec.Kind)), Safeguard: s.cat.t(v.lang, "recipients.safeguard.none")}
	if rec.Safeguard != "" {
		rv.Safeguard = s.cat.t(v.lang, "recipients.safeguard."+string(rec.Safeguard))
	}
	for _, p := range rec.Purposes {
		label := string(p)
		if d, err := s.app.Registry.Purpose(p); err == nil {
			label = d.Description.In(v.lang)
		}
		rv.Purposes = append(rv.Purposes, label)
	}
	for _, e := range rec.Events {
		rv.Events = append(rv.Events, s.cat.t(v.lang, "recipients.event."+e))
	}
	rv.States = append(rv.States, choice{Value: "", Label: s.cat.t(v.lang, "recipients.state.all"), Checked: state == ""})
	for _, st := range recipient.States() {
		rv.States = append(rv.States, choice{Value: string(st), Label: s.cat.t(v.lang, "recipients.state."+string(st)), Checked: state == st})
	}
	p := s.newPage(r, v, "recipient", rec.Name, rv)
	p.Path = "/app/recipients/" + rec.ID
	status := http.StatusOK
	switch done {
	case "created":
		p.Flash, status = s.cat.t(v.lang, "recipients.flash.created"), http.StatusCreated
	case "rotated":
		p.Flash = s.cat.t(v.lang, "recipients.flash.rotated")
	case "saved":
		p.Flash = s.cat.t(v.lang, "flash.saved")
	case "redelivered":
		p.Flash = s.cat.t(v.lang, "recipients.flash.redelivered")
	}
	return s.render(w, status, p)
}

// deliveryState translates a delivery state for a page.
func (p *page) DeliveryState(st recipient.State) string { return p.T("recipients.state." + string(st)) }

// EventLabel translates an event type for a page.
func (p *page) EventLabel(t string) string { return p.T("recipients.event." + t) }

// Status renders an HTTP status and error class of an attempt, or "—".
func (p *page) Status(code int, class string) string {
	switch {
	case code != 0 && class != "":
		return fmt.Sprintf("%d · %s", code, class)
	case code != 0:
		return strconv.Itoa(code)
	case class != "":
		return class
	}
	return "—"
}

// recipientMessages are the recipients pages' texts.
func recipientMessages() catalogue {
	return catalogue{
		"nav.recipients":                                    {"Destinataires", "Recipients"},
		"recipients.heading":                                {"Destinataires et sous-traitants", "Recipients and processors"},
		"recipients.intro":                                  {"Qui reçoit des données personnelles, pour quelles finalités et sur quel fondement (RGPD art. 28 et 30). Les rectifications, effacements et limitations leur sont notifiés par webhook signé (art. 19).", "Who receives personal data, for which purposes and on which ground (GDPR art. 28 and 30). Rectification, erasure and restriction are notified to them by signed webhook (art. 19)."},
		"recipients.new":                                    {"Nouveau destinataire", "New recipient"},
		"recipients.empty":                                  {"Aucun destinataire enregistré.", "No recipient registered."},
		"recipients.col_name":                               {"Nom", "Name"},
		"recipients.col_kind":                               {"Qualité", "Kind"},
		"recipients.col_country":                            {"Pays", "Country"},
		"recipients.col_webhook":                            {"Webhook", "Webhook"},
		"recipients.col_status":                             {"Statut", "Status"},
		"recipients.active":                                 {"actif", "active"},
		"recipients.inactive":                               {"inactif", "inactive"},
		"recipients.yes":                                    {"oui", "yes"},
		"recipients.no":                                     {"non", "no"},
		"recipients.new_heading":                            {"Nouveau destinataire", "New recipient"},
		"recipients.edit_heading":                           {"Modifier le destinataire", "Edit the recipient"},
		"recipients.form_note":                              {"Le contact est un contact professionnel chez le destinataire (son DPO ou son service), pas un client.", "The contact is a business contact at the recipient (its DPO or service desk), not a customer."},
		"recipients.kind.processor":                         {"Sous-traitant (art. 28)", "Processor (art. 28)"},
		"recipients.kind.recipient":                         {"Destinataire tiers", "Third-party recipient"},
		"recipients.kind.joint_controller":                  {"Responsable conjoint (art. 26)", "Joint controller (art. 26)"},
		"recipients.safeguard.none":                         {"Aucune (dans l'EEE)", "None (inside the EEA)"},
		"recipients.safeguard.adequacy_decision":            {"Décision d'adéquation (art. 45)", "Adequacy decision (art. 45)"},
		"recipients.safeguard.standard_contractual_clauses": {"Clauses contractuelles types (art. 46)", "Standard contractual clauses (art. 46)"},
		"recipients.safeguard.binding_corporate_rules":      {"Règles d'entreprise contraignantes (art. 47)", "Binding corporate rules (art. 47)"},
		"recipients.safeguard.derogation":                   {"Dérogation (art. 49)", "Derogation (art. 49)"},
		"recipients.event.customer.created":                 {"Client créé", "Customer created"},
		"recipients.event.customer.updated":                 {"Rectification", "Rectification"},
		"recipients.event.customer.erased":                  {"Effacement", "Erasure"},
		"recipients.event.customer.restricted":              {"Limitation du traitement", "Restriction of processing"},
		"recipients.event.customer.restriction_lifted":      {"Fin de la limitation", "Restriction lifted"},
		"recipients.always":                                 {"toujours notifié (art. 19)", "always notified (art. 19)"},
		"recipients.events_hint":                            {"Rectifications, effacements et limitations sont notifiés à tout destinataire actif doté d'un webhook, quels que soient ses abonnements.", "Rectification, erasure and restriction are notified to every active recipient with a webhook, whatever it subscribed to."},
		"recipients.endpoint_hint":                          {"https:// (http seulement vers cette machine : localhost).", "https:// (http only to this machine: localhost)."},
		"recipients.country_hint":                           {"Code ISO à deux lettres, p. ex. FR.", "Two-letter ISO code, e.g. FR."},
		"recipients.secret_title":                           {"Secret de signature — affiché une seule fois", "Signing secret — shown once"},
		"recipients.secret_text":                            {"Copiez-le maintenant dans le système destinataire : Fidelis ne le conserve que chiffré et ne l'affichera plus.", "Copy it now into the receiving system: Fidelis keeps it only encrypted and will not show it again."},
		"recipients.rotate":                                 {"Renouveler le secret", "Rotate the secret"},
		"recipients.edit":                                   {"Modifier", "Edit"},
		"recipients.contract":                               {"Contrat / DPA", "Contract / DPA"},
		"recipients.contact":                                {"Contact", "Contact"},
		"recipients.transfer":                               {"Transfert hors EEE", "Transfer outside the EEA"},
		"recipients.subscriptions":                          {"Abonnements", "Subscriptions"},
		"recipients.deliveries":                             {"Notifications envoyées", "Notifications sent"},
		"recipients.no_deliveries":                          {"Aucune notification.", "No notification."},
		"recipients.filter":                                 {"Filtrer", "Filter"},
		"recipients.col_event":                              {"Événement", "Event"},
		"recipients.col_subject":                            {"Client", "Customer"},
		"recipients.col_state":                              {"État", "State"},
		"recipients.col_attempts":                           {"Tentatives", "Attempts"},
		"recipients.col_last":                               {"Dernier résultat", "Last outcome"},
		"recipients.col_when":                               {"Quand", "When"},
		"recipients.redeliver":                              {"Renvoyer", "Redeliver"},
		"recipients.state.all":                              {"Tous", "All"},
		"recipients.state.pending":                          {"en attente", "pending"},
		"recipients.state.delivered":                        {"remise", "delivered"},
		"recipients.state.dead":                             {"abandonnée", "dead"},
		"recipients.flash.created":                          {"Destinataire enregistré.", "Recipient registered."},
		"recipients.flash.rotated":                          {"Nouveau secret de signature créé.", "New signing secret created."},
		"recipients.flash.redelivered":                      {"Notification remise en file d'envoi.", "Notification queued again."},
		"field.name":                                        {"Nom", "Name"},
		"field.kind":                                        {"Qualité", "Kind"},
		"field.purposes":                                    {"Finalités", "Purposes"},
		"field.safeguard":                                   {"Garantie de transfert", "Transfer safeguard"},
		"field.contract_ref":                                {"Référence du contrat (DPA)", "Contract reference (DPA)"},
		"field.contact_name":                                {"Nom du contact", "Contact name"},
		"field.contact_email":                               {"Courriel du contact", "Contact e-mail"},
		"field.active":                                      {"Actif", "Active"},
		"field.endpoint":                                    {"Adresse du webhook", "Webhook URL"},
		"field.events":                                      {"Événements", "Events"},
		"rule.invalid_text":                                 {"doit être un texte d'une ligne.", "must be text on one line."},
		"rule.invalid_kind":                                 {"choisissez une qualité.", "choose a kind."},
		"rule.unknown_purpose":                              {"finalité inconnue.", "unknown purpose."},
		"rule.duplicate":                                    {"valeur en double.", "duplicate value."},
		"rule.invalid_safeguard":                            {"garantie inconnue.", "unknown safeguard."},
		"rule.not_a_transfer":                               {"pas de garantie dans l'EEE : il n'y a pas de transfert.", "no safeguard inside the EEA: there is no transfer."},
		"rule.no_adequacy_decision":                         {"aucune décision d'adéquation pour ce pays ; choisissez une autre garantie.", "no adequacy decision for this country; choose another safeguard."},
		"rule.required.safeguard":                           {"un destinataire hors EEE exige une garantie de transfert.", "a recipient outside the EEA needs a transfer safeguard."},
		"rule.required.contract_ref":                        {"un sous-traitant ou un responsable conjoint exige un contrat (art. 26, 28).", "a processor or joint controller needs a contract (art. 26, 28)."},
		"rule.required.purposes":                            {"cochez au moins une finalité.", "tick at least one purpose."},
		"rule.taken":                                        {"ce nom est déjà utilisé.", "this name is already used."},
		"rule.invalid_url":                                  {"adresse invalide : https://… sans #.", "invalid address: https://… without #."},
		"rule.insecure_url":                                 {"https obligatoire (http seulement vers localhost).", "https is required (http only to localhost)."},
		"rule.credentials_in_url":                           {"l'adresse ne doit pas contenir d'identifiants.", "the address must not hold credentials."},
		"rule.unknown_event":                                {"événement inconnu.", "unknown event."},
		"reason.has_deliveries":                             {"Ce destinataire a reçu des notifications : désactivez-le plutôt.", "This recipient received notifications: deactivate it instead."},
		"reason.not_dead":                                   {"Seule une notification abandonnée peut être renvoyée.", "Only a dead notification can be redelivered."},
		"reason.recipient_cannot_receive":                   {"Le destinataire est inactif ou n'a pas de webhook.", "The recipient is inactive or has no webhook."},
		"reason.recipient_not_found":                        {"Aucun destinataire à cette adresse.", "No recipient at this address."},
		"reason.delivery_not_found":                         {"Aucune notification à cette adresse.", "No notification at this address."},
	}
}

// Label returns the label of a form input by name (a recipient attribute).
func (p *page) Label(name string) string { return p.cat.field(p.Lang, name) }

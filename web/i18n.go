package web

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/auth"
)

// msg is one text in French and English.
type msg struct{ fr, en string }

// catalogue maps message keys to their texts. A missing key renders as ⟦key⟧, which the
// tests look for on every page in both languages.
type catalogue map[string]msg

// t returns the text of key in lang.
func (c catalogue) t(lang, key string) string {
	m, ok := c[key]
	if !ok {
		return "⟦" + key + "⟧"
	}
	if lang == "en" {
		return m.en
	}
	return m.fr
}

// has reports whether key is in the catalogue.
func (c catalogue) has(key string) bool { _, ok := c[key]; return ok }

// field returns the label of a field. "attributes.loyalty_card" names one custom
// attribute; a field the catalogue does not know shows as its name.
func (c catalogue) field(lang, f string) string {
	if k, ok := strings.CutPrefix(f, string(fidelis.FieldAttributes)+"."); ok {
		return c.t(lang, "field.attributes") + " · " + k
	}
	if c.has("field." + f) {
		return c.t(lang, "field."+f)
	}
	return f
}

// role returns the display name of a role (the registry has descriptions for purposes
// only).
func (c catalogue) role(r fidelis.Role, lang string) string {
	if c.has("role." + string(r)) {
		return c.t(lang, "role."+string(r))
	}
	return string(r)
}

// explain returns the translated explanation of an error: by reason when the catalogue
// knows it (refusals say which rule refused), else by code.
func (c catalogue) explain(lang string, e *fidelis.Error) string {
	if e.Reason != "" && c.has("reason."+e.Reason) {
		return c.t(lang, "reason."+e.Reason)
	}
	return c.t(lang, "error.explain."+string(e.Code))
}

// fieldMsg is a field error ready to show: the form input it belongs to, the field's label
// and the translated text.
type fieldMsg struct {
	Field string
	Label string
	Text  string
}

var numberRE = regexp.MustCompile(`\d+`)

// fieldError translates a field error by its rule ("rule.<rule>.<field>" first, then
// "rule.<rule>"), falling back to the domain's English message for rules it does not know.
// "{n}" in a translation takes the first number of the domain's message (a length limit,
// a line number).
func (c catalogue) fieldError(lang string, fe fidelis.FieldError) fieldMsg {
	input, _, _ := strings.Cut(fe.Field, ".") // attributes.x → the attributes textarea
	text := fe.Message
	for _, key := range []string{"rule." + fe.Rule + "." + fe.Field, "rule." + fe.Rule} {
		if c.has(key) {
			text = c.t(lang, key)
			if n := numberRE.FindString(fe.Message); n != "" {
				text = strings.ReplaceAll(text, "{n}", n)
			}
			break
		}
	}
	return fieldMsg{Field: input, Label: c.field(lang, fe.Field), Text: text}
}

// language picks the language of a page: the visitor's explicit choice (cookie), then the
// signed-in user's locale, then the browser's Accept-Language; French by default.
func (s *server) language(r *http.Request, u *auth.User) string {
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == "fr" || c.Value == "en") {
		return c.Value
	}
	if u != nil && (u.Locale == "fr" || u.Locale == "en") {
		return u.Locale
	}
	return acceptLanguage(r.Header.Get("Accept-Language"))
}

// acceptLanguage returns "fr" or "en", whichever the header prefers (RFC 9110 §12.5.4),
// "fr" when it names neither.
func acceptLanguage(h string) string {
	best, bestQ := "fr", 0.0
	for part := range strings.SplitSeq(h, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if base != "fr" && base != "en" {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if q > bestQ {
			best, bestQ = base, q
		}
	}
	return best
}

var (
	monthsShortFR = []string{"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."}
)

// formatTime formats an instant for tables and headers, in UTC: "14 juil. 2026, 09:05 UTC"
// or "14 Jul 2026, 09:05 UTC".
func formatTime(lang string, t time.Time) string {
	t = t.UTC()
	if lang == "en" {
		return t.Format("2 Jan 2006, 15:04 UTC")
	}
	return fmt.Sprintf("%d %s %d, %s UTC", t.Day(), monthsShortFR[t.Month()-1], t.Year(), t.Format("15:04"))
}

// customerFieldsOrdered returns the fields in display order, without the attributes.
func customerFieldsOrdered(visible []fidelis.Field) []fidelis.Field {
	var out []fidelis.Field
	for _, f := range fidelis.CustomerFields() {
		if f != fidelis.FieldAttributes && slices.Contains(visible, f) {
			out = append(out, f)
		}
	}
	return out
}

// messages returns the catalogue: every text the back-office shows, in French and English.
func messages() catalogue {
	return catalogue{
		// Layout.
		"nav.main":                  {"Navigation principale", "Main navigation"},
		"nav.customers":             {"Clients", "Customers"},
		"nav.register":              {"Registre", "Register"},
		"nav.language":              {"Langue", "Language"},
		"nav.logout":                {"Se déconnecter", "Sign out"},
		"register.heading":          {"Registre des activités de traitement", "Record of processing activities"},
		"register.intro":            {"Généré à partir du registre des finalités (RGPD art. 30) ; téléchargez-le pour le conserver et le comparer d'une version à l'autre.", "Generated from the purpose registry (GDPR art. 30); download it to keep it and compare versions."},
		"register.doc_lang":         {"Langue du document :", "Document language:"},
		"register.download_md":      {"Télécharger (Markdown)", "Download (Markdown)"},
		"register.download_json":    {"Télécharger (JSON)", "Download (JSON)"},
		"register.download_html":    {"Télécharger (HTML)", "Download (HTML)"},
		"register.notice_link":      {"Politique de confidentialité publique", "Public privacy notice"},
		"purpose.label":             {"Finalité du traitement", "Processing purpose"},
		"purpose.none":              {"(aucune finalité)", "(no purpose)"},
		"purpose.switch":            {"Changer", "Switch"},
		"purpose.basis":             {"Base légale :", "Lawful basis:"},
		"footer.text":               {"Fidelis · chaque accès aux données personnelles est journalisé, avec sa finalité.", "Fidelis · every access to personal data is logged, with its purpose."},
		"basis.consent":             {"consentement", "consent"},
		"basis.contract":            {"exécution d'un contrat", "contract"},
		"basis.legal_obligation":    {"obligation légale", "legal obligation"},
		"basis.legitimate_interest": {"intérêt légitime", "legitimate interest"},

		// Roles (the registry describes purposes, not roles).
		"role.admin":           {"Administrateur", "Administrator"},
		"role.dpo":             {"Délégué à la protection des données", "Data protection officer"},
		"role.sales":           {"Commercial", "Sales"},
		"role.marketing":       {"Marketing", "Marketing"},
		"role.support":         {"Service client", "Customer service"},
		"role.loyalty_manager": {"Responsable fidélité", "Loyalty manager"},
		"role.auditor":         {"Auditeur", "Auditor"},

		// Sign-in.
		"login.title":    {"Connexion", "Sign in"},
		"login.heading":  {"Connexion", "Sign in"},
		"login.intro":    {"Espace réservé au personnel. Identifiez-vous pour accéder aux fiches clients.", "Staff only. Sign in to reach customer records."},
		"login.username": {"Identifiant", "Username"},
		"login.password": {"Mot de passe", "Password"},
		"login.submit":   {"Se connecter", "Sign in"},
		"login.bad":      {"Identifiant ou mot de passe incorrect.", "Wrong username or password."},
		"login.locked":   {"Trop de tentatives de connexion échouées pour cet identifiant. Réessayez dans quinze minutes.", "Too many failed sign-ins for this username. Try again in fifteen minutes."},
		"login.expired":  {"Le formulaire a expiré. Saisissez à nouveau vos identifiants.", "The form has expired. Please enter your credentials again."},

		// Customer list and search.
		"customers.heading":            {"Clients", "Customers"},
		"customers.intro":              {"Les plus récents d'abord. Chaque fiche affichée est journalisée.", "Newest first. Every record shown is logged."},
		"customers.search_results":     {"Résultats de la recherche exacte.", "Results of the exact search."},
		"customers.new":                {"Nouveau client", "New customer"},
		"customers.search_label":       {"Rechercher par e-mail ou téléphone", "Search by e-mail or phone"},
		"customers.search_placeholder": {"E-mail ou téléphone exact", "Exact e-mail or phone"},
		"customers.search":             {"Rechercher", "Search"},
		"customers.search_clear":       {"Effacer", "Clear"},
		"customers.search_hint":        {"Recherche exacte sur l'adresse e-mail ou le numéro de téléphone complet : les données étant chiffrées, la recherche partielle n'existe pas.", "Exact search on the full e-mail address or telephone number: the data is encrypted, so there is no partial search."},
		"customers.col_name":           {"Nom", "Name"},
		"customers.col_updated":        {"Modifié le", "Updated"},
		"customers.no_match":           {"Aucun client ne correspond exactement à cette recherche.", "No customer matches this search exactly."},
		"customers.empty":              {"Aucun client pour l'instant.", "No customers yet."},
		"customers.first_page":         {"← Première page", "← First page"},
		"customers.next_page":          {"Page suivante", "Next page"},

		// Customer page.
		"customer.heading":           {"Fiche client", "Customer"},
		"customer.unnamed":           {"Client sans nom", "Unnamed customer"},
		"customer.id":                {"Identifiant", "ID"},
		"customer.version":           {"version", "version"},
		"customer.created":           {"créé le", "created"},
		"customer.updated":           {"modifié le", "updated"},
		"customer.edit":              {"Modifier", "Edit"},
		"customer.refused":           {"Lecture refusée pour cette finalité", "Reading refused under this purpose"},
		"customer.data":              {"Données personnelles", "Personal data"},
		"customer.no_fields":         {"Cette finalité n'autorise l'accès à aucune donnée personnelle.", "This purpose gives access to no personal data."},
		"customer.no_attributes":     {"Aucun attribut.", "No attributes."},
		"customer.visible_note":      {"Seules les données nécessaires à la finalité en cours sont affichées.", "Only the data the current purpose needs is shown."},
		"customer.history":           {"Historique des modifications", "History of changes"},
		"customer.no_history":        {"Aucune modification depuis la création.", "No change since creation."},
		"customer.access_log":        {"Journal des accès", "Access log"},
		"history.previous":           {"valeur précédente :", "previous value:"},
		"history.hidden":             {"masquée pour cette finalité", "hidden under this purpose"},
		"history.empty":              {"(vide)", "(empty)"},
		"accesslog.under":            {"Consulté au titre de la finalité", "Viewed under the purpose"},
		"accesslog.audited":          {"Cette consultation est elle-même journalisée.", "This viewing is itself logged."},
		"accesslog.when":             {"Date", "When"},
		"accesslog.who":              {"Qui", "Who"},
		"accesslog.action":           {"Opération", "Operation"},
		"accesslog.purpose":          {"Finalité", "Purpose"},
		"accesslog.fields":           {"Champs", "Fields"},
		"accesslog.outcome":          {"Résultat", "Outcome"},
		"accesslog.more":             {"Seules les 50 entrées les plus récentes sont affichées ; l'export complet contient tout le journal.", "Only the 50 most recent entries are shown; the full export holds the whole log."},
		"accesslog.empty":            {"Aucun accès enregistré.", "No access recorded."},
		"accesslog.unavailable":      {"Votre rôle ne dispose d'aucune finalité permettant de consulter le journal des accès (finalités « protection des données » ou « audit »).", "Your role holds no purpose that allows viewing the access log (the data protection or audit purposes)."},
		"actor.you":                  {"vous", "you"},
		"actor.customer":             {"le client lui-même (espace client)", "the customer themself (customer area)"},
		"outcome.ok":                 {"autorisé", "allowed"},
		"outcome.denied":             {"refusé", "denied"},
		"outcome.failed":             {"échec", "failed"},
		"action.customer.create":     {"Création", "Creation"},
		"action.customer.read":       {"Lecture", "Read"},
		"action.customer.update":     {"Modification", "Update"},
		"action.customer.history":    {"Lecture de l'historique", "History read"},
		"action.customer.access_log": {"Lecture du journal des accès", "Access log read"},
		"action.customer.export":     {"Export", "Export"},
		"action.customer.erase":      {"Effacement", "Erasure"},

		// Forms.
		"form.new_heading":            {"Nouveau client", "New customer"},
		"form.edit_heading":           {"Modifier le client", "Edit customer"},
		"form.purpose_note":           {"Seuls les champs que la finalité en cours autorise sont proposés.", "Only the fields the current purpose allows are offered."},
		"form.summary":                {"Le formulaire contient des erreurs :", "The form has errors:"},
		"form.conflict_title":         {"Modification concurrente.", "Concurrent change."},
		"form.conflict":               {"Quelqu'un a modifié ce client pendant que vous l'éditiez. Vos changements n'ont pas été enregistrés.", "Someone changed this customer while you were editing it. Your changes were not saved."},
		"form.reload":                 {"Recharger la version actuelle", "Reload the current version"},
		"form.attributes_placeholder": {"carte_fidelite = 123456", "loyalty_card = 123456"},
		"form.attributes_hint":        {"Une ligne par attribut, sous la forme « clé = valeur ». Clés : lettres minuscules, chiffres et _.", "One attribute per line, as “key = value”. Keys: lower-case letters, digits and _."},
		"form.save":                   {"Enregistrer", "Save"},
		"form.create":                 {"Créer le client", "Create customer"},
		"form.cancel":                 {"Annuler", "Cancel"},
		"flash.created":               {"Client créé.", "Customer created."},
		"flash.saved":                 {"Modifications enregistrées.", "Changes saved."},
		"locale.fr":                   {"Français", "French"},
		"locale.en":                   {"Anglais", "English"},
		"hint.phone":                  {"06 12 34 56 78", "+44 20 7946 0958"},
		"hint.birth_date":             {"AAAA-MM-JJ", "YYYY-MM-DD"},
		"hint.country":                {"FR", "GB"},

		// Field labels.
		"field.given_name":  {"Prénom", "Given name"},
		"field.family_name": {"Nom", "Family name"},
		"field.email":       {"E-mail", "E-mail"},
		"field.phone":       {"Téléphone", "Phone"},
		"field.birth_date":  {"Date de naissance", "Birth date"},
		"field.street":      {"Adresse", "Street"},
		"field.postal_code": {"Code postal", "Postal code"},
		"field.city":        {"Ville", "City"},
		"field.country":     {"Pays", "Country"},
		"field.locale":      {"Langue", "Language"},
		"field.attributes":  {"Attributs", "Custom attributes"},
		"field.q":           {"Recherche", "Search"},
		"field.version":     {"Version", "Version"},

		// Field error rules.
		"rule.required":                {"est obligatoire.", "is required."},
		"rule.required.family_name":    {"un client doit avoir au moins un nom, une adresse e-mail ou un numéro de téléphone.", "a customer needs at least a name, an e-mail address or a telephone number."},
		"rule.invalid_email":           {"n'est pas une adresse e-mail valide.", "is not a valid e-mail address."},
		"rule.invalid_phone":           {"n'est pas un numéro de téléphone valide.", "is not a valid telephone number."},
		"rule.invalid_date":            {"doit être une date au format AAAA-MM-JJ.", "must be a date as YYYY-MM-DD."},
		"rule.in_future":               {"ne peut pas être dans le futur.", "cannot be in the future."},
		"rule.too_old":                 {"remonte à plus de 130 ans.", "is more than 130 years ago."},
		"rule.too_long":                {"est trop long ({n} caractères au plus).", "is too long (at most {n} characters)."},
		"rule.invalid_country":         {"doit être un code pays ISO 3166 à deux lettres (FR, BE…).", "must be a two-letter ISO 3166 country code (FR, GB…)."},
		"rule.invalid_locale":          {"doit être « fr » ou « en ».", "must be “fr” or “en”."},
		"rule.invalid_characters":      {"contient des caractères non autorisés.", "contains characters that are not allowed."},
		"rule.not_allowed_for_purpose": {"la finalité en cours n'autorise pas ce champ.", "the current purpose does not allow this field."},
		"rule.invalid_key":             {"nom d'attribut invalide : 1 à 40 caractères, lettres minuscules, chiffres et _, en commençant par une lettre.", "invalid attribute name: 1 to 40 characters, lower-case letters, digits and _, starting with a letter."},
		"rule.too_many":                {"{n} attributs au plus.", "at most {n} attributes."},
		"rule.unknown":                 {"n'est pas un champ client.", "is not a customer field."},
		"rule.one_of":                  {"saisissez une adresse e-mail ou un numéro de téléphone.", "enter an e-mail address or a telephone number."},
		"rule.invalid_cursor":          {"lien de pagination invalide.", "invalid pagination link."},
		"rule.invalid_line":            {"ligne {n} : écrivez « clé = valeur ».", "line {n}: write “key = value”."},
		"rule.duplicate_key":           {"ligne {n} : cet attribut est déjà défini plus haut.", "line {n}: this attribute is already set above."},
		"rule.invalid_version":         {"version du formulaire invalide ; rechargez la page.", "invalid form version; reload the page."},

		// Errors.
		"error.detail":             {"Détail :", "Detail:"},
		"error.request":            {"Référence de la requête à communiquer à l'exploitant :", "Request reference to give the operator:"},
		"error.back":               {"Retour aux clients", "Back to customers"},
		"error.title.invalid":      {"Requête invalide", "Invalid request"},
		"error.title.not_found":    {"Page ou client introuvable", "Page or customer not found"},
		"error.title.conflict":     {"Conflit", "Conflict"},
		"error.title.unauthorized": {"Connexion requise", "Sign-in required"},
		"error.title.forbidden":    {"Accès refusé", "Access refused"},
		"error.title.too_large":    {"Formulaire trop volumineux", "Form too large"},
		"error.title.unavailable":  {"Service momentanément indisponible", "Service temporarily unavailable"},
		"error.title.internal":     {"Erreur interne", "Internal error"},
		"error.title.unsupported":  {"Requête non prise en charge", "Unsupported request"},
		"error.title.too_many":     {"Trop de requêtes", "Too many requests"},
		"error.title.gone":         {"N'existe plus", "Gone"},
		"error.title.precondition": {"Version périmée", "Stale version"},

		"error.explain.invalid":      {"La requête contient des valeurs invalides.", "The request holds invalid values."},
		"error.explain.not_found":    {"Cette page n'existe pas, ou ce client n'existe pas ou a été effacé.", "This page does not exist, or this customer does not exist or was erased."},
		"error.explain.conflict":     {"L'opération entre en conflit avec une autre modification.", "The operation conflicts with another change."},
		"error.explain.unauthorized": {"Votre session a pris fin. Reconnectez-vous.", "Your session has ended. Please sign in again."},
		"error.explain.forbidden":    {"Votre rôle ou la finalité en cours ne permettent pas cette opération.", "Your role or the current purpose does not allow this operation."},
		"error.explain.too_large":    {"Le formulaire dépasse la taille autorisée.", "The form is larger than allowed."},
		"error.explain.unavailable":  {"Une ressource nécessaire ne répond pas. Réessayez dans un instant.", "A resource it needs does not answer. Try again in a moment."},
		"error.explain.internal":     {"Une erreur inattendue s'est produite. Elle a été consignée pour l'exploitant.", "An unexpected error occurred. It was logged for the operator."},
		"error.explain.unsupported":  {"Cette requête n'est pas prise en charge.", "This request is not supported."},
		"error.explain.too_many":     {"Trop de requêtes ; patientez avant de réessayer.", "Too many requests; wait before trying again."},
		"error.explain.gone":         {"Cette ressource n'existe plus.", "This resource no longer exists."},
		"error.explain.precondition": {"La version attendue ne correspond plus ; rechargez la page.", "The expected version no longer holds; reload the page."},

		// Refusal reasons (P-1: refusals say why).
		"reason.purpose_missing":      {"Aucune finalité n'est choisie. Choisissez, dans la barre en haut de page, la finalité au titre de laquelle vous travaillez.", "No purpose is chosen. Choose, in the bar at the top of the page, the purpose you are working under."},
		"reason.purpose_unknown":      {"Cette finalité n'est pas déclarée dans le registre des traitements.", "This purpose is not declared in the register of processing."},
		"reason.role_unknown":         {"Votre rôle n'est pas connu du registre.", "Your role is not known to the register."},
		"reason.purpose_not_granted":  {"Votre rôle ne dispose pas de cette finalité.", "Your role does not hold this purpose."},
		"reason.action_not_covered":   {"La finalité en cours ne couvre pas cette opération. Choisissez une autre finalité dans la barre en haut de page si votre travail le justifie.", "The current purpose does not cover this operation. Choose another purpose in the bar at the top of the page if your work justifies it."},
		"reason.action_not_permitted": {"Votre rôle n'est pas autorisé à effectuer cette opération.", "Your role is not allowed to perform this operation."},
		"reason.field_not_allowed":    {"La finalité en cours n'autorise pas certains des champs utilisés : les collecter ou les rechercher est refusé (minimisation des données).", "The current purpose does not allow some of the fields used: collecting or searching them is refused (data minimisation)."},
		"reason.csrf":                 {"Le formulaire n'a pas pu être vérifié (jeton de sécurité absent ou expiré). Rechargez la page et recommencez.", "The form could not be verified (security token missing or expired). Reload the page and try again."},
		"reason.no_route":             {"Il n'y a pas de page à cette adresse.", "There is no page at this address."},
		"reason.bad_id":               {"Cet identifiant de client n'est pas valide.", "This customer ID is not valid."},
		"reason.version_mismatch":     {"Le client a été modifié entre-temps ; rechargez la page.", "The customer was changed meanwhile; reload the page."},
		"reason.malformed_form":       {"Le formulaire n'a pas pu être lu.", "The form could not be read."},
	}
}

package portal

import (
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/web/webform"
)

// catalogue maps message keys to their French and English texts. A missing key renders as
// ⟦key⟧, which the tests look for on every page in both languages.
type catalogue map[string]fidelis.Text

// t returns the text of key in lang.
func (c catalogue) t(lang, key string) string {
	m, ok := c[key]
	if !ok {
		return "⟦" + key + "⟧"
	}
	return m.In(lang)
}

func (c catalogue) has(key string) bool { _, ok := c[key]; return ok }

// formatTime writes an instant in lang, in UTC.
func formatTime(lang string, t time.Time) string {
	return webform.Date(lang, t) + " " + t.UTC().Format("15:04") + " UTC"
}

func messages() catalogue {
	return catalogue{
		"portal.name":    {FR: "Mon espace client", EN: "My customer area"},
		"nav.main":       {FR: "Navigation", EN: "Navigation"},
		"nav.data":       {FR: "Mes données", EN: "My data"},
		"nav.consents":   {FR: "Mes consentements", EN: "My consents"},
		"nav.requests":   {FR: "Mes demandes", EN: "My requests"},
		"nav.points":     {FR: "Mes points", EN: "My points"},
		"nav.privacy":    {FR: "Confidentialité", EN: "Privacy"},
		"nav.language":   {FR: "Langue", EN: "Language"},
		"nav.logout":     {FR: "Me déconnecter", EN: "Sign out"},
		"footer.text":    {FR: "Vos données sont chiffrées et chaque accès est tracé. Vous pouvez exercer vos droits à tout moment, gratuitement.", EN: "Your data is encrypted and every access is logged. You may exercise your rights at any time, free of charge."},
		"footer.privacy": {FR: "Politique de confidentialité", EN: "Privacy notice"},

		"login.title":        {FR: "Connexion à mon espace client", EN: "Sign in to my customer area"},
		"login.intro":        {FR: "Saisissez l'adresse e-mail que vous nous avez donnée. Nous vous enverrons un lien de connexion, valable 15 minutes et utilisable une seule fois. Pas de mot de passe à retenir.", EN: "Enter the e-mail address you gave us. We will send you a sign-in link, valid for 15 minutes and usable once. No password to remember."},
		"login.email":        {FR: "Adresse e-mail", EN: "E-mail address"},
		"login.submit":       {FR: "Recevoir mon lien de connexion", EN: "Send me a sign-in link"},
		"login.invalid":      {FR: "Cette adresse e-mail n'est pas valide.", EN: "This e-mail address is not valid."},
		"login.too_many":     {FR: "Trop de demandes depuis cette connexion. Patientez quelques minutes avant de réessayer.", EN: "Too many requests from this connection. Wait a few minutes before trying again."},
		"login.unavailable":  {FR: "La connexion par e-mail n'est pas disponible pour le moment. Contactez-nous par un autre moyen.", EN: "Sign-in by e-mail is not available at the moment. Please contact us by other means."},
		"login.expired":      {FR: "Ce lien de connexion a expiré ou a déjà servi. Demandez-en un nouveau ci-dessous.", EN: "This sign-in link has expired or was already used. Ask for a new one below."},
		"login.form_expired": {FR: "Le formulaire a expiré. Merci de réessayer.", EN: "The form has expired. Please try again."},
		"login.signed_out":   {FR: "Vous êtes déconnecté.", EN: "You are signed out."},
		"sent.title":         {FR: "Consultez votre messagerie", EN: "Check your inbox"},
		"sent.text":          {FR: "Si cette adresse correspond à un compte client, un lien de connexion vient d'y être envoyé. Il est valable 15 minutes et ne sert qu'une fois. Pensez à vérifier vos courriers indésirables.", EN: "If this address belongs to a customer account, a sign-in link has just been sent to it. It is valid for 15 minutes and works once. Remember to check your spam folder."},
		"sent.again":         {FR: "Demander un autre lien", EN: "Ask for another link"},
		"confirm.title":      {FR: "Confirmer la connexion", EN: "Confirm sign-in"},
		"confirm.text":       {FR: "Vous avez ouvert votre lien de connexion. Cliquez sur le bouton pour accéder à votre espace client.", EN: "You opened your sign-in link. Click the button to open your customer area."},
		"confirm.why":        {FR: "Cette étape évite qu'un logiciel qui analyse vos e-mails n'utilise le lien à votre place.", EN: "This step stops software that scans your e-mail from using the link in your place."},
		"confirm.submit":     {FR: "Accéder à mon espace", EN: "Open my customer area"},

		"data.title":          {FR: "Mes données", EN: "My data"},
		"data.intro":          {FR: "Voici les données personnelles que nous détenons sur vous. Elles sont chiffrées et nous traçons chaque accès.", EN: "Here is the personal data we hold about you. It is encrypted and every access is logged."},
		"data.field":          {FR: "Donnée", EN: "Data"},
		"data.value":          {FR: "Valeur", EN: "Value"},
		"data.empty":          {FR: "non renseigné", EN: "not given"},
		"data.since":          {FR: "Client depuis le", EN: "Customer since"},
		"data.download":       {FR: "Télécharger mes données", EN: "Download my data"},
		"data.download_intro": {FR: "Chaque téléchargement est une demande enregistrée, traitée immédiatement : vous la retrouvez dans « Mes demandes ».", EN: "Each download is a recorded request, answered at once: you will find it under \"My requests\"."},
		"data.access":         {FR: "Toutes mes données, avec les accès et les traitements (JSON)", EN: "All my data, with accesses and processing (JSON)"},
		"data.portability":    {FR: "Mes données dans un format réutilisable (archive ZIP de JSON et CSV)", EN: "My data in a reusable format (ZIP archive of JSON and CSV)"},
		"data.rectify":        {FR: "Une donnée est inexacte ? Demandez sa rectification dans « Mes demandes ».", EN: "Something is wrong? Ask for it to be corrected under \"My requests\"."},

		"field.given_name":  {FR: "Prénom", EN: "Given name"},
		"field.family_name": {FR: "Nom", EN: "Family name"},
		"field.email":       {FR: "E-mail", EN: "E-mail"},
		"field.phone":       {FR: "Téléphone", EN: "Phone"},
		"field.birth_date":  {FR: "Date de naissance", EN: "Birth date"},
		"field.street":      {FR: "Adresse", EN: "Street address"},
		"field.postal_code": {FR: "Code postal", EN: "Postal code"},
		"field.city":        {FR: "Ville", EN: "City"},
		"field.country":     {FR: "Pays", EN: "Country"},
		"field.locale":      {FR: "Langue", EN: "Language"},
		"field.attributes":  {FR: "Autres informations", EN: "Other information"},
		"locale.fr":         {FR: "français", EN: "French"},
		"locale.en":         {FR: "anglais", EN: "English"},

		"consents.title":      {FR: "Mes consentements", EN: "My consents"},
		"consents.intro":      {FR: "Vous décidez. Rien n'est coché d'avance, et retirer votre consentement est aussi simple que le donner : un clic, effectif immédiatement.", EN: "You decide. Nothing is ticked in advance, and withdrawing your consent is as easy as giving it: one click, effective at once."},
		"consents.none":       {FR: "Aucun traitement ne dépend de votre consentement pour le moment.", EN: "No processing depends on your consent at the moment."},
		"consents.channel":    {FR: "Canal :", EN: "Channel:"},
		"consents.notice":     {FR: "Texte présenté", EN: "Text shown"},
		"consents.version":    {FR: "version", EN: "version"},
		"consents.state":      {FR: "État", EN: "Status"},
		"consents.granted":    {FR: "Consentement donné le", EN: "Consent given on"},
		"consents.withdrawn":  {FR: "Consentement retiré le", EN: "Consent withdrawn on"},
		"consents.refused":    {FR: "Consentement refusé le", EN: "Consent refused on"},
		"consents.never":      {FR: "Vous n'avez pas donné votre consentement.", EN: "You have not given your consent."},
		"consents.minor":      {FR: "L'accord d'un titulaire de l'autorité parentale est aussi nécessaire.", EN: "A holder of parental responsibility must agree as well."},
		"consents.give":       {FR: "Je donne mon consentement", EN: "I give my consent"},
		"consents.withdraw":   {FR: "Je retire mon consentement", EN: "I withdraw my consent"},
		"consents.no_notice":  {FR: "Ce consentement ne peut pas être demandé pour l'instant.", EN: "This consent cannot be asked for at the moment."},
		"flash.granted":       {FR: "Votre consentement est enregistré.", EN: "Your consent is recorded."},
		"flash.withdrawn":     {FR: "Votre retrait est enregistré ; il s'applique immédiatement.", EN: "Your withdrawal is recorded; it applies at once."},
		"channel.email":       {FR: "e-mail", EN: "e-mail"},
		"channel.sms":         {FR: "SMS", EN: "SMS"},
		"channel.phone":       {FR: "téléphone", EN: "phone"},
		"channel.post":        {FR: "courrier", EN: "post"},
		"channel.ad_matching": {FR: "ciblage publicitaire", EN: "ad matching"},

		"requests.title":         {FR: "Mes demandes", EN: "My requests"},
		"requests.intro":         {FR: "Vous pouvez exercer vos droits ici, gratuitement. Nous répondons dans un délai d'un mois, prolongeable de deux mois au plus si la demande est complexe ; nous vous dirions alors pourquoi.", EN: "You may exercise your rights here, free of charge. We answer within one month, which may be extended by two months at most if the request is complex; we would then tell you why."},
		"requests.none":          {FR: "Vous n'avez fait aucune demande.", EN: "You have made no request."},
		"requests.reference":     {FR: "Référence", EN: "Reference"},
		"requests.kind":          {FR: "Demande", EN: "Request"},
		"requests.received":      {FR: "Reçue le", EN: "Received"},
		"requests.due":           {FR: "Réponse au plus tard le", EN: "Answer due by"},
		"requests.status":        {FR: "État", EN: "Status"},
		"requests.download":      {FR: "Télécharger", EN: "Download"},
		"requests.new":           {FR: "Faire une demande", EN: "Make a request"},
		"requests.choose":        {FR: "Quel droit souhaitez-vous exercer ?", EN: "Which right do you wish to exercise?"},
		"requests.purposes":      {FR: "Pour une opposition : à quels traitements vous opposez-vous ?", EN: "For an objection: which processing do you object to?"},
		"requests.identity":      {FR: "Votre identité est vérifiée par le lien de connexion reçu à votre adresse e-mail : aucun justificatif n'est demandé.", EN: "Your identity is verified by the sign-in link sent to your e-mail address: no proof is asked for."},
		"requests.submit":        {FR: "Envoyer ma demande", EN: "Send my request"},
		"requests.ack":           {FR: "Un accusé de réception vous est envoyé par e-mail.", EN: "An acknowledgement is sent to you by e-mail."},
		"flash.request":          {FR: "Votre demande est enregistrée. Un accusé de réception vous est envoyé par e-mail.", EN: "Your request is recorded. An acknowledgement is sent to you by e-mail."},
		"kind.access":            {FR: "Accès à mes données", EN: "Access to my data"},
		"kind.rectification":     {FR: "Rectification", EN: "Rectification"},
		"kind.erasure":           {FR: "Effacement", EN: "Erasure"},
		"kind.restriction":       {FR: "Limitation du traitement", EN: "Restriction of processing"},
		"kind.objection":         {FR: "Opposition", EN: "Objection"},
		"kind.portability":       {FR: "Portabilité", EN: "Portability"},
		"kindhelp.access":        {FR: "recevoir une copie de toutes vos données et savoir comment elles sont utilisées", EN: "receive a copy of all your data and learn how it is used"},
		"kindhelp.rectification": {FR: "faire corriger une donnée inexacte ou incomplète", EN: "have wrong or incomplete data corrected"},
		"kindhelp.erasure":       {FR: "faire effacer vos données (sauf celles que la loi nous oblige à garder)", EN: "have your data erased (except what the law requires us to keep)"},
		"kindhelp.restriction":   {FR: "geler l'utilisation de vos données, le temps de régler un désaccord", EN: "freeze the use of your data while a disagreement is settled"},
		"kindhelp.objection":     {FR: "faire cesser un traitement fondé sur notre intérêt légitime, ou la prospection", EN: "stop processing based on our legitimate interest, or direct marketing"},
		"kindhelp.portability":   {FR: "recevoir vos données dans un format réutilisable", EN: "receive your data in a reusable format"},
		"status.received":        {FR: "reçue", EN: "received"},
		"status.in_progress":     {FR: "en cours", EN: "in progress"},
		"status.extended":        {FR: "délai prolongé", EN: "extended"},
		"status.completed":       {FR: "traitée", EN: "completed"},
		"status.refused":         {FR: "refusée", EN: "refused"},
		"deadline.overdue":       {FR: "en retard", EN: "overdue"},
		"deadline.due_soon":      {FR: "échéance proche", EN: "due soon"},

		"privacy.title": {FR: "Politique de confidentialité", EN: "Privacy notice"},

		"points.title":         {FR: "Mes points", EN: "My points"},
		"points.not_member":    {FR: "Vous n'êtes membre d'aucun programme de fidélité.", EN: "You are not a member of any loyalty programme."},
		"points.balance":       {FR: "Solde :", EN: "Balance:"},
		"points.points":        {FR: "points", EN: "points"},
		"points.next_expiry":   {FR: "Prochaine expiration :", EN: "Next expiry:"},
		"points.on":            {FR: "le", EN: "on"},
		"points.no_expiry":     {FR: "Aucun point n'arrive à expiration.", EN: "No points are due to expire."},
		"points.left":          {FR: "Vous avez quitté ce programme le", EN: "You left this programme on"},
		"points.terms":         {FR: "Conditions acceptées : version", EN: "Terms accepted: version"},
		"points.pending":       {FR: "Une nouvelle version des conditions a été publiée ; elle ne vous engage pas sans votre accord. Version", EN: "A new version of the terms was published; it does not bind you without your agreement. Version"},
		"points.lots":          {FR: "Points par date d'acquisition (les plus anciens sont utilisés et expirent en premier)", EN: "Points by date earned (the oldest are used and expire first)"},
		"points.earned":        {FR: "Acquis le", EN: "Earned"},
		"points.expires":       {FR: "Expirent le", EN: "Expire"},
		"points.remaining":     {FR: "Restants", EN: "Remaining"},
		"points.never":         {FR: "jamais", EN: "never"},
		"points.history":       {FR: "Historique", EN: "History"},
		"points.date":          {FR: "Date", EN: "Date"},
		"points.change":        {FR: "Points", EN: "Points"},
		"points.reason":        {FR: "Pourquoi", EN: "Why"},
		"points.more":          {FR: "Plus ancien", EN: "Older"},
		"points.mediator":      {FR: "Médiateur de la consommation", EN: "Consumer mediator"},
		"points.mediator_text": {FR: "En cas de litige non résolu avec nous, vous pouvez saisir gratuitement le médiateur de la consommation :", EN: "If a dispute with us is not resolved, you may refer it free of charge to the consumer mediator:"},

		"error.title":        {FR: "Une erreur est survenue", EN: "Something went wrong"},
		"error.back":         {FR: "Revenir à mon espace", EN: "Back to my customer area"},
		"error.request":      {FR: "Référence de la requête :", EN: "Request reference:"},
		"error.forbidden":    {FR: "Cette opération n'est pas possible.", EN: "This operation is not possible."},
		"error.not_found":    {FR: "Cette page n'existe pas.", EN: "This page does not exist."},
		"error.invalid":      {FR: "La demande n'est pas valide.", EN: "The request is not valid."},
		"error.csrf":         {FR: "Le formulaire a expiré. Rechargez la page et réessayez.", EN: "The form has expired. Reload the page and try again."},
		"error.unavailable":  {FR: "Le service est momentanément indisponible. Réessayez dans quelques instants.", EN: "The service is temporarily unavailable. Try again in a moment."},
		"error.internal":     {FR: "Une erreur interne s'est produite. Si elle persiste, contactez-nous en citant la référence ci-dessous.", EN: "An internal error occurred. If it persists, contact us quoting the reference below."},
		"error.precondition": {FR: "Cette opération n'est pas possible dans l'état actuel.", EN: "This operation is not possible in the current state."},
		"error.too_many":     {FR: "Trop de demandes. Patientez quelques minutes.", EN: "Too many requests. Wait a few minutes."},
		"error.kind":         {FR: "Choisissez le droit que vous souhaitez exercer.", EN: "Choose the right you wish to exercise."},
		"error.purposes":     {FR: "Pour une opposition, cochez au moins un traitement.", EN: "For an objection, tick at least one processing."},
	}
}

package register

import "github.com/fidelis/fidelis"

// tx is one text in French and English.
type tx struct{ fr, en string }

func (t tx) in(lang string) string {
	if lang == LangEN {
		return t.en
	}
	return t.fr
}

// labels are the headings and fixed sentences of both documents.
var labels = map[string]tx{
	"register.title":          {"Registre des activités de traitement", "Record of processing activities"},
	"register.intro":          {"Registre tenu en application de l'article 30(1) du RGPD, généré à partir du registre des finalités de Fidelis.", "Record kept under article 30(1) GDPR, generated from the Fidelis purpose registry."},
	"notice.title":            {"Politique de confidentialité", "Privacy notice"},
	"notice.intro":            {"Cette page explique quelles données personnelles nous traitons, pourquoi, combien de temps, avec qui nous les partageons et comment exercer vos droits (articles 13 et 14 du RGPD).", "This page explains which personal data we process, why, for how long, with whom we share them and how to use your rights (articles 13 and 14 GDPR)."},
	"not_configured":          {"non configuré", "not configured"},
	"h.controller":            {"Responsable du traitement", "Controller"},
	"h.dpo":                   {"Délégué à la protection des données (DPO)", "Data protection officer (DPO)"},
	"h.activities":            {"Activités de traitement", "Processing activities"},
	"h.purposes":              {"Finalités et bases légales", "Purposes and lawful bases"},
	"h.recipients":            {"Destinataires", "Recipients"},
	"h.transfers":             {"Transferts hors de l'Espace économique européen", "Transfers outside the European Economic Area"},
	"h.security":              {"Mesures de sécurité techniques et organisationnelles", "Technical and organisational security measures"},
	"h.rights":                {"Vos droits", "Your rights"},
	"h.exercise":              {"Comment exercer vos droits", "How to use your rights"},
	"h.complaint":             {"Réclamation auprès de la CNIL", "Complaint to the CNIL"},
	"h.automated":             {"Décisions automatisées", "Automated decisions"},
	"h.source":                {"Origine des données", "Where the data come from"},
	"h.version":               {"Version", "Version"},
	"f.name":                  {"Nom", "Name"},
	"f.address":               {"Adresse", "Address"},
	"f.email":                 {"Courriel", "E-mail"},
	"f.contact":               {"Contact", "Contact"},
	"f.purpose":               {"Finalité", "Purpose"},
	"f.basis":                 {"Base légale", "Lawful basis"},
	"f.interest":              {"Intérêt légitime poursuivi", "Legitimate interest pursued"},
	"f.subjects":              {"Personnes concernées", "Data subjects"},
	"f.categories":            {"Catégories de données", "Categories of data"},
	"f.data":                  {"Données utilisées", "Data used"},
	"f.internal":              {"Destinataires internes (rôles habilités)", "Internal recipients (authorised roles)"},
	"f.external":              {"Destinataires externes", "External recipients"},
	"f.transfers":             {"Transferts hors EEE", "Transfers outside the EEA"},
	"f.retention":             {"Durée de conservation", "Retention"},
	"f.required":              {"Fourniture des données", "Providing the data"},
	"f.kind":                  {"Nature", "Kind"},
	"f.country":               {"Pays", "Country"},
	"f.safeguard":             {"Garantie", "Safeguard"},
	"f.recipient":             {"Destinataire", "Recipient"},
	"f.registry_version":      {"Version du registre des finalités", "Purpose registry version"},
	"f.registry_date":         {"Date du registre des finalités", "Purpose registry date"},
	"f.content_hash":          {"Empreinte du contenu", "Content hash"},
	"none.external":           {"Aucun destinataire externe déclaré.", "No external recipient declared."},
	"none.internal":           {"Aucun rôle habilité.", "No authorised role."},
	"none.transfers":          {"Aucun transfert hors de l'EEE déclaré.", "No transfer outside the EEA declared."},
	"none.data":               {"Aucune donnée client (journal des accès uniquement).", "No customer data (access log only)."},
	"transfer.none_safeguard": {"AUCUNE GARANTIE DOCUMENTÉE : transfert à régulariser (RGPD chapitre V)", "NO SAFEGUARD DOCUMENTED: transfer to be regularised (GDPR chapter V)"},
	"transfer.notice_missing": {"garantie non documentée", "safeguard not documented"},
	"transfers.copy":          {"Vous pouvez obtenir une copie des garanties qui encadrent ces transferts en nous écrivant à l'adresse de contact ci-dessous.", "You may obtain a copy of the safeguards for these transfers by writing to us at the contact address below."},
	"hash.note":               {"L'empreinte SHA-256 identifie exactement ce texte, dans cette langue.", "The SHA-256 hash identifies exactly this text, in this language."},
	"exercise.text":           {"Écrivez-nous à l'adresse de contact ci-dessous, ou utilisez votre espace client. La réponse est gratuite et vous parvient dans un délai d'un mois à compter de la réception de votre demande ; ce délai peut être prolongé de deux mois compte tenu de la complexité ou du nombre de demandes, auquel cas nous vous en informons dans le premier mois, avec les motifs. Nous ne demandons un justificatif d'identité qu'en cas de doute raisonnable. Une demande électronique reçoit une réponse électronique.", "Write to us at the contact address below, or use your customer area. The answer is free of charge and reaches you within one month of receiving your request; this period may be extended by two months given the complexity or number of requests, in which case we tell you so within the first month, with the reasons. We ask for proof of identity only where there is reasonable doubt. An electronic request gets an electronic answer."},
	"exercise.contact":        {"Contact pour exercer vos droits", "Contact to use your rights"},
	"complaint.text":          {"Si vous estimez, après nous avoir contactés, que vos droits ne sont pas respectés, vous pouvez adresser une réclamation à la Commission nationale de l'informatique et des libertés (CNIL), autorité de contrôle française, ou à l'autorité de contrôle de l'État membre de l'Union où vous résidez ou travaillez. Vous pouvez aussi saisir la justice.", "If, after contacting us, you believe your rights are not respected, you may lodge a complaint with the Commission nationale de l'informatique et des libertés (CNIL), the French supervisory authority, or with the supervisory authority of the EU member state where you live or work. You may also go to court."},
	"cnil.name":               {"Commission nationale de l'informatique et des libertés (CNIL)", "Commission nationale de l'informatique et des libertés (CNIL)"},
	"cnil.address":            {"3 place de Fontenoy, TSA 80715, 75334 Paris Cedex 07, France", "3 place de Fontenoy, TSA 80715, 75334 Paris Cedex 07, France"},
	"cnil.website":            {"https://www.cnil.fr/fr/plaintes", "https://www.cnil.fr/en/complaints"},
	"automated.text":          {"Aucune décision produisant des effets juridiques à votre égard ou vous affectant de manière significative n'est prise sur le seul fondement d'un traitement automatisé (RGPD art. 22). Une décision de ce type, par exemple une exclusion du programme de fidélité, est toujours revue par une personne ; vous pouvez présenter votre point de vue et la contester.", "No decision producing legal effects concerning you or similarly significantly affecting you is taken solely by automated processing (GDPR art. 22). Any such decision, for example exclusion from the loyalty programme, is always reviewed by a person; you may express your point of view and contest it."},
	"source.text":             {"Les données sont collectées auprès de vous (en magasin, en ligne, auprès du service client ou de l'équipe commerciale) ou proviennent de vos achats enregistrés par nos caisses et notre boutique en ligne.", "The data are collected from you (in shops, online, by customer service or the sales team) or come from your purchases recorded by our tills and web shop."},
	"recipients.intro":        {"Vos données ne sont accessibles qu'aux personnes habilitées de notre personnel, selon leur rôle et pour les seules finalités de ce rôle, et aux destinataires suivants :", "Your data are accessible only to authorised members of our staff, according to their role and only for that role's purposes, and to the following recipients:"},
	"h.retention":             {"Règles de conservation en vigueur", "Retention rules in force"},
	"h.notice_retention":      {"Combien de temps nous gardons vos données", "How long we keep your data"},
	"retention.intro":         {"Règles appliquées automatiquement par le moteur Fidelis à la date de ce document (T-1 à T-6), avec la durée par défaut du référentiel CNIL et, si l'exploitant l'a modifiée, la date et le motif de la modification. Une mise en attente pour contentieux (T-8) suspend l'archivage et l'effacement ; au-delà des durées, seules des statistiques anonymes sont conservées (T-7).", "Rules the Fidelis engine applies automatically at the date of this document (T-1 to T-6), with the default period of the CNIL guidelines and, where the operator changed it, the date and reason of the change. A legal hold (T-8) suspends archiving and erasure; beyond these periods only anonymous statistics are kept (T-7)."},
	"retention.notice_intro":  {"Nous ne gardons vos données que le temps nécessaire. Voici les durées que nous appliquons aujourd'hui ; chacune dépend de votre relation avec nous et repart à chaque contact venant de vous (achat, clic, réponse, connexion, visite, appel), sauf pour les pièces comptables. Au-delà, nous ne gardons que des statistiques anonymes. Une procédure en justice en cours peut retarder l'effacement.", "We keep your data only as long as needed. These are the periods we apply today; each depends on your relationship with us and starts again at each contact from you (purchase, click, reply, sign-in, visit, call), except for accounting records. Beyond them we keep only anonymous statistics. Legal proceedings under way may delay erasure."},
	"retention.none":          {"Aucune règle de conservation automatique n'est configurée : les durées sont celles indiquées pour chaque finalité.", "No automatic retention rule is configured: the periods are those stated for each purpose."},
	"retention.in_force":      {"Durées en vigueur", "Periods in force"},
	"retention.see":           {"Détail ci-dessous.", "Details below."},
	"retention.unchanged":     {"Aucune : durée par défaut", "None: default period"},
	"f.rule_subjects":         {"Personnes concernées", "Data subjects"},
	"f.notice_subjects":       {"Qui est concerné", "Who it applies to"},
	"f.period":                {"Durée en vigueur", "Period in force"},
	"f.notice_period":         {"Durée", "How long"},
	"f.default":               {"Durée par défaut (référentiel CNIL)", "Default period (CNIL guidelines)"},
	"f.change":                {"Modification par l'exploitant", "Changed by the operator"},
	"f.changed_at":            {"le", "on"},
	"f.change_reason":         {"motif", "reason"},
	"f.at_end":                {"À l'échéance", "When it ends"},
	"f.notice_at_end":         {"Ensuite", "Then"},
	"f.retention_rules":       {"Règles de conservation", "Retention rules"},
	"security.intro":          {"Mesures effectivement mises en œuvre par le moteur Fidelis (RGPD art. 32) :", "Measures actually enforced by the Fidelis engine (GDPR art. 32):"},
}

// Supported languages.
const (
	LangFR = "fr"
	LangEN = "en"
)

func l(lang, key string) string {
	t, ok := labels[key]
	if !ok {
		panic("register: missing label " + key) // texts are constants; tests render every path
	}
	return t.in(lang)
}

// bases describes each lawful basis with its article.
var bases = map[fidelis.LawfulBasis]tx{
	fidelis.BasisConsent:            {"Consentement (RGPD art. 6(1)(a))", "Consent (GDPR art. 6(1)(a))"},
	fidelis.BasisContract:           {"Exécution d'un contrat ou de mesures précontractuelles (RGPD art. 6(1)(b))", "Performance of a contract or pre-contractual steps (GDPR art. 6(1)(b))"},
	fidelis.BasisLegalObligation:    {"Obligation légale (RGPD art. 6(1)(c))", "Legal obligation (GDPR art. 6(1)(c))"},
	fidelis.BasisLegitimateInterest: {"Intérêt légitime (RGPD art. 6(1)(f))", "Legitimate interest (GDPR art. 6(1)(f))"},
}

// required says, per lawful basis, whether providing the data is required and what happens
// if it is not (art. 13(2)(e)).
var required = map[fidelis.LawfulBasis]tx{
	fidelis.BasisConsent:            {"Facultative : vous êtes libre de consentir ou non ; un refus n'a aucune conséquence sur vos achats ni sur votre adhésion au programme de fidélité. Vous pouvez retirer votre consentement à tout moment.", "Optional: you are free to consent or not; refusing has no effect on your purchases or your loyalty membership. You may withdraw your consent at any time."},
	fidelis.BasisContract:           {"Nécessaire au contrat : sans ces données, nous ne pouvons pas fournir le service demandé.", "Needed for the contract: without these data we cannot provide the service you asked for."},
	fidelis.BasisLegalObligation:    {"Exigée par la loi : nous sommes tenus de les traiter.", "Required by law: we are bound to process them."},
	fidelis.BasisLegitimateInterest: {"Non obligatoire ; vous pouvez vous opposer à ce traitement à tout moment pour des raisons tenant à votre situation particulière.", "Not mandatory; you may object to this processing at any time on grounds relating to your particular situation."},
}

// interests states the legitimate interest the default purposes on that basis pursue
// (art. 13(1)(d)). A purpose not listed here states its own description.
var interests = map[fidelis.Purpose]tx{
	fidelis.PurposeSales:       {"Développer notre activité en suivant nos prospects et clients", "Developing our business by following up prospects and customers"},
	fidelis.PurposeAnalytics:   {"Comprendre nos ventes pour améliorer notre offre", "Understanding our sales to improve our offer"},
	fidelis.PurposeLegalClaims: {"Faire valoir ou défendre nos droits en justice", "Establishing or defending our rights in court"},
}

// subjects are the categories of data subjects of the default purposes (art. 30(1)(c)).
// Fidelis holds customer records only: another purpose concerns customers and prospects.
var subjects = map[fidelis.Purpose][]tx{
	fidelis.PurposeCustomerService: {{"Clients", "Customers"}, {"Prospects", "Prospects"}},
	fidelis.PurposeSales:           {{"Prospects", "Prospects"}, {"Clients", "Customers"}},
	fidelis.PurposeLoyalty:         {{"Membres du programme de fidélité", "Loyalty programme members"}},
	fidelis.PurposeMarketingEmail:  {{"Clients et prospects ayant consenti", "Customers and prospects who consented"}},
	fidelis.PurposeMarketingSMS:    {{"Clients et prospects ayant consenti", "Customers and prospects who consented"}},
	fidelis.PurposeAnalytics:       {{"Clients", "Customers"}},
	fidelis.PurposeAccounting:      {{"Clients (acheteurs)", "Customers (buyers)"}},
	fidelis.PurposeLegalClaims:     {{"Clients", "Customers"}, {"Prospects", "Prospects"}},
	fidelis.PurposeDataProtection:  {{"Personnes exerçant leurs droits", "People using their rights"}},
	fidelis.PurposeAudit:           {{"Clients et prospects dont les données sont consultées", "Customers and prospects whose data are accessed"}, {"Membres du personnel (auteurs des accès)", "Staff members (who accessed data)"}},
}

var defaultSubjects = []tx{{"Clients", "Customers"}, {"Prospects", "Prospects"}}

// category groups customer fields for the register (art. 30(1)(c)).
type category struct {
	key    string
	label  tx
	fields []fidelis.Field
}

var categories = []category{
	{"identity", tx{"Identité", "Identity"}, []fidelis.Field{fidelis.FieldGivenName, fidelis.FieldFamilyName}},
	{"contact", tx{"Coordonnées", "Contact details"}, []fidelis.Field{fidelis.FieldEmail, fidelis.FieldPhone}},
	{"address", tx{"Adresse postale", "Postal address"}, []fidelis.Field{fidelis.FieldStreet, fidelis.FieldPostalCode, fidelis.FieldCity, fidelis.FieldCountry}},
	{"birth_date", tx{"Date de naissance", "Birth date"}, []fidelis.Field{fidelis.FieldBirthDate}},
	{"preferences", tx{"Préférences", "Preferences"}, []fidelis.Field{fidelis.FieldLocale}},
	{"custom_attributes", tx{"Attributs personnalisés", "Custom attributes"}, []fidelis.Field{fidelis.FieldAttributes}},
}

var otherCategory = category{key: "other", label: tx{"Autres données", "Other data"}}

var fieldLabels = map[fidelis.Field]tx{
	fidelis.FieldGivenName:  {"prénom", "given name"},
	fidelis.FieldFamilyName: {"nom", "family name"},
	fidelis.FieldEmail:      {"adresse électronique", "e-mail address"},
	fidelis.FieldPhone:      {"téléphone", "phone"},
	fidelis.FieldBirthDate:  {"date de naissance", "birth date"},
	fidelis.FieldStreet:     {"rue", "street"},
	fidelis.FieldPostalCode: {"code postal", "postal code"},
	fidelis.FieldCity:       {"ville", "city"},
	fidelis.FieldCountry:    {"pays", "country"},
	fidelis.FieldLocale:     {"langue", "language"},
	fidelis.FieldAttributes: {"attributs personnalisés", "custom attributes"},
}

var roleLabels = map[fidelis.Role]tx{
	fidelis.RoleAdmin:          {"Administrateurs", "Administrators"},
	fidelis.RoleDPO:            {"Délégué à la protection des données", "Data protection officer"},
	fidelis.RoleSales:          {"Équipe commerciale", "Sales team"},
	fidelis.RoleMarketing:      {"Équipe marketing", "Marketing team"},
	fidelis.RoleSupport:        {"Service client", "Customer service"},
	fidelis.RoleLoyaltyManager: {"Responsables du programme de fidélité", "Loyalty programme managers"},
	fidelis.RoleAuditor:        {"Auditeurs", "Auditors"},
}

var kindLabels = map[RecipientKind]tx{
	KindProcessor:       {"Sous-traitant (art. 28)", "Processor (art. 28)"},
	KindJointController: {"Responsable conjoint (art. 26)", "Joint controller (art. 26)"},
	KindThirdParty:      {"Tiers destinataire", "Third-party recipient"},
	KindAuthority:       {"Autorité publique", "Public authority"},
}

var safeguardLabels = map[string]tx{
	SafeguardAdequacy:   {"Décision d'adéquation de la Commission européenne (art. 45)", "European Commission adequacy decision (art. 45)"},
	SafeguardSCC:        {"Clauses contractuelles types de la Commission européenne (art. 46(2)(c))", "European Commission standard contractual clauses (art. 46(2)(c))"},
	SafeguardBCR:        {"Règles d'entreprise contraignantes (art. 47)", "Binding corporate rules (art. 47)"},
	SafeguardDerogation: {"Dérogation pour une situation particulière (art. 49)", "Derogation for a specific situation (art. 49)"},
}

// rights lists the data subject's rights (art. 13(2)(b)-(d), 15-22) in a fixed order.
var rights = []struct {
	key   string
	title tx
	text  tx
}{
	{"access", tx{"Droit d'accès (art. 15)", "Right of access (art. 15)"}, tx{"Obtenir la confirmation que nous traitons vos données, une copie de ces données et les informations sur leur traitement, y compris qui y a accédé.", "Obtain confirmation that we process your data, a copy of them and the information about their processing, including who accessed them."}},
	{"rectification", tx{"Droit de rectification (art. 16)", "Right to rectification (art. 16)"}, tx{"Faire corriger sans délai des données inexactes et compléter des données incomplètes.", "Have inaccurate data corrected without delay and incomplete data completed."}},
	{"erasure", tx{"Droit à l'effacement (art. 17)", "Right to erasure (art. 17)"}, tx{"Obtenir l'effacement de vos données, sauf celles que la loi nous oblige à conserver (par exemple les pièces comptables), qui sont alors pseudonymisées.", "Have your data erased, except those the law obliges us to keep (for example accounting records), which are then pseudonymised."}},
	{"restriction", tx{"Droit à la limitation (art. 18)", "Right to restriction (art. 18)"}, tx{"Faire geler vos données : elles sont conservées mais ne sont plus utilisées, sauf pour la défense de droits en justice ou avec votre accord.", "Have your data frozen: they are kept but no longer used, except for legal claims or with your consent."}},
	{"objection", tx{"Droit d'opposition (art. 21)", "Right to object (art. 21)"}, tx{"Vous opposer à tout moment à un traitement fondé sur notre intérêt légitime, pour des raisons tenant à votre situation particulière ; l'opposition à la prospection commerciale, profilage compris, est absolue et prend effet immédiatement.", "Object at any time to processing based on our legitimate interest, on grounds relating to your particular situation; objection to direct marketing, including profiling, is absolute and takes effect at once."}},
	{"portability", tx{"Droit à la portabilité (art. 20)", "Right to data portability (art. 20)"}, tx{"Recevoir les données que vous nous avez fournies, traitées sur la base de votre consentement ou d'un contrat, dans un format structuré et lisible par machine (JSON, CSV), et les faire transmettre à un autre responsable.", "Receive the data you provided to us, processed on the basis of your consent or a contract, in a structured, machine-readable format (JSON, CSV), and have them sent to another controller."}},
	{"withdraw_consent", tx{"Retrait du consentement (art. 7(3))", "Withdrawal of consent (art. 7(3))"}, tx{"Retirer à tout moment, aussi simplement que vous l'avez donné, un consentement donné ; le retrait vaut immédiatement pour l'avenir et ne remet pas en cause la licéité du traitement effectué avant.", "Withdraw a consent at any time, as easily as you gave it; withdrawal applies at once for the future and does not affect the lawfulness of processing carried out before it."}},
	{"post_mortem", tx{"Directives après décès (loi Informatique et Libertés, art. 85)", "Instructions after death (French Data Protection Act, art. 85)"}, tx{"Définir des directives sur la conservation, l'effacement et la communication de vos données après votre décès.", "Set instructions on the keeping, erasure and communication of your data after your death."}},
}

// security describes the measures the engine enforces (art. 30(1)(g), 32). They are the real
// ones of this code base; change them here when the code changes.
var security = []tx{
	{"Chiffrement au repos de chaque donnée personnelle en AES-256-GCM, sous une clé de données propre à chaque client, elle-même chiffrée par une clé maîtresse (fichier de clés protégé ou KMS) ; chaque valeur chiffrée est liée à son client et à son champ.", "Encryption at rest of every personal field with AES-256-GCM, under a data key of its own for each customer, itself wrapped by a key-encryption key (protected key file or KMS); each ciphertext is bound to its customer and field."},
	{"Recherche exacte (courriel, téléphone) par index aveugles : empreintes HMAC-SHA256 tronquées des valeurs normalisées, sans valeur en clair dans la base.", "Exact search (e-mail, phone) through blind indexes: truncated HMAC-SHA256 of normalised values, with no plaintext value in the database."},
	{"Effacement par destruction cryptographique : la clé du client est détruite et ses lignes supprimées dans la même transaction, ce qui rend illisible toute copie restante, sauvegardes comprises.", "Erasure by crypto-shredding: the customer's key is destroyed and their rows deleted in the same transaction, which makes every remaining copy unreadable, backups included."},
	{"Contrôle d'accès par rôle et par finalité : chaque opération nomme sa finalité, qui doit être accordée au rôle de l'utilisateur et ne donne accès qu'aux champs qu'elle déclare ; les refus sont journalisés.", "Role- and purpose-based access control: every operation names its purpose, which must be granted to the user's role and gives access only to the fields it declares; refusals are logged."},
	{"Journal d'audit infalsifiable : chaque accès et chaque modification (lectures comprises) est enregistré sans valeur personnelle, authentifié (HMAC) et scellé dans un arbre de Merkle (RFC 6962) avec des points de contrôle signés ; toute modification, suppression ou réorganisation est détectée par « fidelis audit verify ».", "Tamper-evident audit log: every access and change (reads included) is recorded without personal values, authenticated (HMAC) and sealed into a Merkle tree (RFC 6962) with signed checkpoints; any change, removal or reordering is detected by \"fidelis audit verify\"."},
	{"Aucune donnée personnelle en clair dans les journaux applicatifs, le journal d'audit ni les événements, qui ne portent que des identifiants et des noms de champs.", "No plaintext personal data in application logs, the audit log or events, which carry only identifiers and field names."},
	{"Authentification du personnel : mots de passe hachés par Argon2id, verrouillage après 5 échecs, sessions et jetons d'API conservés sous forme d'empreintes uniquement.", "Staff authentication: passwords hashed with Argon2id, lock-out after 5 failures, sessions and API tokens stored as hashes only."},
}

// purposeRules names, for the default purposes, the retention rules that govern the data
// they process, as the retention engine applies them: a customer record lives by the rule
// of the customer's relationship (T-1 prospect, T-2 customer, T-3 account, T-4 member),
// accounting records by T-5. Legal claims, rights requests and the access log are kept
// for periods the engine does not set: they have none. A purpose not listed keeps its own
// text without a pointer.
var purposeRules = map[fidelis.Purpose][]string{
	fidelis.PurposeCustomerService: {"T-1", "T-2", "T-3", "T-4"},
	fidelis.PurposeSales:           {"T-1", "T-2"},
	fidelis.PurposeLoyalty:         {"T-4"},
	fidelis.PurposeMarketingEmail:  {"T-1", "T-2"},
	fidelis.PurposeMarketingSMS:    {"T-1", "T-2"},
	fidelis.PurposeAnalytics:       {"T-2"},
	fidelis.PurposeAccounting:      {"T-5"},
}

// endTexts say what happens when a rule's period ends: neutral in the register, addressed
// to the reader in the notice. None states a period: the periods come from the rules.
var endTexts = map[string]struct{ register, notice tx }{
	OutcomeErase: {
		tx{"Effacement définitif par destruction de la clé de chiffrement propre à la personne, dans toutes les copies, sauvegardes comprises.",
			"Erased for good by destroying the person's own encryption key, in every copy, backups included."},
		tx{"Vos données sont effacées définitivement, sauvegardes comprises.",
			"Your data are erased for good, backups included."}},
	OutcomeArchive: {
		tx{"Archivage intermédiaire à accès restreint : plus aucun usage, hors obligations légales, comptabilité et défense de droits en justice ; effacement à la fin de la conservation des preuves du contrat (T-6).",
			"Restricted intermediate archive: no further use, except legal obligations, accounting and legal claims; erased when the contract evidence period (T-6) ends."},
		tx{"Vos données sont mises à l'écart dans une archive à accès restreint, où elles ne servent plus qu'à nos obligations légales et à la défense de nos droits, puis effacées à la fin de la durée « Preuves du contrat ».",
			"Your data are set aside in an archive with restricted access, used only for our legal obligations and to defend our rights, then erased when the \"Contract evidence\" period ends."}},
	OutcomeKeep: {
		tx{"Conservées par obligation légale, sous un identifiant pseudonyme dès l'effacement du client ; jamais supprimées par la purge automatique.",
			"Kept by legal obligation, under a pseudonymous identifier once the customer is erased; never deleted by the automatic purge."},
		tx{"Ces pièces sont conservées pendant cette durée même si vous demandez l'effacement de vos données ; elles ne portent alors plus votre nom.",
			"These records are kept for this period even if you ask for your data to be erased; they then no longer carry your name."}},
}

// noticeTexts say what the person is sent before a rule's period ends.
var noticeTexts = map[string]struct{ register, notice tx }{
	NoticeRenewal: {
		tx{"Une seule demande de renouvellement du consentement est envoyée par courriel avant l'échéance (sauf opposition ou refus de la prospection).",
			"Renewed consent is asked for once by e-mail before the period ends (not after an objection or a refusal of marketing)."},
		tx{"Avant l'effacement, nous vous demandons une seule fois par courriel si vous souhaitez que nous gardions le contact.",
			"Before erasure, we ask you once by e-mail whether you would like us to stay in touch."}},
	NoticeWarning: {
		tx{"Un avertissement est envoyé par courriel avant l'échéance.",
			"A warning is sent by e-mail before the period ends."},
		tx{"Avant la suppression, nous vous prévenons par courriel ; il suffit de vous connecter pour garder votre compte.",
			"Before deletion, we warn you by e-mail; signing in is enough to keep your account."}},
}

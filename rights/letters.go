package rights

import (
	"fmt"
	"github.com/fidelis/fidelis"
	"strings"
)

// Text is a text in French and English (fidelis.Text).
type Text = fidelis.Text

// KindText names each kind of request.
var kindText = map[Kind]Text{
	KindAccess:        {FR: "droit d'accès (article 15 du RGPD)", EN: "right of access (GDPR article 15)"},
	KindRectification: {FR: "droit de rectification (article 16 du RGPD)", EN: "right to rectification (GDPR article 16)"},
	KindErasure:       {FR: "droit à l'effacement (article 17 du RGPD)", EN: "right to erasure (GDPR article 17)"},
	KindRestriction:   {FR: "droit à la limitation du traitement (article 18 du RGPD)", EN: "right to restriction of processing (GDPR article 18)"},
	KindObjection:     {FR: "droit d'opposition (article 21 du RGPD)", EN: "right to object (GDPR article 21)"},
	KindPortability:   {FR: "droit à la portabilité (article 20 du RGPD)", EN: "right to data portability (GDPR article 20)"},
}

// KindText returns the name of a kind of request in French and English.
func KindText(k Kind) Text { return kindText[k] }

var extensionReasonText = map[ExtensionReason]Text{
	ExtendComplexity:       {FR: "la complexité de votre demande", EN: "the complexity of your request"},
	ExtendNumberOfRequests: {FR: "le nombre de demandes que nous avons reçues", EN: "the number of requests we have received"},
}

var refusalReasonText = map[RefusalReason]Text{
	RefuseManifestlyUnfounded: {FR: "votre demande est manifestement infondée (article 12, paragraphe 5, du RGPD)",
		EN: "your request is manifestly unfounded (GDPR article 12(5))"},
	RefuseExcessive: {FR: "votre demande est excessive, notamment par son caractère répétitif (article 12, paragraphe 5, du RGPD)",
		EN: "your request is excessive, in particular because of its repetitive character (GDPR article 12(5))"},
	RefuseIdentityNotVerified: {FR: "nous n'avons pas pu vérifier votre identité (article 12, paragraphes 2 et 6, du RGPD)",
		EN: "we could not verify your identity (GDPR article 12(2) and (6))"},
	RefuseLegalObligation: {FR: "la conservation de ces données est nécessaire au respect d'une obligation légale (article 17, paragraphe 3, du RGPD)",
		EN: "keeping these data is necessary to comply with a legal obligation (GDPR article 17(3))"},
	RefuseLegalClaims: {FR: "ces données sont nécessaires à la constatation, à l'exercice ou à la défense de droits en justice",
		EN: "these data are necessary for the establishment, exercise or defence of legal claims"},
	RefuseCompellingGrounds: {FR: "il existe des motifs légitimes et impérieux pour le traitement qui prévalent sur vos intérêts, droits et libertés (article 21, paragraphe 1, du RGPD)",
		EN: "there are compelling legitimate grounds for the processing which override your interests, rights and freedoms (GDPR article 21(1))"},
	RefuseRightsOfOthers: {FR: "y donner suite porterait atteinte aux droits et libertés d'autrui (articles 15, paragraphe 4, et 20, paragraphe 4, du RGPD)",
		EN: "acting on it would adversely affect the rights and freedoms of others (GDPR articles 15(4) and 20(4))"},
	RefuseNoData: {FR: "nous ne détenons aucune donnée vous concernant", EN: "we hold no data about you"},
}

// RefusalReasonText returns the sentence explaining a refusal reason.
func RefusalReasonText(r RefusalReason) Text { return refusalReasonText[r] }

// ExtensionReasonText returns the sentence explaining an extension reason.
func ExtensionReasonText(r ExtensionReason) Text { return extensionReasonText[r] }

// Complaint is the sentence every refusal carries (R-2, GDPR art. 12(4), 77 and 79).
var Complaint = Text{
	FR: "Vous avez le droit d'introduire une réclamation auprès de la Commission nationale de l'informatique et des libertés (CNIL), " +
		"3 place de Fontenoy, TSA 80715, 75334 Paris Cedex 07, www.cnil.fr, et de former un recours juridictionnel devant le tribunal compétent.",
	EN: "You have the right to lodge a complaint with the French data protection authority, the Commission nationale de l'informatique et des libertés (CNIL), " +
		"3 place de Fontenoy, TSA 80715, 75334 Paris Cedex 07, France, www.cnil.fr, and to seek a judicial remedy before the competent court.",
}

func date(lang string, t interface{ Format(string) string }) string {
	if lang == "fr" {
		return t.Format("02/01/2006")
	}
	return t.Format("2 January 2006")
}

func joinReasons[R comparable](reasons []R, texts map[R]Text, lang string) string {
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = texts[r].In(lang)
	}
	sep, last := ", ", " and "
	if lang == "fr" {
		last = " et "
	}
	if len(parts) <= 1 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], sep) + last + parts[len(parts)-1]
}

// RefusalLetter is the text telling the person their request is refused or not acted on,
// why, and their right to complain to the CNIL or a court. It holds no personal
// value: the case ID identifies the request.
func RefusalLetter(c *Case, lang string) string {
	if c.Refusal == nil {
		return ""
	}
	reasons := joinReasons(c.Refusal.Reasons, refusalReasonText, lang)
	if lang == "fr" {
		return fmt.Sprintf("Objet : votre demande d'exercice du %s reçue le %s (référence %s).\n\n"+
			"Nous ne pouvons pas donner suite à votre demande, pour le motif suivant : %s.\n\n%s",
			kindText[c.Kind].FR, date(lang, c.ReceivedAt), c.ID, reasons, Complaint.FR)
	}
	return fmt.Sprintf("Subject: your request under the %s received on %s (reference %s).\n\n"+
		"We cannot act on your request, for the following reason: %s.\n\n%s",
		kindText[c.Kind].EN, date(lang, c.ReceivedAt), c.ID, reasons, Complaint.EN)
}

// ExtensionLetter is the text telling the person, within the first month, that the
// deadline is extended, by how much and why (R-1, GDPR art. 12(3)).
func ExtensionLetter(c *Case, lang string) string {
	if c.Extension == nil {
		return ""
	}
	reasons := joinReasons(c.Extension.Reasons, extensionReasonText, lang)
	if lang == "fr" {
		mois := "mois"
		return fmt.Sprintf("Objet : votre demande d'exercice du %s reçue le %s (référence %s).\n\n"+
			"En raison de %s, le délai de réponse est prolongé de %d %s : nous vous répondrons au plus tard le %s "+
			"(au lieu du %s).",
			kindText[c.Kind].FR, date(lang, c.ReceivedAt), c.ID, reasons, c.Extension.Months, mois, date(lang, c.Due), date(lang, c.OriginalDue))
	}
	months := "months"
	if c.Extension.Months == 1 {
		months = "month"
	}
	return fmt.Sprintf("Subject: your request under the %s received on %s (reference %s).\n\n"+
		"Because of %s, the time to answer is extended by %d %s: we will answer by %s at the latest "+
		"(instead of %s).",
		kindText[c.Kind].EN, date(lang, c.ReceivedAt), c.ID, reasons, c.Extension.Months, months, date(lang, c.Due), date(lang, c.OriginalDue))
}

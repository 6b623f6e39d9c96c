package mailer

import (
	htmltemplate "html/template"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"
)

// Kind names a message a customer receives. Each has a subject, a text and an HTML body in
// French and English, and the data fields it needs.
type Kind string

// Message kinds.
const (
	// KindMagicLink signs a customer in to the portal: data "link" (the one-time URL) and
	// "minutes" (its validity).
	KindMagicLink Kind = "portal_magic_link"
	// KindRightsReceived acknowledges a rights request: "reference", "right" (access,
	// rectification, erasure, restriction, objection, portability), "received" and "due"
	// (time.Time).
	KindRightsReceived Kind = "rights_request_received"
	// KindRightsExtended tells of an extension within the first month: "reference",
	// "due" (the new date) and "reasons".
	KindRightsExtended Kind = "rights_request_extended"
	// KindRightsRefused tells of a refusal with its reasons and the right to complain to the
	// CNIL or a court: "reference" and "reasons".
	KindRightsRefused Kind = "rights_request_refused"
	// KindRightsCompleted tells a request was carried out: "reference" and "right".
	KindRightsCompleted Kind = "rights_request_completed"
	// KindRightsErased tells an erasure request was carried out: "reference" and
	// "effective" (time.Time, when no backup holds the key any more). The customer area
	// is gone with the data, so the letter is the whole answer.
	KindRightsErased Kind = "rights_request_erased"
	// KindTest checks the SMTP configuration ("fidelis mail test"); it needs no data.
	KindTest Kind = "smtp_test"
	// KindRetentionRenewal asks a prospect, once, to renew their interest before their data
	// is erased (T-1): "date" (time.Time), when it will be.
	KindRetentionRenewal Kind = "retention_renewal_request"
	// KindRetentionWarning warns that an inactive online account will be deleted (T-3):
	// "date" (time.Time), when it will be.
	KindRetentionWarning Kind = "retention_account_warning"
	// KindPointsExpiring warns of points about to expire (L-4): "points" (int), "date"
	// (time.Time) and "programme".
	KindPointsExpiring Kind = "loyalty_points_expiring"
)

// Kinds returns every message kind, sorted.
func Kinds() []Kind {
	k := make([]Kind, 0, len(catalogue))
	for kind := range catalogue {
		k = append(k, kind)
	}
	slices.Sort(k)
	return k
}

// texts is one message kind in one language. Subject and Text are text/template; HTML is
// html/template (its data is escaped).
type texts struct{ Subject, Text, HTML string }

type entry struct {
	fields []string
	fr, en texts
}

// cnil is the right to complain, in both languages.
const (
	cnilFR = "Vous pouvez adresser une réclamation à la CNIL (3 place de Fontenoy, TSA 80715, 75334 Paris Cedex 07, https://www.cnil.fr/fr/plaintes) ou saisir la justice."
	cnilEN = "You may lodge a complaint with the CNIL (3 place de Fontenoy, TSA 80715, 75334 Paris Cedex 07, France, https://www.cnil.fr/en/complaints) or go to court."
)

var catalogue = map[Kind]entry{
	KindTest: {
		fr: texts{
			Subject: "Message de test de Fidelis",
			Text:    "Bonjour,\n\nCe message confirme que Fidelis peut envoyer des courriels par le serveur SMTP configuré.\n",
			HTML:    `<p>Bonjour,</p><p>Ce message confirme que Fidelis peut envoyer des courriels par le serveur SMTP configuré.</p>`,
		},
		en: texts{
			Subject: "Fidelis test message",
			Text:    "Hello,\n\nThis message confirms that Fidelis can send e-mail through the configured SMTP server.\n",
			HTML:    `<p>Hello,</p><p>This message confirms that Fidelis can send e-mail through the configured SMTP server.</p>`,
		}},
	KindRetentionRenewal: {fields: []string{"date"},
		fr: texts{
			Subject: "Souhaitez-vous rester en contact avec nous ?",
			Text:    "Bonjour,\n\nNous n'avons pas eu de nouvelles de vous depuis longtemps. Comme la loi le prévoit, nous effacerons vos données le {{date .date}} si vous ne vous manifestez pas d'ici là.\n\nPour rester en contact et continuer à recevoir nos nouvelles, il suffit de cliquer sur un lien de l'un de nos messages, de vous connecter à votre espace client, de nous appeler ou de passer en boutique avant cette date. Sinon, vous n'avez rien à faire.\n\nCe message ne vous sera envoyé qu'une fois.\n",
			HTML:    `<p>Bonjour,</p><p>Nous n'avons pas eu de nouvelles de vous depuis longtemps. Comme la loi le prévoit, nous effacerons vos données le <strong>{{date .date}}</strong> si vous ne vous manifestez pas d'ici là.</p><p>Pour rester en contact et continuer à recevoir nos nouvelles, il suffit de cliquer sur un lien de l'un de nos messages, de vous connecter à votre espace client, de nous appeler ou de passer en boutique avant cette date. Sinon, vous n'avez rien à faire.</p><p>Ce message ne vous sera envoyé qu'une fois.</p>`,
		},
		en: texts{
			Subject: "Would you like to stay in touch?",
			Text:    "Hello,\n\nWe have not heard from you for a long time. As the law provides, we will erase your data on {{date .date}} unless you get in touch before then.\n\nTo stay in touch and keep hearing from us, just click a link in one of our messages, sign in to your customer area, call us or visit a shop before that date. Otherwise, you need do nothing.\n\nThis message is sent to you only once.\n",
			HTML:    `<p>Hello,</p><p>We have not heard from you for a long time. As the law provides, we will erase your data on <strong>{{date .date}}</strong> unless you get in touch before then.</p><p>To stay in touch and keep hearing from us, just click a link in one of our messages, sign in to your customer area, call us or visit a shop before that date. Otherwise, you need do nothing.</p><p>This message is sent to you only once.</p>`,
		}},
	KindRetentionWarning: {fields: []string{"date"},
		fr: texts{
			Subject: "Votre compte client inactif sera supprimé le {{date .date}}",
			Text:    "Bonjour,\n\nVotre compte client n'a pas été utilisé depuis longtemps. Sans connexion de votre part, il sera supprimé, avec les données qui s'y rattachent, le {{date .date}}.\n\nPour le conserver, il suffit de vous connecter à votre espace client avant cette date.\n",
			HTML:    `<p>Bonjour,</p><p>Votre compte client n'a pas été utilisé depuis longtemps. Sans connexion de votre part, il sera supprimé, avec les données qui s'y rattachent, le <strong>{{date .date}}</strong>.</p><p>Pour le conserver, il suffit de vous connecter à votre espace client avant cette date.</p>`,
		},
		en: texts{
			Subject: "Your inactive customer account will be deleted on {{date .date}}",
			Text:    "Hello,\n\nYour customer account has not been used for a long time. Unless you sign in, it will be deleted, with the data attached to it, on {{date .date}}.\n\nTo keep it, just sign in to your customer area before that date.\n",
			HTML:    `<p>Hello,</p><p>Your customer account has not been used for a long time. Unless you sign in, it will be deleted, with the data attached to it, on <strong>{{date .date}}</strong>.</p><p>To keep it, just sign in to your customer area before that date.</p>`,
		}},
	KindMagicLink: {fields: []string{"link", "minutes"},
		fr: texts{
			Subject: "Votre lien de connexion à votre espace client",
			Text:    "Bonjour,\n\nPour vous connecter à votre espace client, ouvrez ce lien. Il est valable {{.minutes}} minutes et ne sert qu'une fois :\n\n{{.link}}\n\nSi vous n'avez pas demandé ce lien, ignorez ce message : personne ne peut se connecter sans lui.\n",
			HTML:    `<p>Bonjour,</p><p>Pour vous connecter à votre espace client, cliquez sur le bouton ci-dessous. Le lien est valable {{.minutes}} minutes et ne sert qu'une fois.</p><p><a href="{{.link}}" style="display:inline-block;padding:10px 18px;background:#1f4e79;color:#ffffff;text-decoration:none;border-radius:6px">Me connecter</a></p><p style="color:#5d6b7a">Si le bouton ne fonctionne pas, copiez cette adresse dans votre navigateur :<br>{{.link}}</p><p>Si vous n'avez pas demandé ce lien, ignorez ce message : personne ne peut se connecter sans lui.</p>`,
		},
		en: texts{
			Subject: "Your sign-in link to your customer area",
			Text:    "Hello,\n\nTo sign in to your customer area, open this link. It is valid for {{.minutes}} minutes and works once:\n\n{{.link}}\n\nIf you did not ask for this link, ignore this message: no one can sign in without it.\n",
			HTML:    `<p>Hello,</p><p>To sign in to your customer area, click the button below. The link is valid for {{.minutes}} minutes and works once.</p><p><a href="{{.link}}" style="display:inline-block;padding:10px 18px;background:#1f4e79;color:#ffffff;text-decoration:none;border-radius:6px">Sign in</a></p><p style="color:#5d6b7a">If the button does not work, copy this address into your browser:<br>{{.link}}</p><p>If you did not ask for this link, ignore this message: no one can sign in without it.</p>`,
		}},
	KindRightsReceived: {fields: []string{"reference", "right", "received", "due"},
		fr: texts{
			Subject: "Nous avons bien reçu votre demande ({{.reference}})",
			Text:    "Bonjour,\n\nNous avons bien reçu le {{date .received}} votre demande {{right .right}} (référence {{.reference}}).\n\nNous y répondrons au plus tard le {{date .due}}, gratuitement. Si la demande est complexe, ce délai peut être prolongé de deux mois au plus ; nous vous le dirions alors avant cette date, avec les raisons.\n",
			HTML:    `<p>Bonjour,</p><p>Nous avons bien reçu le {{date .received}} votre demande {{right .right}} (référence <strong>{{.reference}}</strong>).</p><p>Nous y répondrons au plus tard le <strong>{{date .due}}</strong>, gratuitement. Si la demande est complexe, ce délai peut être prolongé de deux mois au plus ; nous vous le dirions alors avant cette date, avec les raisons.</p>`,
		},
		en: texts{
			Subject: "We have received your request ({{.reference}})",
			Text:    "Hello,\n\nWe received your {{right .right}} request on {{date .received}} (reference {{.reference}}).\n\nWe will answer by {{date .due}} at the latest, free of charge. If the request is complex, this period may be extended by two months at most; we would then tell you so before that date, with the reasons.\n",
			HTML:    `<p>Hello,</p><p>We received your {{right .right}} request on {{date .received}} (reference <strong>{{.reference}}</strong>).</p><p>We will answer by <strong>{{date .due}}</strong> at the latest, free of charge. If the request is complex, this period may be extended by two months at most; we would then tell you so before that date, with the reasons.</p>`,
		}},
	KindRightsExtended: {fields: []string{"reference", "due", "reasons"},
		fr: texts{
			Subject: "Délai de réponse prolongé pour votre demande ({{.reference}})",
			Text:    "Bonjour,\n\nNous avons besoin de plus de temps pour traiter votre demande (référence {{.reference}}). Nous y répondrons au plus tard le {{date .due}}.\n\nRaisons : {{.reasons}}\n\n" + cnilFR + "\n",
			HTML:    `<p>Bonjour,</p><p>Nous avons besoin de plus de temps pour traiter votre demande (référence <strong>{{.reference}}</strong>). Nous y répondrons au plus tard le <strong>{{date .due}}</strong>.</p><p>Raisons : {{.reasons}}</p><p>` + cnilFR + `</p>`,
		},
		en: texts{
			Subject: "More time needed for your request ({{.reference}})",
			Text:    "Hello,\n\nWe need more time to handle your request (reference {{.reference}}). We will answer by {{date .due}} at the latest.\n\nReasons: {{.reasons}}\n\n" + cnilEN + "\n",
			HTML:    `<p>Hello,</p><p>We need more time to handle your request (reference <strong>{{.reference}}</strong>). We will answer by <strong>{{date .due}}</strong> at the latest.</p><p>Reasons: {{.reasons}}</p><p>` + cnilEN + `</p>`,
		}},
	KindRightsRefused: {fields: []string{"reference", "reasons"},
		fr: texts{
			Subject: "Réponse à votre demande ({{.reference}})",
			Text:    "Bonjour,\n\nNous ne pouvons pas donner suite à votre demande (référence {{.reference}}).\n\nRaisons : {{.reasons}}\n\n" + cnilFR + "\n",
			HTML:    `<p>Bonjour,</p><p>Nous ne pouvons pas donner suite à votre demande (référence <strong>{{.reference}}</strong>).</p><p>Raisons : {{.reasons}}</p><p>` + cnilFR + `</p>`,
		},
		en: texts{
			Subject: "Answer to your request ({{.reference}})",
			Text:    "Hello,\n\nWe cannot act on your request (reference {{.reference}}).\n\nReasons: {{.reasons}}\n\n" + cnilEN + "\n",
			HTML:    `<p>Hello,</p><p>We cannot act on your request (reference <strong>{{.reference}}</strong>).</p><p>Reasons: {{.reasons}}</p><p>` + cnilEN + `</p>`,
		}},
	KindRightsCompleted: {fields: []string{"reference", "right"},
		fr: texts{
			Subject: "Votre demande a été traitée ({{.reference}})",
			Text:    "Bonjour,\n\nVotre demande {{right .right}} (référence {{.reference}}) a été traitée. Vous en trouverez le résultat dans votre espace client.\n",
			HTML:    `<p>Bonjour,</p><p>Votre demande {{right .right}} (référence <strong>{{.reference}}</strong>) a été traitée. Vous en trouverez le résultat dans votre espace client.</p>`,
		},
		en: texts{
			Subject: "Your request has been handled ({{.reference}})",
			Text:    "Hello,\n\nYour {{right .right}} request (reference {{.reference}}) has been handled. You will find the result in your customer area.\n",
			HTML:    `<p>Hello,</p><p>Your {{right .right}} request (reference <strong>{{.reference}}</strong>) has been handled. You will find the result in your customer area.</p>`,
		}},
	KindRightsErased: {fields: []string{"reference", "effective"},
		fr: texts{
			Subject: "Vos données ont été effacées ({{.reference}})",
			Text:    "Bonjour,\n\nVotre demande d'effacement (référence {{.reference}}) a été exécutée : vos données personnelles ont été effacées et votre espace client a été fermé. La clé qui chiffrait vos données a été détruite ; les copies de sauvegarde, illisibles sans elle, auront toutes disparu le {{date .effective}}.\n\nNous conservons, comme la loi l'exige et sans votre identité : les pièces comptables, la trace de votre demande et de notre réponse, et, pour ne plus vous contacter, une empreinte non réversible de votre adresse e-mail et de votre numéro de téléphone.\n\nCe message est le dernier que nous vous envoyons.\n",
			HTML:    `<p>Bonjour,</p><p>Votre demande d'effacement (référence <strong>{{.reference}}</strong>) a été exécutée : vos données personnelles ont été effacées et votre espace client a été fermé. La clé qui chiffrait vos données a été détruite ; les copies de sauvegarde, illisibles sans elle, auront toutes disparu le <strong>{{date .effective}}</strong>.</p><p>Nous conservons, comme la loi l'exige et sans votre identité : les pièces comptables, la trace de votre demande et de notre réponse, et, pour ne plus vous contacter, une empreinte non réversible de votre adresse e-mail et de votre numéro de téléphone.</p><p>Ce message est le dernier que nous vous envoyons.</p>`,
		},
		en: texts{
			Subject: "Your data has been erased ({{.reference}})",
			Text:    "Hello,\n\nYour erasure request (reference {{.reference}}) has been carried out: your personal data has been erased and your customer area closed. The key that encrypted your data was destroyed; backup copies, unreadable without it, will all be gone by {{date .effective}}.\n\nAs the law requires, we keep without your identity: accounting records, the record of your request and of our answer, and, so as never to contact you again, an irreversible fingerprint of your e-mail address and telephone number.\n\nThis is the last message we send you.\n",
			HTML:    `<p>Hello,</p><p>Your erasure request (reference <strong>{{.reference}}</strong>) has been carried out: your personal data has been erased and your customer area closed. The key that encrypted your data was destroyed; backup copies, unreadable without it, will all be gone by <strong>{{date .effective}}</strong>.</p><p>As the law requires, we keep without your identity: accounting records, the record of your request and of our answer, and, so as never to contact you again, an irreversible fingerprint of your e-mail address and telephone number.</p><p>This is the last message we send you.</p>`,
		}},
	KindPointsExpiring: {fields: []string{"points", "date", "programme"},
		fr: texts{
			Subject: "{{.points}} points arrivent à expiration le {{date .date}}",
			Text:    "Bonjour,\n\n{{.points}} points de votre programme {{.programme}} expireront le {{date .date}}, comme le prévoient les conditions du programme. Utilisez-les avant cette date pour ne pas les perdre.\n",
			HTML:    `<p>Bonjour,</p><p><strong>{{.points}} points</strong> de votre programme {{.programme}} expireront le <strong>{{date .date}}</strong>, comme le prévoient les conditions du programme. Utilisez-les avant cette date pour ne pas les perdre.</p>`,
		},
		en: texts{
			Subject: "{{.points}} points expire on {{date .date}}",
			Text:    "Hello,\n\n{{.points}} points of your {{.programme}} programme will expire on {{date .date}}, as the programme terms provide. Use them before that date so as not to lose them.\n",
			HTML:    `<p>Hello,</p><p><strong>{{.points}} points</strong> of your {{.programme}} programme will expire on <strong>{{date .date}}</strong>, as the programme terms provide. Use them before that date so as not to lose them.</p>`,
		}},
}

// footer closes every message: who sends it (M-3) and where the privacy notice is.
var footer = map[string]texts{
	"fr": {Text: "\n-- \n{{.sender}}{{if .privacy}}\nPolitique de confidentialité : {{.privacy}}{{end}}\nCe message vous est envoyé automatiquement ; merci de ne pas y répondre directement.\n",
		HTML: `<hr style="border:0;border-top:1px solid #d9e0e8;margin:24px 0 12px"><p style="color:#5d6b7a;font-size:13px">{{.sender}}{{if .privacy}}<br><a href="{{.privacy}}">Politique de confidentialité</a>{{end}}<br>Ce message vous est envoyé automatiquement ; merci de ne pas y répondre directement.</p>`},
	"en": {Text: "\n-- \n{{.sender}}{{if .privacy}}\nPrivacy notice: {{.privacy}}{{end}}\nThis message is sent automatically; please do not reply to it directly.\n",
		HTML: `<hr style="border:0;border-top:1px solid #d9e0e8;margin:24px 0 12px"><p style="color:#5d6b7a;font-size:13px">{{.sender}}{{if .privacy}}<br><a href="{{.privacy}}">Privacy notice</a>{{end}}<br>This message is sent automatically; please do not reply to it directly.</p>`},
}

// rightNames names each right after "demande" (with its French preposition) and before
// "request".
var rightNames = map[string][2]string{
	"access":        {"d'accès", "access"},
	"rectification": {"de rectification", "rectification"},
	"erasure":       {"d'effacement", "erasure"},
	"restriction":   {"de limitation", "restriction"},
	"objection":     {"d'opposition", "objection"},
	"portability":   {"de portabilité", "portability"},
}

var monthsFR = []string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}

// funcs are the template functions for lang: dates in the customer's language, rights by
// name.
func funcs(lang string) map[string]any {
	return map[string]any{
		"date": func(v any) (string, error) {
			t, ok := v.(time.Time)
			if !ok {
				return "", errNotTime
			}
			t = t.UTC()
			if lang == "en" {
				return t.Format("2 January 2006"), nil
			}
			day := t.Format("2")
			if t.Day() == 1 {
				day = "1er"
			}
			return day + " " + monthsFR[t.Month()-1] + " " + t.Format("2006"), nil
		},
		"right": func(v any) (string, error) {
			s, _ := v.(string)
			n, ok := rightNames[s]
			if !ok {
				return "", errUnknownRight
			}
			if lang == "en" {
				return n[1], nil
			}
			return n[0], nil
		},
	}
}

// parsed holds the compiled templates of one kind and language.
type parsed struct {
	subject, text *texttemplate.Template
	html          *htmltemplate.Template
}

// compile parses every template; it fails only on a bug in the constants above, which the
// package tests catch.
func compile() map[Kind]map[string]parsed {
	out := map[Kind]map[string]parsed{}
	for kind, e := range catalogue {
		out[kind] = map[string]parsed{}
		for lang, t := range map[string]texts{"fr": e.fr, "en": e.en} {
			f := footer[lang]
			out[kind][lang] = parsed{
				subject: texttemplate.Must(texttemplate.New("subject").Funcs(funcs(lang)).Option("missingkey=error").Parse(t.Subject)),
				text:    texttemplate.Must(texttemplate.New("text").Funcs(funcs(lang)).Option("missingkey=error").Parse(t.Text + f.Text)),
				html: htmltemplate.Must(htmltemplate.New("html").Funcs(funcs(lang)).Option("missingkey=error").Parse(
					`<!doctype html><html lang="` + lang + `"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"></head>` +
						`<body style="font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.5;color:#1b1f24;max-width:600px;margin:0 auto;padding:16px">` +
						t.HTML + f.HTML + `</body></html>`)),
			}
		}
	}
	return out
}

// oneLine folds a rendered subject to one line (a header cannot hold line breaks).
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

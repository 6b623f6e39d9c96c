package fidelis

// Text is a short text a person reads, in French and English: every text Fidelis shows to
// staff or customers exists in both.
type Text struct {
	FR string `json:"fr"`
	EN string `json:"en"`
}

// In returns the text in lang ("fr", or English otherwise).
func (t Text) In(lang string) string {
	if lang == "fr" {
		return t.FR
	}
	return t.EN
}

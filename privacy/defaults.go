package privacy

import "github.com/fidelis/fidelis"

// DefaultPurposes returns the purposes a new installation starts with. Each has one lawful
// basis (P-3) and the fewest fields it needs (D-1); retention texts follow the CNIL
// référentiel 2021-131 defaults (T-1..T-6).
func DefaultPurposes() []Purpose {
	all := fidelis.CustomerFields()
	A := func(a ...fidelis.Action) []fidelis.Action { return a }
	F := func(f ...fidelis.Field) []fidelis.Field { return f }
	const (
		read, create, update = fidelis.ActionRead, fidelis.ActionCreate, fidelis.ActionUpdate
		erase, export, acc   = fidelis.ActionErase, fidelis.ActionExport, fidelis.ActionAccessLog
	)
	return []Purpose{
		{
			Name: fidelis.PurposeCustomerService, LawfulBasis: fidelis.BasisContract,
			Fields: all, Actions: A(read, create, update),
			Description: Text{FR: "Gestion de la relation client et du service client", EN: "Customer relationship management and customer service"},
			Retention:   Text{FR: "Durée de la relation commerciale puis 3 ans", EN: "Duration of the commercial relationship, then 3 years"},
		},
		{
			Name: fidelis.PurposeSales, LawfulBasis: fidelis.BasisLegitimateInterest,
			Fields:      F(fidelis.FieldGivenName, fidelis.FieldFamilyName, fidelis.FieldEmail, fidelis.FieldPhone, fidelis.FieldCity, fidelis.FieldCountry, fidelis.FieldLocale, fidelis.FieldAttributes),
			Actions:     A(read, create, update),
			Description: Text{FR: "Prospection et suivi commercial", EN: "Prospecting and sales follow-up"},
			Retention:   Text{FR: "3 ans à compter de la collecte ou du dernier contact du prospect", EN: "3 years from collection or from the prospect's last contact"},
		},
		{
			Name: fidelis.PurposeLoyalty, LawfulBasis: fidelis.BasisContract,
			Fields:      F(fidelis.FieldGivenName, fidelis.FieldFamilyName, fidelis.FieldEmail, fidelis.FieldPhone, fidelis.FieldBirthDate, fidelis.FieldPostalCode, fidelis.FieldCity, fidelis.FieldCountry, fidelis.FieldLocale),
			Actions:     A(read, create, update),
			Description: Text{FR: "Gestion du programme de fidélité", EN: "Running the loyalty programme"},
			Retention:   Text{FR: "Durée de l'adhésion puis 3 ans d'inactivité", EN: "Membership, then 3 years of member inactivity"},
		},
		{
			Name: fidelis.PurposeMarketingEmail, LawfulBasis: fidelis.BasisConsent,
			Fields:          F(fidelis.FieldGivenName, fidelis.FieldFamilyName, fidelis.FieldEmail, fidelis.FieldLocale),
			Actions:         A(read),
			Description:     Text{FR: "Prospection commerciale par courriel", EN: "Direct marketing by e-mail"},
			DirectMarketing: true, ConsentChannels: []Channel{ChannelEmail},
			Retention: Text{FR: "3 ans après la fin de la relation commerciale", EN: "3 years after the end of the commercial relationship"},
		},
		{
			Name: fidelis.PurposeMarketingSMS, LawfulBasis: fidelis.BasisConsent,
			Fields:          F(fidelis.FieldGivenName, fidelis.FieldPhone, fidelis.FieldLocale),
			Actions:         A(read),
			Description:     Text{FR: "Prospection commerciale par SMS", EN: "Direct marketing by SMS"},
			DirectMarketing: true, ConsentChannels: []Channel{ChannelSMS},
			Retention: Text{FR: "3 ans après la fin de la relation commerciale", EN: "3 years after the end of the commercial relationship"},
		},
		{
			Name: fidelis.PurposeAnalytics, LawfulBasis: fidelis.BasisLegitimateInterest,
			Fields:      F(fidelis.FieldBirthDate, fidelis.FieldPostalCode, fidelis.FieldCity, fidelis.FieldCountry, fidelis.FieldLocale),
			Actions:     A(read),
			Description: Text{FR: "Analyses commerciales et statistiques", EN: "Sales analysis and statistics"},
			Retention:   Text{FR: "3 ans, puis statistiques anonymisées uniquement", EN: "3 years, then anonymised statistics only"},
		},
		{
			Name: fidelis.PurposeAccounting, LawfulBasis: fidelis.BasisLegalObligation,
			Fields:      F(fidelis.FieldGivenName, fidelis.FieldFamilyName, fidelis.FieldStreet, fidelis.FieldPostalCode, fidelis.FieldCity, fidelis.FieldCountry),
			Actions:     A(read),
			Description: Text{FR: "Obligations comptables et fiscales", EN: "Accounting and tax obligations"},
			Retention:   Text{FR: "10 ans (pièces comptables), pseudonymisées après effacement", EN: "10 years (accounting records), pseudonymised after erasure"},
		},
		{
			Name: fidelis.PurposeLegalClaims, LawfulBasis: fidelis.BasisLegitimateInterest,
			Fields: all, Actions: A(read, export),
			Description: Text{FR: "Constatation, exercice ou défense de droits en justice", EN: "Establishment, exercise or defence of legal claims"},
			Retention:   Text{FR: "Durée de la prescription applicable", EN: "The applicable limitation period"},
		},
		{
			Name: fidelis.PurposeDataProtection, LawfulBasis: fidelis.BasisLegalObligation,
			Fields: all, Actions: A(read, update, export, erase, acc),
			Description: Text{FR: "Traitement des demandes d'exercice des droits (RGPD art. 12 à 22)", EN: "Handling data subject requests (GDPR art. 12-22)"},
			Retention:   Text{FR: "Durée de la demande puis 5 ans comme preuve", EN: "Duration of the request, then 5 years as evidence"},
		},
		{
			Name: fidelis.PurposeAudit, LawfulBasis: fidelis.BasisLegalObligation,
			Fields: nil, Actions: A(acc),
			Description: Text{FR: "Responsabilité : journal des accès (RGPD art. 5(2))", EN: "Accountability: access log (GDPR art. 5(2))"},
			Retention:   Text{FR: "6 ans", EN: "6 years"},
		},
	}
}

// DefaultGrants returns the roles a new installation starts with, each with the least
// purposes and actions its job needs (D-1).
func DefaultGrants() []RoleGrant {
	const (
		read, create, update = fidelis.ActionRead, fidelis.ActionCreate, fidelis.ActionUpdate
		erase, export, acc   = fidelis.ActionErase, fidelis.ActionExport, fidelis.ActionAccessLog
	)
	P := func(p ...fidelis.Purpose) []fidelis.Purpose { return p }
	A := func(a ...fidelis.Action) []fidelis.Action { return a }
	return []RoleGrant{
		{Role: fidelis.RoleAdmin,
			Purposes: P(fidelis.PurposeCustomerService, fidelis.PurposeDataProtection, fidelis.PurposeAudit),
			Actions:  A(read, create, update, erase, export, acc, fidelis.ActionManageTokens, fidelis.ActionManageUsers, fidelis.ActionVerifyAudit, fidelis.ActionManagePrivacy, fidelis.ActionReadRegister, fidelis.ActionManageRecipients, fidelis.ActionManageLoyalty)},
		{Role: fidelis.RoleDPO,
			Purposes: P(fidelis.PurposeDataProtection, fidelis.PurposeLegalClaims, fidelis.PurposeAudit, fidelis.PurposeCustomerService),
			Actions:  A(read, update, export, erase, acc, fidelis.ActionVerifyAudit, fidelis.ActionManagePrivacy, fidelis.ActionReadRegister, fidelis.ActionManageRecipients)},
		{Role: fidelis.RoleSales, Purposes: P(fidelis.PurposeSales, fidelis.PurposeCustomerService), Actions: A(read, create, update)},
		{Role: fidelis.RoleMarketing, Purposes: P(fidelis.PurposeMarketingEmail, fidelis.PurposeMarketingSMS, fidelis.PurposeAnalytics), Actions: A(read)},
		{Role: fidelis.RoleSupport, Purposes: P(fidelis.PurposeCustomerService), Actions: A(read, create, update)},
		{Role: fidelis.RoleLoyaltyManager, Purposes: P(fidelis.PurposeLoyalty, fidelis.PurposeCustomerService), Actions: A(read, create, update, fidelis.ActionManageLoyalty)},
		{Role: fidelis.RoleAuditor, Purposes: P(fidelis.PurposeAudit), Actions: A(acc, fidelis.ActionVerifyAudit, fidelis.ActionReadRegister)},
		// The customer in the portal: their own record and requests (data_protection: access,
		// consents, rights requests, exports) and their loyalty account (loyalty).
		{Role: fidelis.RoleSubject, Purposes: P(fidelis.PurposeDataProtection, fidelis.PurposeLoyalty), Actions: A(read, update, export)},
	}
}

// DefaultRegistry returns the registry built from the defaults.
func DefaultRegistry() *Registry {
	r, err := NewRegistry(DefaultPurposes(), DefaultGrants())
	if err != nil {
		panic(err) // the defaults are constants; a failure is a bug caught by tests
	}
	return r
}

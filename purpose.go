package fidelis

// Purpose names why personal data is processed (GDPR art. 5(1)(b)). Every operation on
// personal data runs under exactly one (P-1).
type Purpose string

// Default purposes seeded in the registry.
const (
	PurposeCustomerService Purpose = "customer_service"
	PurposeSales           Purpose = "sales"
	PurposeLoyalty         Purpose = "loyalty"
	PurposeMarketingEmail  Purpose = "marketing_email"
	PurposeMarketingSMS    Purpose = "marketing_sms"
	PurposeAnalytics       Purpose = "analytics"
	PurposeAccounting      Purpose = "accounting"
	PurposeLegalClaims     Purpose = "legal_claims"
	PurposeDataProtection  Purpose = "data_protection"
	PurposeAudit           Purpose = "audit"
)

// LawfulBasis is the ground of GDPR art. 6(1) a purpose rests on. A purpose has exactly one
// (P-3).
type LawfulBasis string

// Lawful bases.
const (
	BasisConsent            LawfulBasis = "consent"
	BasisContract           LawfulBasis = "contract"
	BasisLegalObligation    LawfulBasis = "legal_obligation"
	BasisLegitimateInterest LawfulBasis = "legitimate_interest"
)

// Valid reports whether b is one of the four bases Fidelis supports.
func (b LawfulBasis) Valid() bool {
	switch b {
	case BasisConsent, BasisContract, BasisLegalObligation, BasisLegitimateInterest:
		return true
	}
	return false
}

// Role is a staff or system role; roles are granted purposes and actions.
type Role string

// Default roles.
const (
	RoleAdmin          Role = "admin"
	RoleDPO            Role = "dpo"
	RoleSales          Role = "sales"
	RoleMarketing      Role = "marketing"
	RoleSupport        Role = "support"
	RoleLoyaltyManager Role = "loyalty_manager"
	RoleAuditor        Role = "auditor"
	// RoleSubject is the data subject acting on their own data through the customer portal.
	// It is never a staff role: the portal binds it to one customer (the actor's ID), and
	// users and API tokens cannot be given it.
	RoleSubject Role = "subject"
)

// Action is an operation an actor performs. Actions on personal data need a purpose;
// administrative actions need only the role.
type Action string

// Actions on personal data.
const (
	ActionRead      Action = "read"
	ActionCreate    Action = "create"
	ActionUpdate    Action = "update"
	ActionErase     Action = "erase"
	ActionExport    Action = "export"
	ActionAccessLog Action = "access_log"
)

// Administrative actions (no personal data, no purpose).
const (
	ActionManageTokens  Action = "manage_tokens"
	ActionManageUsers   Action = "manage_users"
	ActionVerifyAudit   Action = "verify_audit"
	ActionManagePrivacy Action = "manage_privacy" // publish consent notices, overrule objections
	ActionReadRegister  Action = "read_register"  // the register of processing (P-4, D-2)
	// ActionManageRecipients covers the recipients and processors registry and its
	// webhooks (D-4, R-9).
	ActionManageRecipients Action = "manage_recipients"
	// ActionManageLoyalty covers loyalty programmes, terms, rules and ledger reports: no
	// personal data, so no purpose.
	ActionManageLoyalty Action = "manage_loyalty"
)

// Field names a personal-data field of a customer. Field names, never values, appear in
// audit entries and events.
type Field string

// Customer fields.
const (
	FieldGivenName  Field = "given_name"
	FieldFamilyName Field = "family_name"
	FieldEmail      Field = "email"
	FieldPhone      Field = "phone"
	FieldBirthDate  Field = "birth_date"
	FieldStreet     Field = "street"
	FieldPostalCode Field = "postal_code"
	FieldCity       Field = "city"
	FieldCountry    Field = "country"
	FieldLocale     Field = "locale"
	FieldAttributes Field = "attributes"
)

// CustomerFields returns every personal field of a customer, in display order.
func CustomerFields() []Field {
	return []Field{
		FieldGivenName, FieldFamilyName, FieldEmail, FieldPhone, FieldBirthDate,
		FieldStreet, FieldPostalCode, FieldCity, FieldCountry, FieldLocale, FieldAttributes,
	}
}

package main

import (
	"github.com/spf13/cobra"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/register"
)

// controllerFlags declares the controller's and DPO's identity (D-2, R-5), each also read
// from a FIDELIS_* variable. Unset values are shown as "not configured" in the documents.
func controllerFlags(root *cobra.Command, c *register.Controller) {
	fs := root.PersistentFlags()
	fs.StringVar(&c.Name, "controller-name", env("FIDELIS_CONTROLLER_NAME", ""), "legal name of the data controller, shown in the register and the privacy notice (env FIDELIS_CONTROLLER_NAME)")
	fs.StringVar(&c.Address, "controller-address", env("FIDELIS_CONTROLLER_ADDRESS", ""), "postal address of the controller (env FIDELIS_CONTROLLER_ADDRESS)")
	fs.StringVar(&c.Email, "controller-email", env("FIDELIS_CONTROLLER_EMAIL", ""), "contact e-mail address for data protection matters (env FIDELIS_CONTROLLER_EMAIL)")
	fs.StringVar(&c.DPOName, "dpo-name", env("FIDELIS_DPO_NAME", ""), "name of the data protection officer (env FIDELIS_DPO_NAME)")
	fs.StringVar(&c.DPOContact, "dpo-contact", env("FIDELIS_DPO_CONTACT", ""), "the DPO's e-mail address or https:// contact page (env FIDELIS_DPO_CONTACT)")
}

func registerCmd(o *options) *cobra.Command {
	var format, lang string
	var notice bool
	c := &cobra.Command{
		Use:   "register",
		Short: "Print the register of processing (GDPR art. 30) or, with --notice, the privacy notice",
		Long: "register prints, generated from the purpose registry, the configured controller and DPO\n" +
			"(--controller-*, --dpo-*) and the recipients, the record of processing activities\n" +
			"(GDPR art. 30) or, with --notice, the privacy notice (art. 13/14). The output is\n" +
			"deterministic: store it and diff it to version the documents; it ends with the\n" +
			"purpose registry version and the content hash.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, ferr := register.ParseFormat(format, register.OutMarkdown)
			l, lerr := register.ParseLang(lang)
			if ferr != nil || lerr != nil {
				var fields []fidelis.FieldError
				for _, err := range []error{ferr, lerr} {
					if e := fidelis.AsError(err); e != nil {
						fields = append(fields, e.Fields...)
					}
				}
				return fidelis.Invalid(fields...)
			}
			a, err := open(cmd, o)
			if err != nil {
				return err
			}
			defer a.Close()
			var doc register.Document
			if notice {
				doc, err = a.Register.Notice(cmd.Context(), l)
			} else {
				doc, err = a.Register.Register(app.SystemContext(cmd.Context(), "cli", fidelis.RoleAdmin), l)
			}
			if err != nil {
				return err
			}
			b, err := register.Render(doc, f)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
	c.Flags().StringVar(&format, "format", "md", "output format: md, html or json")
	c.Flags().StringVar(&lang, "lang", "fr", "language: fr or en")
	c.Flags().BoolVar(&notice, "notice", false, "print the privacy notice instead of the register")
	return c
}

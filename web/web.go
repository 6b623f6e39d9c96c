// Package web serves the staff back-office: server-rendered pages embedded in the binary.
package web

import (
	"net/http"

	"github.com/fidelis/fidelis/app"
)

// Mount adds the back-office routes to mux.
func Mount(a *app.App, mux *http.ServeMux) {}

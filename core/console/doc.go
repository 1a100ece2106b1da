// Package console is the operator web console's core: the pages
// (html/template, embedded, no build step), their stylesheet and small
// optional script, and operator login — admin tokens with a name and a role
// exchanged for a server-side session with a CSRF token. The HTTP handlers
// live in core/httpapi beside the admin API and call the same services;
// this package owns no business logic.
package console

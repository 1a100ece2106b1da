// Package audit keeps the operators' audit log: who (the operator's token
// name and role) did what (an action name such as delivery.resend) to which
// target, when, through which door (the console or the admin API), and how
// it ended. Every entry is stored durably and written to the structured log
// as well, so it reaches log shippers too. Entries never hold secrets: the
// callers pass identifiers and outcomes, never tokens, keys or payloads.
package audit

// Package merchants manages tenants: merchants, their approved site domains
// and their API keys, and authenticates merchant API requests. The CLI, the
// admin API and the merchant API all go through this one service, so a rule
// (domain syntax, key format, revocation) is enforced the same way everywhere.
package merchants

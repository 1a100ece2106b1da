// Package checkout renders the hosted checkout pages that shoppers see: the
// payment method choice, the hand-off to a provider and the status pages
// (confirming, paid, failed, expired, canceled, not found).
//
// Pages are server-rendered with html/template and need no JavaScript, so
// they work under the strict Content-Security-Policy the HTTP layer sets
// (no inline script or style at all). The stylesheet is embedded in the
// binary and served under a content-hashed name, which lets browsers cache
// it for a year without ever seeing a stale copy after an upgrade.
//
// The package knows nothing about sessions, stores or HTTP routing: a
// handler fills a Page and calls Renderer.Render. That keeps every wording
// and markup decision here, testable without a server.
package checkout

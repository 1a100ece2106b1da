// Package whmprovisioner is Switchyard's cPanel/WHM provisioner: hosting
// accounts over WHM API 1 (json-api, api.version=1) on HTTPS port 2087,
// authenticated with a WHM API token (Authorization: whm USER:TOKEN).
//
// It creates accounts idempotently (a retry after a lost answer adopts the
// account its first attempt made), suspends with a reason, unsuspends,
// removes, changes package and password, lists packages exactly as WHM
// names them, and makes one-time cPanel login links (create_user_session).
// WHM's metadata.result/metadata.reason become categorized SDK errors;
// questions like "does this account exist" are answered with
// accountsummary and listpkgs rather than by parsing WHM's wording.
//
// TLS is verified against the system roots; a self-signed panel is
// accepted only by pinning its certificate's SHA-256 fingerprint. There is
// no switch that turns verification off.
package whmprovisioner

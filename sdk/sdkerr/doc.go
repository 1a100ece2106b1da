// Package sdkerr defines the typed error every Switchyard plugin returns and
// the categories that survive the gRPC boundary in both directions.
//
// Plugin authors normally use the re-exports in package sdk (sdk.Invalid,
// sdk.Declined, sdk.CategoryOf …). This package exists separately so that the
// kind packages (provider, provisioner …) can return categorized errors
// without importing package sdk, which itself imports them.
package sdkerr

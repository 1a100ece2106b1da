// Package provisioner is the contract between Switchyard and a hosting
// control panel plugin (cPanel/WHM and the like): the Provisioner interface
// and the plain Go types it exchanges. Fulfillment calls it after a session
// is paid to create, suspend, or change a hosting account.
//
// Every mutating call is keyed by Username and must be safe to repeat: the
// host retries after timeouts, so creating an account that already exists
// with the same domain, or suspending a suspended account, succeeds.
package provisioner

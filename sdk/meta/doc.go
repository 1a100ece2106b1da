// Package meta holds the metadata every plugin kind reports to the host:
// who it is (Info), how it is doing (Health) and what a connection test found
// (TestResult). The kind packages build on it.
package meta

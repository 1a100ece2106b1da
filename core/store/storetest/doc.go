// Package storetest runs store-backed tests against every database
// Switchyard supports: a fresh SQLite file always, and PostgreSQL when
// SWITCHYARD_TEST_POSTGRES_DSN is set, each test in its own throwaway schema
// so parallel test binaries sharing one server never see each other's rows.
//
// With SWITCHYARD_REQUIRE_POSTGRES=1 a missing or unreachable PostgreSQL
// fails the test instead of skipping it, so CI cannot go green on SQLite
// alone. A DSN that is set but unreachable always fails: someone asked for
// PostgreSQL and did not get it.
package storetest

// Package routing ranks the provider instances that may take a payment.
//
// A Router is built once from config.RoutingConfig: rules are indexed by
// method, then by merchant and plan, and every currency, country and amount
// bound is parsed at construction, so Route does no parsing and its cost does
// not grow with the number of rules for other methods, merchants or plans.
//
// Precedence: rules naming the merchant, then rules naming the plan, then
// catch-all rules; within a tier, config order. A rule applies when at least
// one of its providers passes its conditions (currency, country, amount);
// the first applying rule alone decides the candidates, so a merchant-
// specific rule is never silently widened by a catch-all. Within that rule,
// providers are ordered by priority and, among equal priority, by a weighted
// random draw (volume split). Unhealthy providers (plugin down according to
// the HealthChecker, or an open circuit breaker) are then skipped.
package routing

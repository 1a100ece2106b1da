// Package awsfake is a local stand-in for the two AWS services the route53
// plugin calls, for tests: Route 53 Domains (JSON 1.1 over POST /, the
// operation in X-Amz-Target: Route53Domains_v20140515.<Operation>) and
// Route 53 (REST-XML under /2013-04-01/). It is stateful — domains,
// asynchronous operations that move SUBMITTED → IN_PROGRESS → SUCCESSFUL or
// FAILED as they are polled, hosted zones whose record sets change
// atomically per batch, changes that go PENDING → INSYNC — and answers
// errors in each protocol's documented shape (JSON __type/message;
// ErrorResponse and InvalidChangeBatch XML).
//
// Every request must carry a valid AWS Signature Version 4 for a key the
// fake knows: the Authorization header's credential scope must name the
// key id, us-east-1 and the right service, and the signature is recomputed
// with the key's secret. Anything else is refused the way AWS refuses it,
// so the real aws-sdk-go-v2 clients are exercised end to end.
//
// Real AWS cannot run here; behaviour that is not documented precisely
// (the exact text of some messages) follows what AWS is known to return.
package awsfake

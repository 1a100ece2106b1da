-- The PostgreSQL statement of one session create, as Switchyard sends it
-- (core/store insertSessionQuerySQL: the session, its first event, and
-- whether the merchant has a live URL webhook endpoint, in one statement),
-- in one transaction: pgbench -M prepared measures what the database alone
-- can do with it. Under load serve sends a group's statements together
-- (create_group.sql). :merchant is the bench merchant's id.
\set n random(1, 9000000000000000)
BEGIN;
WITH s AS (INSERT INTO sessions (id, merchant_id, mode, status, domain, order_id, amount, currency,
	method, return_url, cancel_url, ipn_url, customer_email, metadata, amount_refunded, dispute, event_seq,
	expires_at, paid_at, canceled_at, created_at, updated_at)
SELECT 'cs_pgb' || :n, :merchant::bigint, 'test', 'open', 'shop.test', 'PGB-' || :n, 4995::bigint, 'USD', NULL::text, ''::text, ''::text, ''::text,
	'buyer@example.com', '{}'::text, 0::bigint, ''::text, 1::bigint, now() + interval '1 day', NULL::timestamptz, NULL::timestamptz, now(), now()
WHERE NOT EXISTS (SELECT 1 FROM sessions WHERE merchant_id = :merchant AND mode = 'test' AND order_id = 'PGB-' || :n
	AND status IN ('open', 'processing', 'requires_review', 'paid', 'partially_refunded', 'refunded', 'disputed'))
ON CONFLICT DO NOTHING
RETURNING id),
e AS (INSERT INTO events (id, merchant_id, mode, session_id, type, seq, data, created_at)
SELECT 'evt_pgb' || :n, :merchant::bigint, 'test', s.id, 'session.created', 1::bigint, '{"object":"session"}'::text, now() FROM s RETURNING 1)
SELECT (SELECT count(*) FROM e), EXISTS (SELECT 1 FROM webhook_endpoints
	WHERE merchant_id = :merchant AND kind = 'url' AND deleted_at IS NULL);
COMMIT;

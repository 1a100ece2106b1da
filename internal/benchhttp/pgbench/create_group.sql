-- What serve sends for a group of 8 concurrent creates on PostgreSQL
-- (core/store group commit): BEGIN, the 8 creates' statements (create.sql)
-- in one pipelined round trip, COMMIT. Run over 4 clients, the 4 group
-- lanes. :merchant is the bench merchant's id.
\set n1 random(1, 9000000000000000)
\set n2 random(1, 9000000000000000)
\set n3 random(1, 9000000000000000)
\set n4 random(1, 9000000000000000)
\set n5 random(1, 9000000000000000)
\set n6 random(1, 9000000000000000)
\set n7 random(1, 9000000000000000)
\set n8 random(1, 9000000000000000)
BEGIN;
\startpipeline
WITH s AS (INSERT INTO sessions (id, merchant_id, mode, status, domain, order_id, amount, currency,
	method, return_url, cancel_url, ipn_url, customer_email, metadata, amount_refunded, dispute, event_seq,
	expires_at, paid_at, canceled_at, created_at, updated_at)
SELECT 'cs_pgb' || :n1, :merchant::bigint, 'test', 'open', 'shop.test', 'PGB-' || :n1, 4995::bigint, 'USD', NULL::text, ''::text, ''::text, ''::text,
	'buyer@example.com', '{}'::text, 0::bigint, ''::text, 1::bigint, now() + interval '1 day', NULL::timestamptz, NULL::timestamptz, now(), now()
WHERE NOT EXISTS (SELECT 1 FROM sessions WHERE merchant_id = :merchant AND mode = 'test' AND order_id = 'PGB-' || :n1
	AND status IN ('open', 'processing', 'requires_review', 'paid', 'partially_refunded', 'refunded', 'disputed'))
ON CONFLICT DO NOTHING
RETURNING id),
e AS (INSERT INTO events (id, merchant_id, mode, session_id, type, seq, data, created_at)
SELECT 'evt_pgb' || :n1, :merchant::bigint, 'test', s.id, 'session.created', 1::bigint, '{"object":"session"}'::text, now() FROM s RETURNING 1)
SELECT (SELECT count(*) FROM e), EXISTS (SELECT 1 FROM webhook_endpoints
	WHERE merchant_id = :merchant AND kind = 'url' AND deleted_at IS NULL);
WITH s AS (INSERT INTO sessions (id, merchant_id, mode, status, domain, order_id, amount, currency,
	method, return_url, cancel_url, ipn_url, customer_email, metadata, amount_refunded, dispute, event_seq,
	expires_at, paid_at, canceled_at, created_at, updated_at)
SELECT 'cs_pgb' || :n2, :merchant::bigint, 'test', 'open', 'shop.test', 'PGB-' || :n2, 4995::bigint, 'USD', NULL::text, ''::text, ''::text, ''::text,
	'buyer@example.com', '{}'::text, 0::bigint, ''::text, 1::bigint, now() + interval '1 day', NULL::timestamptz, NULL::timestamptz, now(), now()
WHERE NOT EXISTS (SELECT 1 FROM sessions WHERE merchant_id = :merchant AND mode = 'test' AND order_id = 'PGB-' || :n2
	AND status IN ('open', 'processing', 'requires_review', 'paid', 'partially_refunded', 'refunded', 'disputed'))
ON CONFLICT DO NOTHING
RETURNING id),
e AS (INSERT INTO events (id, merchant_id, mode, session_id, type, seq, data, created_at)
SELECT 'evt_pgb' || :n2, :merchant::bigint, 'test', s.id, 'session.created', 1::bigint, '{"object":"session"}'::text, now() FROM s RETURNING 1)
SELECT (SELECT count(*) FROM e), EXISTS (SELECT 1 FROM webhook_endpoints
	WHERE merchant_id = :merchant AND kind = 'url' AND deleted_at IS NULL);
WITH s AS (INSERT INTO sessions (id, merchant_id, mode, status, domain, order_id, amount, currency,
	method, return_url, cancel_url, ipn_url, customer_email, metadata, amount_refunded, dispute, event_seq,
	expires_at, paid_at, canceled_at, created_at, updated_at)
SELECT 'cs_pgb' || :n3, :merchant::bigint, 'test', 'open', 'shop.test', 'PGB-' || :n3, 4995::bigint, 'USD', NULL::text, ''::text, ''::text, ''::text,
	'buyer@example.com', '{}'::text, 0::bigint, ''::text, 1::bigint, now() + interval '1 day', NULL::timestamptz, NULL::timestamptz, now(), now()
WHERE NOT EXISTS (SELECT 1 FROM sessions WHERE merchant_id = :merchant AND mode = 'test' AND order_id = 'PGB-' || :n3
	AND status IN ('open', 'processing', 'requires_review', 'paid', 'partially_refunded', 'refunded', 'disputed'))
ON CONFLICT DO NOTHING
RETURNING id),
e AS (INSERT INTO events (id, merchant_id, mode, session_id, type, seq, data, created_at)
SELECT 'evt_pgb' || :n3, :merchant::bigint, 'test', s.id, 'session.created', 1::bigint, '{"object":"session"}'::text, now() FROM s RETURNING 1)
SELECT (SELECT count(*) FROM e), EXISTS (SELECT 1 FROM webhook_endpoints
	WHERE merchant_id = :merchant AND kind = 'url' AND deleted_at IS NULL);
WITH s AS (INSERT INTO sessions (id, merchant_id, mode, status, domain, order_id, amount, currency,
	method, return_url, cancel_url, ipn_url, customer_email, metadata, amount_refunded, dispute, event_seq,
	expires_at, paid_at, canceled_at, created_at, updated_at)
SELECT 'cs_pgb' || :n4, :merchant::bigint, 'test', 'open', 'shop.test', 'PGB-' || :n4, 4995::bigint, 'USD', NULL::text, ''::text, ''::text, ''::text,
	'buyer@example.com', '{}'::text, 0::bigint, ''::text, 1::bigint, now() + interval '1 day', NULL::timestamptz, NULL::timestamptz, now(), now()
WHERE NOT EXISTS (SELECT 1 FROM sessions WHERE merchant_id = :merchant AND mode = 'test' AND order_id = 'PGB-' || :n4
	AND status IN ('open', 'processing', 'requires_review', 'paid', 'partially_refunded', 'refunded', 'disputed'))
ON CONFLICT DO NOTHING
RETURNING id),
e AS (INSERT INTO events (id, merchant_id, mode, session_id, type, seq, data, created_at)
SELECT 'evt_pgb' || :n4, :merchant::bigint, 'test', s.id, 'session.created', 1::bigint, '{"object":"session"}'::text, now() FROM s RETURNING 1)
SELECT (SELECT count(*) FROM e), EXISTS (SELECT 1 FROM webhook_endpoints
	WHERE merchant_id = :merchant AND kind = 'url' AND deleted_at IS NULL);
WITH s AS (INSERT INTO sessions (id, merchant_id, mode, status, domain, order_id, amount, currency,
	method, return_url, cancel_url, ipn_url, customer_email, metadata, amount_refunded, dispute, event_seq,
	expires_at, paid_at, canceled_at, created_at, updated_at)
SELECT 'cs_pgb' || :n5, :merchant::bigint, 'test', 'open', 'shop.test', 'PGB-' || :n5, 4995::bigint, 'USD', NULL::text, ''::text, ''::text, ''::text,
	'buyer@example.com', '{}'::text, 0::bigint, ''::text, 1::bigint, now() + interval '1 day', NULL::timestamptz, NULL::timestamptz, now(), now()
WHERE NOT EXISTS (SELECT 1 FROM sessions WHERE merchant_id = :merchant AND mode = 'test' AND order_id = 'PGB-' || :n5
	AND status IN ('open', 'processing', 'requires_review', 'paid', 'partially_refunded', 'refunded', 'disputed'))
ON CONFLICT DO NOTHING
RETURNING id),
e AS (INSERT INTO events (id, merchant_id, mode, session_id, type, seq, data, created_at)
SELECT 'evt_pgb' || :n5, :merchant::bigint, 'test', s.id, 'session.created', 1::bigint, '{"object":"session"}'::text, now() FROM s RETURNING 1)
SELECT (SELECT count(*) FROM e), EXISTS (SELECT 1 FROM webhook_endpoints
	WHERE merchant_id = :merchant AND kind = 'url' AND deleted_at IS NULL);
WITH s AS (INSERT INTO sessions (id, merchant_id, mode, status, domain, order_id, amount, currency,
	method, return_url, cancel_url, ipn_url, customer_email, metadata, amount_refunded, dispute, event_seq,
	expires_at, paid_at, canceled_at, created_at, updated_at)
SELECT 'cs_pgb' || :n6, :merchant::bigint, 'test', 'open', 'shop.test', 'PGB-' || :n6, 4995::bigint, 'USD', NULL::text, ''::text, ''::text, ''::text,
	'buyer@example.com', '{}'::text, 0::bigint, ''::text, 1::bigint, now() + interval '1 day', NULL::timestamptz, NULL::timestamptz, now(), now()
WHERE NOT EXISTS (SELECT 1 FROM sessions WHERE merchant_id = :merchant AND mode = 'test' AND order_id = 'PGB-' || :n6
	AND status IN ('open', 'processing', 'requires_review', 'paid', 'partially_refunded', 'refunded', 'disputed'))
ON CONFLICT DO NOTHING
RETURNING id),
e AS (INSERT INTO events (id, merchant_id, mode, session_id, type, seq, data, created_at)
SELECT 'evt_pgb' || :n6, :merchant::bigint, 'test', s.id, 'session.created', 1::bigint, '{"object":"session"}'::text, now() FROM s RETURNING 1)
SELECT (SELECT count(*) FROM e), EXISTS (SELECT 1 FROM webhook_endpoints
	WHERE merchant_id = :merchant AND kind = 'url' AND deleted_at IS NULL);
WITH s AS (INSERT INTO sessions (id, merchant_id, mode, status, domain, order_id, amount, currency,
	method, return_url, cancel_url, ipn_url, customer_email, metadata, amount_refunded, dispute, event_seq,
	expires_at, paid_at, canceled_at, created_at, updated_at)
SELECT 'cs_pgb' || :n7, :merchant::bigint, 'test', 'open', 'shop.test', 'PGB-' || :n7, 4995::bigint, 'USD', NULL::text, ''::text, ''::text, ''::text,
	'buyer@example.com', '{}'::text, 0::bigint, ''::text, 1::bigint, now() + interval '1 day', NULL::timestamptz, NULL::timestamptz, now(), now()
WHERE NOT EXISTS (SELECT 1 FROM sessions WHERE merchant_id = :merchant AND mode = 'test' AND order_id = 'PGB-' || :n7
	AND status IN ('open', 'processing', 'requires_review', 'paid', 'partially_refunded', 'refunded', 'disputed'))
ON CONFLICT DO NOTHING
RETURNING id),
e AS (INSERT INTO events (id, merchant_id, mode, session_id, type, seq, data, created_at)
SELECT 'evt_pgb' || :n7, :merchant::bigint, 'test', s.id, 'session.created', 1::bigint, '{"object":"session"}'::text, now() FROM s RETURNING 1)
SELECT (SELECT count(*) FROM e), EXISTS (SELECT 1 FROM webhook_endpoints
	WHERE merchant_id = :merchant AND kind = 'url' AND deleted_at IS NULL);
WITH s AS (INSERT INTO sessions (id, merchant_id, mode, status, domain, order_id, amount, currency,
	method, return_url, cancel_url, ipn_url, customer_email, metadata, amount_refunded, dispute, event_seq,
	expires_at, paid_at, canceled_at, created_at, updated_at)
SELECT 'cs_pgb' || :n8, :merchant::bigint, 'test', 'open', 'shop.test', 'PGB-' || :n8, 4995::bigint, 'USD', NULL::text, ''::text, ''::text, ''::text,
	'buyer@example.com', '{}'::text, 0::bigint, ''::text, 1::bigint, now() + interval '1 day', NULL::timestamptz, NULL::timestamptz, now(), now()
WHERE NOT EXISTS (SELECT 1 FROM sessions WHERE merchant_id = :merchant AND mode = 'test' AND order_id = 'PGB-' || :n8
	AND status IN ('open', 'processing', 'requires_review', 'paid', 'partially_refunded', 'refunded', 'disputed'))
ON CONFLICT DO NOTHING
RETURNING id),
e AS (INSERT INTO events (id, merchant_id, mode, session_id, type, seq, data, created_at)
SELECT 'evt_pgb' || :n8, :merchant::bigint, 'test', s.id, 'session.created', 1::bigint, '{"object":"session"}'::text, now() FROM s RETURNING 1)
SELECT (SELECT count(*) FROM e), EXISTS (SELECT 1 FROM webhook_endpoints
	WHERE merchant_id = :merchant AND kind = 'url' AND deleted_at IS NULL);
\endpipeline
COMMIT;

-- wrk script for make bench-http: POST /v1/sessions, a new order_id on
-- every request. Arguments: run id, API key (sent to both binaries, so
-- they receive the same bytes). done() prints one BENCH line of JSON.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  run = args[1]
  n = 0
  hdr = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. args[2]}
end

function request()
  n = n + 1
  local body = string.format('{"domain":"shop.test","amount":"49.95","currency":"USD","order_id":"%s-%d-%d","customer_email":"buyer@example.com"}', run, tid, n)
  return wrk.format("POST", "/v1/sessions", hdr, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH {"requests":%d,"duration_us":%d,"status_errors":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"exhausted":0}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end

-- wrk script for make bench-http: POST signed provider callbacks (one
-- form-encoded body per line of a file, each a different session) to a
-- /hooks route. Arguments: file, thread count, path. Thread i sends lines
-- i, i+threads, … once each; a thread that runs out starts over and counts
-- it in "exhausted" (replays are cheaper, so such a run is invalid).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
  thread:set("exhausted", 0)
end

function init(args)
  local nthreads = tonumber(args[2])
  route = args[3]
  lines = {}
  local i = 0
  for line in io.lines(args[1]) do
    if i % nthreads == tid - 1 then
      lines[#lines + 1] = line
    end
    i = i + 1
  end
  idx = 0
  exhausted = 0
  hdr = {["Content-Type"] = "application/x-www-form-urlencoded"}
end

function request()
  idx = idx + 1
  if idx > #lines then
    idx = 1
    exhausted = exhausted + 1
  end
  return wrk.format("POST", route, hdr, lines[idx])
end

function done(summary, latency, requests)
  local ex = 0
  for _, t in ipairs(threads) do
    ex = ex + t:get("exhausted")
  end
  local e = summary.errors
  io.write(string.format('BENCH {"requests":%d,"duration_us":%d,"status_errors":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"exhausted":%d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, ex))
end

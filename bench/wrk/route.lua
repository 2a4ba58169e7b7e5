-- One route of the scheduler under wrk (bench/capacity.py runs it):
--   wrk -t2 -c50 -d8s -s bench/wrk/route.lua URL -- METHOD PATH [TOKENS_FILE] [BODY] [THREADS]
-- Each request carries the demo's publishable key and, with TOKENS_FILE, the next of its
-- prepared session tokens (rotated, each wrk thread through its own share of them, so no
-- session has two requests at once: a visitor does one thing at a time), from one of many
-- visitors' addresses (X-Forwarded-For, the server trusting one proxy): the rate limits
-- count as they do in production, at their production limits.
-- done() prints one JSON line with the counts and latency percentiles.

local tokens = {}
local at = 0
local sent = 0
local stride = 1
local ADDRESSES = 1000
local started = 0

function setup(thread)
  thread:set("thread_index", started)  -- 0, 1, …: which share of the tokens it rotates through
  started = started + 1
end

function init(args)
  wrk.method = args[1]
  wrk.path = args[2]
  if args[3] and args[3] ~= "" and args[3] ~= "-" then
    for line in io.lines(args[3]) do
      if line ~= "" then tokens[#tokens + 1] = line end
    end
  end
  if args[4] and args[4] ~= "" then
    wrk.body = args[4]
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  end
  wrk.headers["X-Scheduler-Key"] = "pk_test_demo"
  wrk.headers["Origin"] = "http://localhost:8000"
  stride = tonumber(args[5] or "1") or 1
  if #tokens > 0 then at = (thread_index or 0) % #tokens + 1 - stride end
end

function request()
  local visitor
  if #tokens > 0 then
    at = (at - 1 + stride) % #tokens + 1
    wrk.headers["X-Scheduler-Session"] = tokens[at]
    visitor = at  -- a session comes from one address
  else
    sent = sent + 1
    visitor = sent % ADDRESSES
  end
  wrk.headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", visitor % 200, math.floor(visitor / 200) % 250, 7)
  return wrk.format()
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "duration_us": %d, "socket_errors": %d, "non_2xx": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end

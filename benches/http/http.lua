-- wrk script for every HTTP figure (scripts/bench-http).
--
-- Without TOKENS it requests the URL given to wrk (the baselines). With TOKENS it reads
-- unsubscribe link paths, one `/u/TOKEN` a line, from the file in the TOKENS variable and
-- gives each wrk thread its own share, so no two requests of a run name the same email
-- (as long as the file has enough lines).
--
-- Variables (environment):
--   TOKENS     the token file written by `optouts bench-data --tokens-out`
--   MODE       "get" (the Preference Center) or "one-click" (the RFC 8058 POST)
--   DELAY_MS   optional pause before each request of a connection, to hold a rate below peak
--
-- At the end it prints one line starting with "RESULT " holding JSON: requests, seconds,
-- rate, p50/p99 in ms, socket and status (>= 400) errors, and whether a thread ran out of
-- fresh tokens and reused one.

local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("id", thread_count)
  table.insert(threads, thread)
  thread_count = thread_count + 1
end

function init(args)
  local mode = os.getenv("MODE") or "get"
  local file = os.getenv("TOKENS")
  wrapped = 0
  pause = tonumber(os.getenv("DELAY_MS") or "0")
  if file == nil or file == "" then
    return
  end
  local threads_total = tonumber(os.getenv("WRK_THREADS") or "1")
  paths = {}
  local line_number = 0
  for line in io.lines(file) do
    if line ~= "" then
      if line_number % threads_total == id then
        table.insert(paths, line)
      end
      line_number = line_number + 1
    end
  end
  assert(#paths > 0, "no tokens for this thread in " .. file)
  next_path = 1
  if mode == "one-click" then
    method = "POST"
    body = "List-Unsubscribe=One-Click"
    headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
  else
    method = "GET"
    body = nil
    headers = {}
  end
end

function request()
  if paths == nil then
    return wrk.request()
  end
  local path = paths[next_path]
  next_path = next_path + 1
  if next_path > #paths then
    next_path = 1
    wrapped = 1
  end
  return wrk.format(method, path, headers, body)
end

if tonumber(os.getenv("DELAY_MS") or "0") > 0 then
  function delay()
    return pause
  end
end

function done(summary, latency, requests)
  local reused = 0
  for _, thread in ipairs(threads) do
    if thread:get("wrapped") == 1 then
      reused = 1
    end
  end
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"seconds":%.3f,"rate":%.1f,"p50_ms":%.3f,"p99_ms":%.3f,'
      .. '"socket_errors":%d,"status_errors":%d,"tokens_reused":%s}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    errors.connect + errors.read + errors.write + errors.timeout, errors.status,
    reused == 1 and "true" or "false"))
end

-- wrk script: POST /api/predictions, cycling through the names in a file (one per line), JSON-encoded.
--   wrk ... -s benchmarks/predictions.lua http://host:port -- NAMES_FILE [MAX_RESPONSES_PER_THREAD]
-- With MAX_RESPONSES_PER_THREAD > 0 each thread stops after that many responses, so a run serves a fixed count.
local requests = {}
local next_index = 1
-- Globals, not locals: done() reads each thread's `failures` with thread:get().
responses = 0
failures = 0
local limit = 0
local threads = {}

local function json_string(s)
  return '"' .. s:gsub('\\', '\\\\'):gsub('"', '\\"') .. '"'
end

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local path = args[1] or error("usage: -- NAMES_FILE [MAX_RESPONSES_PER_THREAD]")
  limit = tonumber(args[2] or "0")
  local headers = { ["Content-Type"] = "application/json" }
  for line in io.lines(path) do
    if #line > 0 then
      table.insert(requests, wrk.format("POST", "/api/predictions", headers, '{"name": ' .. json_string(line) .. '}'))
    end
  end
  if #requests == 0 then error("no names in " .. path) end
end

function request()
  local r = requests[next_index]
  next_index = next_index % #requests + 1
  return r
end

function response(status, headers, body)
  responses = responses + 1
  if status ~= 200 then failures = failures + 1 end
  if limit > 0 and responses >= limit then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local total_failures = 0
  for _, thread in ipairs(threads) do total_failures = total_failures + (thread:get("failures") or 0) end
  io.write(string.format("Non-200 prediction responses: %d\n", total_failures))
end

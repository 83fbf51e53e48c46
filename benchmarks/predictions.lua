-- wrk script: POST /api/predictions, cycling through the names in a file (one per line), JSON-encoded.
--   wrk ... -s benchmarks/predictions.lua http://host:port -- NAMES_FILE [MAX_RESPONSES_PER_THREAD]
-- The requests are built once in init. With MAX_RESPONSES_PER_THREAD > 0 each thread stops after that many responses,
-- so a run serves a fixed count; only then is there a response() callback, which costs wrk time on every response
-- (wrk itself counts non-2xx answers).
local requests = {}
local next_index = 1

local function json_string(s)
  return '"' .. s:gsub('\\', '\\\\'):gsub('"', '\\"') .. '"'
end

function init(args)
  local path = args[1] or error("usage: -- NAMES_FILE [MAX_RESPONSES_PER_THREAD]")
  local limit = tonumber(args[2] or "0")
  local headers = { ["Content-Type"] = "application/json" }
  for line in io.lines(path) do
    if #line > 0 then
      table.insert(requests, wrk.format("POST", "/api/predictions", headers, '{"name": ' .. json_string(line) .. '}'))
    end
  end
  if #requests == 0 then error("no names in " .. path) end
  if limit > 0 then
    local responses = 0
    response = function()
      responses = responses + 1
      if responses >= limit then wrk.thread:stop() end
    end
  end
end

function request()
  local r = requests[next_index]
  next_index = next_index % #requests + 1
  return r
end

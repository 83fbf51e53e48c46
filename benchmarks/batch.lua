-- wrk script: POST /api/predictions/batch with 1,000 names cycled from a file (one per line), the largest batch allowed.
--   wrk ... -s benchmarks/batch.lua http://host:port -- NAMES_FILE
local body

local function json_string(s)
  return '"' .. s:gsub('\\', '\\\\'):gsub('"', '\\"') .. '"'
end

function init(args)
  local names = {}
  for line in io.lines(args[1] or error("usage: -- NAMES_FILE")) do
    if #line > 0 then table.insert(names, json_string(line)) end
  end
  local batch = {}
  for i = 1, 1000 do batch[i] = names[(i - 1) % #names + 1] end
  body = '{"names": [' .. table.concat(batch, ", ") .. ']}'
end

function request()
  return wrk.format("POST", "/api/predictions/batch", { ["Content-Type"] = "application/json" }, body)
end

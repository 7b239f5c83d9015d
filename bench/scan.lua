-- wrk script for bench/scan.sh: every request is the next line of a file of
-- request paths (one minted code each), so each scan hits a different code.
-- Usage: wrk ... -s bench/scan.lua URL -- PATHS_FILE [STOP_AFTER [DEPTH]]
-- With STOP_AFTER > 0, the thread stops once that many responses are in
-- (wrk's -d is then only a cap). With DEPTH > 1, each connection pipelines
-- DEPTH requests at a time (for bulk loading, not for latency figures).
-- Run with -t1: each thread would walk the same file.
local paths = {}
local idx = 1
local stop_after = 0
local responses = 0
local depth = 1

function init(args)
  local f = assert(io.open(args[1], "r"))
  for line in f:lines() do
    if #line > 0 then paths[#paths + 1] = line end
  end
  f:close()
  assert(#paths > 0, "no paths in " .. args[1])
  stop_after = tonumber(args[2] or "0") or 0
  depth = tonumber(args[3] or "1") or 1
  if stop_after > 0 then
    -- only pay for a Lua call per response when counting is asked for
    response = function(status, headers, body)
      responses = responses + 1
      if responses >= stop_after then wrk.thread:stop() end
    end
  end
end

local function next_request()
  local p = paths[idx]
  idx = idx + 1
  if idx > #paths then idx = 1 end
  return wrk.format("GET", p)
end

function request()
  if depth <= 1 then return next_request() end
  local reqs = {}
  for i = 1, depth do reqs[i] = next_request() end
  return table.concat(reqs)
end

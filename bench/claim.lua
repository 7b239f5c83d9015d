-- wrk script for bench/claim.sh. Each line of the file is "PATH COOKIE": a
-- minted code's path and the sg_d cookie of the logged-in device it belongs
-- to. Mode "scan" GETs the path as that device; mode "claim" POSTs
-- {"code": PATH} to /api/v1/claims as that device. The thread stops after
-- one pass over the file, so every request names a different code; wrk
-- (which would sleep out its -d) is then stopped with SIGINT by claim.sh.
-- wrk itself reports any answer that is not 2xx (a refused claim).
-- Usage: wrk -t1 ... -s bench/claim.lua URL -- FILE scan|claim
local lines = {}
local idx = 1
local mode = "scan"
local responses = 0

function init(args)
  local f = assert(io.open(args[1], "r"))
  for line in f:lines() do
    local p, c = line:match("^(%S+) (%S+)$")
    if p then lines[#lines + 1] = { p, c } end
  end
  f:close()
  assert(#lines > 0, "no lines in " .. args[1])
  mode = args[2] or "scan"
end

function request()
  if idx > #lines then
    -- one pass done: what is still in flight must not claim twice
    return wrk.format("GET", "/healthz")
  end
  local l = lines[idx]
  idx = idx + 1
  -- a headers table replaces wrk.headers (the phone User-Agent): copy it
  local h = {}
  for k, v in pairs(wrk.headers) do h[k] = v end
  h["Cookie"] = "sg_d=" .. l[2]
  h["Accept"] = "application/json"
  if mode == "scan" then
    return wrk.format("GET", l[1], h)
  end
  h["Content-Type"] = "application/json"
  return wrk.format("POST", "/api/v1/claims", h, '{"code":"' .. l[1] .. '"}')
end

function response(status, headers, body)
  responses = responses + 1
  if responses >= #lines then wrk.thread:stop() end
end

-- wrk script for bench/load_bench.py: a weighted mix of the site's pages.
--
--   wrk -t2 -c50 -d60s --latency -s bench/load_mix.lua http://127.0.0.1:PORT -- PATHS WHAT
--
-- PATHS is a file of lines "category<TAB>weight<TAB>path" (paths already percent-encoded).
-- WHAT is either one category ("articles", "search", "wizard", "healthz") or a mix such as
-- "articles=50,search=30,wizard=20": each request first draws a category by its weight,
-- then a path of that category by the path's weight.
--
-- done() prints one machine-readable line, "LOADBENCH {json}", with the request count,
-- duration, socket errors, latency percentiles (microseconds) and the HTTP status counts.
-- (wrk cannot tell which request a response belongs to when a thread has several
-- connections, so per-category latency comes from running one category at a time.)

local threads = {}
local next_id = 0

function setup(thread)
   next_id = next_id + 1
   thread:set("thread_id", next_id)
   table.insert(threads, thread)
end

local categories = {}   -- { {name=, weight=, requests={...}} }, cumulative weights below
local total_weight = 0
counts = {}             -- HTTP status -> responses, per thread (read back in done())

local function parse_mix(what)
   local mix = {}
   if what:find("=") then
      for name, weight in what:gmatch("([%w_-]+)=(%d+)") do
         mix[name] = tonumber(weight)
      end
   else
      mix[what] = 1
   end
   return mix
end

function init(args)
   local file, what = args[1], args[2] or "mix"
   if not file then
      error("usage: -- PATHS_FILE CATEGORY|name=weight,...")
   end
   local mix = parse_mix(what)
   local by_name = {}
   for line in io.lines(file) do
      local name, weight, path = line:match("^([^\t]+)\t(%d+)\t(.+)$")
      if name and mix[name] then
         local cat = by_name[name]
         if not cat then
            cat = { name = name, weight = mix[name], requests = {} }
            by_name[name] = cat
            table.insert(categories, cat)
         end
         local request = wrk.format("GET", path)
         for _ = 1, tonumber(weight) do
            table.insert(cat.requests, request)
         end
      end
   end
   for name, _ in pairs(mix) do
      if not by_name[name] then
         error("no paths for category " .. name .. " in " .. file)
      end
   end
   for _, cat in ipairs(categories) do
      total_weight = total_weight + cat.weight
      cat.upto = total_weight
   end
   math.randomseed(os.time() * 1000 + (thread_id or 0) * 7919)
end

function request()
   local cat = categories[1]
   if #categories > 1 then
      local r = math.random() * total_weight
      for _, c in ipairs(categories) do
         if r < c.upto then
            cat = c
            break
         end
      end
   end
   return cat.requests[math.random(#cat.requests)]
end

function response(status, headers, body)
   counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
   local statuses = {}
   for _, thread in ipairs(threads) do
      local c = thread:get("counts")
      if c then
         for status, n in pairs(c) do
            statuses[status] = (statuses[status] or 0) + n
         end
      end
   end
   local parts = {}
   for status, n in pairs(statuses) do
      table.insert(parts, string.format('"%d": %d', status, n))
   end
   local e = summary.errors
   io.write(string.format(
      'LOADBENCH {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
      '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
      '"latency_us": {"p50": %d, "p90": %d, "p95": %d, "p99": %d, "mean": %.1f, "max": %d}, ' ..
      '"statuses": {%s}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99),
      latency.mean, latency.max, table.concat(parts, ", ")))
end

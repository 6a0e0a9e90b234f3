-- wrk script for bench/load_bench.py: a weighted mix of the site's pages.
--
--   wrk -t2 -c50 -d60s --latency -s bench/load_mix.lua http://127.0.0.1:PORT -- PATHS WHAT THREADS STOPFILE
--
-- PATHS is a file of lines "category<TAB>weight<TAB>path" (paths already percent-encoded).
-- WHAT is either one category ("articles", "search", "wizard", "healthz", ...) or a mix such
-- as "articles=50,search=30,wizard=20": each request first draws a category by its weight,
-- then a path of that category by the path's weight. THREADS is wrk's -t (default 1);
-- STOPFILE, a path that does not exist yet (optional, see below).
--
-- A category whose lines have the weight "once" (search-miss: thousands of different
-- queries, so that every search misses the page cache) is not drawn from at random: it is
-- walked in file order, each path sent once, never again. Each wrk thread takes its own
-- contiguous slice of the list (thread k of T: paths (k-1)*N/T+1 .. k*N/T) and walks it. A
-- thread that reaches the end of its slice stops (wrk.thread:stop(): its connections send
-- nothing more and their answers are not counted), notes when, and creates STOPFILE; every
-- other thread stops at its next request when it sees STOPFILE. They must stop together: a
-- stopped thread can leave a connection open that never sends its request, and a sync
-- gunicorn worker that accepts it waits for it (until wrk exits), so the threads still
-- running would measure a stalled server. Once every thread has stopped, the run's
-- requests/s is over the time until the last stop, not over -d (load_bench.py does this).
--
-- done() prints one machine-readable line, "LOADBENCH {json}", with the request count,
-- duration, socket errors, latency percentiles (microseconds), the HTTP status counts, and
-- for "once" categories the paths taken, how many threads ran out of paths and how many
-- stopped, and the time from the first request to the last thread's stop (microseconds).
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
once_taken = 0          -- paths taken from "once" categories, per thread (read back in done())
once_start_us = nil     -- when this thread made its first request (monotonic clock)
once_end_us = nil       -- when this thread stopped (ran out of "once" paths, or saw STOPFILE)
once_ran_out = 0        -- 1 when this thread ran out of paths itself
local stop_file = nil
local stopping = nil    -- what a connection of a stopped thread is given (its answer is never read)

-- A monotonic clock in microseconds: LuaJIT's FFI (wrk embeds LuaJIT), else os.time().
local now_us = function() return os.time() * 1000000 end
do
   local ok, ffi = pcall(require, "ffi")
   if ok then
      ffi.cdef [[
         struct loadbench_timespec { long tv_sec; long tv_nsec; };
         int clock_gettime(int clock_id, struct loadbench_timespec *tp);
      ]]
      local ts = ffi.new("struct loadbench_timespec")
      now_us = function()
         ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
         return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
      end
   end
end

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
   local nthreads = tonumber(args[3] or "1") or 1
   stop_file = args[4]
   if not file then
      error("usage: -- PATHS_FILE CATEGORY|name=weight,... [THREADS]")
   end
   local mix = parse_mix(what)
   local by_name = {}
   for line in io.lines(file) do
      local name, weight, path = line:match("^([^\t]+)\t(%w+)\t(.+)$")
      if name and mix[name] then
         local cat = by_name[name]
         if not cat then
            cat = { name = name, weight = mix[name], requests = {}, once = (weight == "once") }
            by_name[name] = cat
            table.insert(categories, cat)
         end
         local request = wrk.format("GET", path)
         if cat.once then
            table.insert(cat.requests, request)
         else
            for _ = 1, tonumber(weight) do
               table.insert(cat.requests, request)
            end
         end
      end
   end
   local id = thread_id or 1
   for _, cat in ipairs(categories) do
      if cat.once then
         local n = #cat.requests
         cat.first = math.floor((id - 1) * n / nthreads) + 1
         cat.last = math.floor(id * n / nthreads)
         if cat.last < cat.first then  -- fewer paths than threads: share the whole list
            cat.first, cat.last = 1, n
         end
         cat.next = cat.first
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

-- Stop this thread; what it returns is what a connection of it is given meanwhile (a cheap
-- /healthz whose answer is never read: the thread's loop has ended by then).
local function stop_thread()
   once_end_us = now_us()
   stopping = wrk.format("GET", "/healthz")
   wrk.thread:stop()
   return stopping
end

function request()
   if stopping then
      return stopping
   end
   if not once_start_us then
      once_start_us = now_us()
   end
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
   if cat.once then
      if stop_file and once_taken > 0 then
         local other = io.open(stop_file, "r")
         if other then -- another thread ran out: stop now, before sending anything more
            other:close()
            return stop_thread()
         end
      end
      local request = cat.requests[cat.next]
      cat.next = cat.next + 1
      once_taken = once_taken + 1
      if cat.next > cat.last then -- this was the slice's last path: stop after sending it
         once_ran_out = 1
         if stop_file then
            local mark = io.open(stop_file, "w")
            if mark then
               mark:close()
            end
         end
         stop_thread()
      end
      return request
   end
   return cat.requests[math.random(#cat.requests)]
end

function response(status, headers, body)
   counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
   local statuses = {}
   local taken, ran_out, stopped, first, last = 0, 0, 0, nil, 0
   for _, thread in ipairs(threads) do
      taken = taken + (thread:get("once_taken") or 0)
      ran_out = ran_out + (thread:get("once_ran_out") or 0)
      local started, ended = thread:get("once_start_us"), thread:get("once_end_us")
      if started and (not first or started < first) then
         first = started
      end
      if ended then
         stopped = stopped + 1
         last = math.max(last, ended)
      end
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
      '"statuses": {%s}, "once": {"taken": %d, "threads": %d, "ran_out": %d, "stopped": %d, "active_us": %d}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99),
      latency.mean, latency.max, table.concat(parts, ", "), taken, #threads, ran_out, stopped,
      (stopped > 0 and first) and (last - first) or summary.duration))
end

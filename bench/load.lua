-- wrk script for bench/run.py. run.py writes `CONFIG = {...}` above this text.
-- Counters live in each thread's globals; done() adds them up and prints one
-- line of JSON that run.py reads.

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

-- Per-thread state (each wrk thread has its own Lua state).
unexpected = 0
flows = 0
server_errors = 0
local serial = 0
local redirects = {}   -- session cookies waiting for their GET after a POST
local forms = {}       -- {cookie, token} pairs waiting for their POST
local CSRF_INPUT = 'name="csrf_token" type="hidden" value="([^"]+)"'

local function urlencode(text)
  return (text:gsub("[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

local function next_name()
  if CONFIG.names == "known" then
    return string.format(CONFIG.name_format, math.random(1, CONFIG.seeded_users))
  end
  serial = serial + 1
  return CONFIG.name_prefix .. "-" .. thread_id .. "-" .. serial
end

local function post_request(cookie, token, name)
  local body = "name=" .. urlencode(name) .. "&csrf_token=" .. urlencode(token)
  return wrk.format("POST", "/", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = cookie,
  }, body)
end

function init(args)
  math.randomseed(os.time() + (thread_id or 0) * 7919)
  wrk.method = CONFIG.method
  wrk.path = CONFIG.path
  if CONFIG.kind == "post" then
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
    wrk.headers["Cookie"] = CONFIG.cookie
    wrk.body = "name=" .. urlencode(string.format(CONFIG.name_format, 1))
      .. "&csrf_token=" .. urlencode(CONFIG.token)
  elseif CONFIG.cookie ~= "" then
    wrk.headers["Cookie"] = CONFIG.cookie
  end
end

local rotate_n = nil

local function rotate_request()
  if rotate_n == nil then
    rotate_n = CONFIG.first + ((thread_id or 1) * 7) % (CONFIG.last - CONFIG.first + 1)
  end
  local path = string.format(CONFIG.path_format, rotate_n)
  rotate_n = rotate_n + 1
  if rotate_n > CONFIG.last then rotate_n = CONFIG.first end
  return wrk.format("GET", path)
end

local function flow_request()
  local cookie = table.remove(redirects)
  if cookie then
    return wrk.format("GET", "/", {["Cookie"] = cookie})
  end
  local form = table.remove(forms)
  if form then
    return post_request(form[1], form[2], next_name())
  end
  return wrk.format("GET", "/")
end

local function session_cookie(headers)
  for key, value in pairs(headers) do
    if string.lower(key) == "set-cookie" then
      return value:match("^([^;]+)")
    end
  end
  return nil
end

-- A form's token and session cookie, kept for its POST; false if absent.
local function keep_form(headers, body)
  local cookie = session_cookie(headers)
  local token = body:match(CSRF_INPUT)
  if cookie and token then
    table.insert(forms, {cookie, token})
    return true
  end
  return false
end

-- The path a redirect goes to, absolute or not.
local function redirect_path(headers)
  for key, value in pairs(headers) do
    if string.lower(key) == "location" then
      return value:match("^https?://[^/]+(/.*)$") or value
    end
  end
  return nil
end

local function write_request()
  serial = serial + 1
  local label = CONFIG.name_prefix .. "-" .. thread_id .. "-" .. serial
  local body = "body=" .. urlencode(string.format(CONFIG.post_body, label))
    .. "&csrf_token=" .. urlencode(CONFIG.token) .. "&submit=Submit"
  return wrk.format("POST", CONFIG.path, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = CONFIG.cookie,
  }, body)
end

-- Only a redirect home is a post written; one to the login page is not.
local function write_response(status, headers, body)
  if status ~= 302 or redirect_path(headers) ~= "/" then
    unexpected = unexpected + 1
  end
end

local function has_texts(body)
  for _, text in ipairs(CONFIG.expect_texts) do
    if not body:find(text, 1, true) then return false end
  end
  return true
end

local function login_request()
  local form = table.remove(forms)
  if form then
    local body = "email=" .. urlencode(CONFIG.email)
      .. "&password=" .. urlencode(CONFIG.password)
      .. "&csrf_token=" .. urlencode(form[2])
    return wrk.format("POST", CONFIG.path, {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["Cookie"] = form[1],
    }, body)
  end
  return wrk.format("GET", CONFIG.path)
end

local function login_response(status, headers, body)
  if status == 302 then
    flows = flows + 1  -- only a POST that logs in redirects
  elseif status ~= 200 or body:find("Invalid email or password.", 1, true)
      or not keep_form(headers, body) then
    unexpected = unexpected + 1
  end
end

local function flow_response(status, headers, body)
  if status == 302 then
    local cookie = session_cookie(headers)
    if cookie then table.insert(redirects, cookie) else unexpected = unexpected + 1 end
  elseif status == 200 then
    if body:find("Hello, Stranger!", 1, true) then
      if not keep_form(headers, body) then unexpected = unexpected + 1 end
    else
      local greeting = CONFIG.names == "new" and "Pleased to meet you!"
        or "Happy to see you again!"
      if body:find(greeting, 1, true) then flows = flows + 1 else unexpected = unexpected + 1 end
    end
  else
    unexpected = unexpected + 1
  end
end

if CONFIG.kind == "rotate" then
  request = rotate_request
elseif CONFIG.kind == "flow" then
  request = flow_request
elseif CONFIG.kind == "login" then
  request = login_request
elseif CONFIG.kind == "write" then
  request = write_request
elseif CONFIG.kind == "post" and CONFIG.names == "new" then
  request = function()
    return post_request(CONFIG.cookie, CONFIG.token, next_name())
  end
end

if CONFIG.kind == "flow" then
  response = flow_response
elseif CONFIG.kind == "login" then
  response = login_response
elseif CONFIG.kind == "write" then
  response = write_response
elseif CONFIG.check_status then
  response = function(status, headers, body)
    if status ~= CONFIG.expect or not has_texts(body) then
      unexpected = unexpected + 1
    end
  end
end

-- Where responses are looked at anyway, 5xx are counted apart (without a
-- response function, wrk only counts statuses outside 2xx and 3xx).
if response ~= nil then
  local judge = response
  response = function(status, headers, body)
    if status >= 500 then server_errors = server_errors + 1 end
    judge(status, headers, body)
  end
end

function done(summary, latency, requests)
  local total_unexpected, total_flows, total_server_errors = 0, 0, 0
  for _, thread in ipairs(threads) do
    total_unexpected = total_unexpected + (thread:get("unexpected") or 0)
    total_flows = total_flows + (thread:get("flows") or 0)
    total_server_errors = total_server_errors + (thread:get("server_errors") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, '
      .. '"connect_errors": %d, "read_errors": %d, "write_errors": %d, '
      .. '"status_errors": %d, "server_errors": %d, "timeouts": %d, '
      .. '"unexpected": %d, "flows": %d, '
      .. '"checked": %s, "p50_us": %d, "p90_us": %d, "p99_us": %d, '
      .. '"max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, total_server_errors, e.timeout,
    total_unexpected, total_flows,
    (response ~= nil) and "true" or "false",
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end

-- GET <prefix><query>, the queries taken in turn from the first argument ("mug|wool|brass"),
-- each connection starting at a different one: the search over the whole demo catalog.
dofile(os.getenv("WRK_LIB") .. "/report.lua")

local queries, prefix, n = {}, "/search/?q=", 0

function init(args)
  for query in string.gmatch(args[1], "[^|]+") do table.insert(queries, query) end
  prefix = args[2] or prefix
  n = math.random(#queries)
end

function request()
  n = n + 1
  return wrk.format("GET", prefix .. queries[(n % #queries) + 1])
end

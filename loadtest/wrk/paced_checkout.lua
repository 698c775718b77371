-- checkout.lua at a steady pace: each connection waits <ms> between its requests.
-- Arguments: <comma-separated SKUs> <run id> <ms>
dofile(os.getenv("WRK_LIB") .. "/checkout.lua")

local base_init = init
function init(args)
  base_init(args)
  pause = tonumber(args[3])
end

function delay()
  return pause
end

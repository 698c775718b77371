-- POST /api/orders/: a new Idempotency-Key and e-mail per request, the SKUs taken in turn.
-- Arguments: <comma-separated SKUs> <run id>
dofile(os.getenv("WRK_LIB") .. "/report.lua")

function init(args)
  skus = {}
  for sku in string.gmatch(args[1], "[^,]+") do table.insert(skus, sku) end
  run = args[2] or "bench"
  n = 0
end

function request()
  n = n + 1
  local sku = skus[(n + id) % #skus + 1]
  local key = string.format("%s-%d-%d", run, id, n)
  local body = string.format(
    '{"email": "bench+%s@example.com", "lines": [{"sku": "%s", "quantity": 1}], "payment_method": "pm_card_visa", ' ..
    '"shipping_address": {"name": "Bench Shopper", "line1": "1 Quay Street", "city": "Portsmouth", ' ..
    '"postal_code": "PO1 1AA", "country": "GB"}}', key, sku)
  return wrk.format("POST", "/api/orders/", {["Content-Type"] = "application/json", ["Idempotency-Key"] = key}, body)
end

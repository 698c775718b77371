"""harbor_storefront_checkout_outcomes_total{outcome}: what became of each "Place order" post
on the storefront's checkout page (the API's answers are harbor_checkout_outcomes_total).

placed: a new order; replayed: this page's order already existed (double click, reload,
resubmit); invalid: the form came back with errors; throttled: too many attempts;
unpaid_limit: the client has CHECKOUT_UNPAID_LIMIT orders awaiting payment already;
out_of_stock / cart_changed / empty_cart: sent back to the cart, nothing reserved or charged.
"""

from prometheus_client import Counter

OUTCOMES = ("placed", "replayed", "invalid", "throttled", "unpaid_limit", "out_of_stock", "cart_changed",
            "empty_cart")

STOREFRONT_CHECKOUT_OUTCOMES = Counter("harbor_storefront_checkout_outcomes",
                                       "Place-order posts on the storefront's checkout page, by outcome.", ["outcome"])
for _outcome in OUTCOMES:
    STOREFRONT_CHECKOUT_OUTCOMES.labels(outcome=_outcome)


def count(outcome):
    STOREFRONT_CHECKOUT_OUTCOMES.labels(outcome=outcome).inc()

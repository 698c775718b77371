"""Count what Stripe itself holds, independent of our database: the proof of "money
moves once" used by tests, the soak run and ops."""

from collections import Counter

from payments.gateway import client


def succeeded_charges_by_order():
    """{order id: number of succeeded charges} for every charge on the Stripe account."""
    counts = Counter()
    charges = client().v1.charges.list(params={"limit": 100, "expand": ["data.payment_intent"]})
    for charge in charges.auto_paging_iter():
        intent = charge.payment_intent
        if charge.status == "succeeded" and intent and not isinstance(intent, str):
            counts[intent.metadata.to_dict().get("order_id")] += 1
    return counts

"""An order that ended without a charge is never charged for good.

A PaymentIntent that Harbor stops using (the card was declined, the shopper's 3-D Secure
check failed or was never done, the order was canceled) could still be confirmed by whoever
holds its client secret, and the shopper's browser has it. So the intent is canceled at
Stripe before the order is recorded as ended:

- the charge (payments.charge) cancels a declined or unauthenticated intent before it
  records the payment `failed`;
- cancel_order cancels the intent before it cancels the order (orders/cancellation.py);
- a failure learned some other way (a Stripe webhook) is recorded at once, and the intent
  canceled after commit by the void_payment task (`void_later`); reconciliation sends that
  task again for every `failed` payment whose intent Stripe has not confirmed canceled.

If Stripe charged the intent anyway (a confirm that got there before the cancel, or a
`payment_intent.succeeded` for an order Harbor had ended), the charge is refunded in full,
automatically, with an event (orders.refunds.refund_late_charge): the order ends `refunded`
and the shopper is e-mailed. Money is never kept for an order that ships nothing.
"""

import logging

from harbor import enqueue
from orders.refunds import refund_late_charge
from payments.charge import void as void_payment
from payments.models import Payment

logger = logging.getLogger(__name__)


def live_intents():
    """Payments recorded failed whose intent Stripe has not confirmed canceled."""
    return Payment.objects.filter(status=Payment.Status.FAILED, payment_intent_id__isnull=False,
                                  intent_canceled_at__isnull=True)


def void_later(order_id):
    """After commit, have the void_payment task cancel the order's intent if it may still charge."""
    if live_intents().filter(order_id=order_id).exists():
        enqueue.after_commit("orders.tasks.void_payment", order_id)
        return True
    return False


def void(order_id, actor):
    """The void_payment task (under the order's lock, outside any transaction): cancel the
    intent at Stripe; refund it in full if Stripe charged it after all. Safe to repeat."""
    payment = live_intents().filter(order_id=order_id).first()
    if payment is None:
        return "nothing to void"
    result = void_payment(payment)
    if result.late:
        refund_late_charge(order_id, actor, "The payment went through at Stripe after Harbor had recorded it failed.")
        return "charged after the order ended: full refund requested"
    return "intent canceled at Stripe"

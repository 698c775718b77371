"""Refunds at Stripe: what Stripe already has, what Harbor asked for, recorded once each.

Every Stripe call happens outside any transaction; each outcome is recorded in a short one
(orders/refunds.py then moves the order). Stripe is the authority on how much went back:
the refund made is "the charge's amount minus what Stripe says is refunded already", so a
refund made in Stripe's dashboard first is adopted, never refunded twice.
"""

import logging
import re

import stripe
from django.db import IntegrityError, transaction
from django.db.models import F, Sum

from payments import gateway
from payments.models import Payment, Refund

logger = logging.getLogger(__name__)

STRIPE_STATUS = {"succeeded": Refund.Status.SUCCEEDED, "pending": Refund.Status.PENDING,
                 "requires_action": Refund.Status.PENDING, "failed": Refund.Status.FAILED,
                 "canceled": Refund.Status.CANCELED}

# Where a refund may go from each status. Stripe does not order its events and retries them
# for days, so an event can describe a refund as it was before the last one we applied: only
# a move forward is applied. `succeeded → failed` is forward: Stripe reports a refund that the
# card's bank returned days later as failed (the money did not go back after all).
FORWARD = {
    Refund.Status.REQUESTED: {Refund.Status.PENDING, Refund.Status.SUCCEEDED, Refund.Status.FAILED,
                              Refund.Status.CANCELED},
    Refund.Status.PENDING: {Refund.Status.SUCCEEDED, Refund.Status.FAILED, Refund.Status.CANCELED},
    Refund.Status.SUCCEEDED: {Refund.Status.FAILED},
    Refund.Status.FAILED: set(),
    Refund.Status.CANCELED: set(),
}


def sync(payment):
    """Adopt every refund Stripe holds for the payment's intent (made in its dashboard, or by
    a run that died before recording it) and bring every status up to date."""
    for found in gateway.refunds_for_intent(payment.payment_intent_id):
        record(payment, found)
    return recompute(payment)


def make(request, order_id):
    """Make a requested refund at Stripe: its amount, or what is left of the charge. A refusal
    (nothing left, more than is left, Stripe says no) is recorded as failed; transient trouble
    raises, and the task retries, looking at Stripe first (sync)."""
    payment = request.payment
    charge = gateway.charge_of_intent(payment.payment_intent_id)
    left = (charge.amount - charge.amount_refunded) if charge else 0
    amount = left if request.amount is None else request.amount
    if request.amount is None and left == 0 and charge is not None:  # all back already (e.g. the dashboard)
        Refund.objects.filter(pk=request.pk, status=Refund.Status.REQUESTED).update(
            status=Refund.Status.CANCELED, last_error="Nothing left to refund: Stripe has returned it all.")
        request.refresh_from_db()
        return request
    if amount <= 0 or amount > left:
        return fail(request, f"Cannot refund {amount}: {left} of {charge.amount if charge else 0} is left at Stripe.")
    Refund.objects.filter(pk=request.pk).update(attempts=F("attempts") + 1)
    try:
        made = gateway.create_refund(order_id, payment.payment_intent_id, amount, request.pk)
    except (stripe.InvalidRequestError, stripe.CardError) as exc:
        return fail(request, f"Stripe refused the refund: {exc.user_message or exc}")
    return record(payment, made)


def record(payment, found):
    """Record a Stripe refund on its Refund row (the request it was made for, found by the
    metadata Harbor put on it; else a row of its own, adopted). Returns the row."""
    status = STRIPE_STATUS.get(found.status, Refund.Status.PENDING)
    metadata = getattr(found, "metadata", None) or {}
    metadata = metadata.to_dict() if hasattr(metadata, "to_dict") else dict(metadata)
    fields = {"stripe_id": found.id, "amount": getattr(found, "amount", None), "status": status,
              "last_error": getattr(found, "failure_reason", None) or ""}
    with transaction.atomic():
        row = Refund.objects.select_for_update().filter(stripe_id=found.id).first()
        if row is None and re.fullmatch(r"[0-9]{1,18}", str(metadata.get("harbor_refund", ""))):
            row = Refund.objects.select_for_update().filter(pk=int(metadata["harbor_refund"]), payment=payment,
                                                            stripe_id__isnull=True).first()
        if row is None:
            try:
                with transaction.atomic():
                    row = Refund.objects.create(payment=payment, requested_by="stripe",
                                                reason="Made at Stripe, outside Harbor.", **fields)
                logger.info("payment %s: adopted refund %s (%s) found at Stripe", payment.pk, found.id, found.amount)
                return row
            except IntegrityError:  # a webhook recorded it just now
                row = Refund.objects.select_for_update().get(stripe_id=found.id)
        if row.stripe_id and status != row.status and status not in FORWARD[row.status]:
            logger.info("refund %s: %s from Stripe is older than its %s: not applied", found.id, status, row.status)
            return row
        if status == row.status and row.stripe_id:
            fields.pop("amount")  # the same state again: what we recorded stands
        for name, value in fields.items():
            setattr(row, name, value)
        row.save(update_fields=[*fields, "updated_at"])
    return row


def fail(request, why):
    Refund.objects.filter(pk=request.pk, status=Refund.Status.REQUESTED).update(status=Refund.Status.FAILED,
                                                                                last_error=why)
    logger.warning("refund request %s failed: %s", request.pk, why)
    request.refresh_from_db()
    return request


def recompute(payment):
    """Payment.amount_refunded from its refunds (pending ones count, as Stripe counts them)."""
    total = payment.refunds.filter(status__in=(Refund.Status.PENDING, Refund.Status.SUCCEEDED)).aggregate(
        n=Sum("amount"))["n"] or 0
    Payment.objects.filter(pk=payment.pk).update(amount_refunded=total)
    payment.amount_refunded = total
    return total


def succeeded_total(payment):
    """What Stripe has finished giving back: the order is refunded once this covers the charge
    (a pending refund can still fail)."""
    return payment.refunds.filter(status=Refund.Status.SUCCEEDED).aggregate(n=Sum("amount"))["n"] or 0


def reserved_total(payment):
    """What is given back or on its way: refunds made (pending or succeeded) and requests not
    made yet. A new request may ask for at most the charge less this (a request for "all that
    is left" reserves everything)."""
    total = 0
    for refund in payment.refunds.filter(status__in=(Refund.Status.REQUESTED, Refund.Status.PENDING,
                                                     Refund.Status.SUCCEEDED)):
        if refund.amount is None:
            return payment.amount
        total += refund.amount
    return total

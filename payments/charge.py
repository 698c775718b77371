"""Charge an order exactly once, even when this runs twice, concurrently, or after a crash.

Steps, each persisted before the next one uses it, so a re-run resumes where Stripe is:
customer (with the PaymentMethod attached) → PaymentIntent created (confirm=False) → its id
saved → confirmed: three Stripe calls on the first run, and a re-run looks before it acts. Only the PaymentIntent whose id is saved on the order's single Payment row is
ever confirmed, and Stripe confirms a PaymentIntent at most once, so at most one charge
can succeed per order, even against a server that ignores idempotency keys.

This module sits below orders/: it is handed the order (id, total, currency, e-mail, payment
method) and a `may_save_intent()` guard that orders/ implements with its row lock.
"""

import functools
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace

import stripe
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from catalog.money import format_money
from harbor import failpoints
from harbor.retry import NotSettledYet
from payments import card_testing, gateway
from payments.models import Payment

logger = logging.getLogger(__name__)


@dataclass
class Result:
    status: str  # a Payment.Status
    message: str
    review: bool = False  # nothing settled, but a person must look (e.g. our Stripe key is refused)
    declined: bool = False  # the card was refused (counted against card testing), not e.g. canceled
    late: bool = False  # succeeded at Stripe after Harbor had recorded the payment failed


class SavedObjectMissing(Exception):
    """Stripe says an object Harbor saved (the customer, the PaymentIntent) does not exist:
    another Stripe account, or a swapped key. Nobody can tell from here whether money moved."""


def charge(order, may_save_intent):
    """Take the order's total once. Returns a Result; raises on transient trouble.

    `may_save_intent()` runs inside the transaction that saves the PaymentIntent id and
    answers whether the order may still be charged (orders/ locks the order row and checks
    that it is pending: a cancel takes the same lock, so the two never both succeed).
    A payment waiting for the shopper's 3-D Secure is looked up at Stripe, never confirmed
    again: the shopper's authentication is what completes (or fails) it."""
    payment = _count_attempt(order)
    try:
        if payment.status == Payment.Status.REQUIRES_ACTION and payment.payment_intent_id:
            return _settle(payment, _saved_intent(payment.payment_intent_id))
        if payment.status != Payment.Status.PENDING:
            return Result(payment.status, payment.last_error or f"payment already {payment.status}")
        failpoints.hit("charge.before_stripe", order.id)
        return _charge(order, payment, may_save_intent)
    except SavedObjectMissing as exc:
        # Not a declined card: the order goes to review with the reason, never to payment_failed.
        Payment.objects.filter(pk=payment.pk).update(last_error=str(exc))
        return Result(Payment.Status.PENDING, str(exc), review=True)
    except (stripe.AuthenticationError, stripe.PermissionError) as exc:
        # Our own configuration (key refused): the card is fine and nothing moved. The Payment
        # stays pending, so once ops fix the key, a retry continues from what Stripe has.
        Payment.objects.filter(pk=payment.pk).update(last_error=_describe(exc))
        return Result(Payment.Status.PENDING, f"Stripe refused Harbor's request: {_describe(exc)}", review=True)


@functools.cache
def _count_attempt_sql():
    fields = [field for field in Payment._meta.concrete_fields if not field.primary_key]
    table, columns = Payment._meta.db_table, ", ".join(field.column for field in fields)
    return fields, (f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))}) "
                    f"ON CONFLICT ({Payment._meta.get_field('order').column}) DO UPDATE SET attempts = {table}.attempts + 1 "
                    f"RETURNING {Payment._meta.pk.column}, {columns}")


def _count_attempt(order):
    """The order's one Payment, made by the first run, with this run counted in `attempts`:
    one INSERT … ON CONFLICT DO UPDATE … RETURNING, where get_or_create and an UPDATE took
    four or five round trips (every order's first run makes the row). Concurrent runs each
    count, and all get the same row (the unique order_id)."""
    fields, sql = _count_attempt_sql()
    now = timezone.now()
    values = {field.attname: field.get_default() for field in fields}
    values.update(order_id=order.pk, amount=order.total, currency=order.currency, attempts=1, created_at=now,
                  updated_at=now)
    with connection.cursor() as cursor:
        cursor.execute(sql, [field.get_db_prep_save(values[field.attname], connection) for field in fields])
        row = cursor.fetchone()
    return Payment.from_db(connection.alias, [Payment._meta.pk.attname, *(field.attname for field in fields)], row)


def _charge(order, payment, may_save_intent):
    try:
        if not payment.customer_id:
            # The shopper's PaymentMethod is attached here: a 404 means *their* card id is
            # unknown (a decline), unlike a 404 for anything Harbor saved (below).
            customer = gateway.create_customer(order)
            payment = _save_once(payment, "customer_id", customer.id, payment_method_id=order.payment_method)
    except stripe.CardError as exc:  # declined while attaching the card
        return record(payment, Payment.Status.FAILED, _describe(exc), declined=True)
    except stripe.InvalidRequestError as exc:  # an unknown payment method: not worth retrying
        return record(payment, Payment.Status.FAILED, _describe(exc), declined=True)
    try:
        with _saved_objects(payment):
            if not payment.payment_method_id:  # a customer made before cards were attached at creation
                attached = gateway.attach_payment_method(order, payment.customer_id)
                payment = _save_once(payment, "payment_method_id", attached.id)
            created = None
            if not payment.payment_intent_id:
                created = gateway.create_intent(order, payment)
                failpoints.hit("charge.before_save_intent", order.id)  # created at Stripe, its id not saved yet
                payment = _save_intent(payment, created.id, may_save_intent, card_fingerprint=_fingerprint(created))
                if payment.payment_intent_id != created.id:  # a concurrent run saved its intent first,
                    _cancel_quietly(created.id)  # or the order was canceled meanwhile
                    created = None
                if not payment.payment_intent_id:
                    return record(payment, Payment.Status.FAILED, "The order was canceled before payment.")
            if card_testing.card_blocked(payment.card_fingerprint):
                # This card failed too often lately (card testing): never tried again for now.
                gateway.cancel_intent(payment.payment_intent_id, order_id=order.id)
                return record(payment, Payment.Status.FAILED, "This card was declined too many times recently. "
                              "Please use another card, or try again tomorrow.", intent_canceled_at=timezone.now())
            intent = _confirmed(order, payment.payment_intent_id, known=created)
            failpoints.hit("charge.after_confirm", order.id)  # charged at Stripe, nothing written yet
    except stripe.CardError as exc:  # declined while attaching the card
        return record(payment, Payment.Status.FAILED, _describe(exc), declined=True)
    except stripe.InvalidRequestError as exc:  # Stripe refuses the request itself: no use retrying it
        return record(payment, Payment.Status.FAILED, _describe(exc), declined=exc.param == "payment_method")
    return _settle(payment, intent)


@contextmanager
def _saved_objects(payment):
    """Calls that name objects Harbor saved (its customer, its PaymentIntent): Stripe not
    knowing one of them is SavedObjectMissing, not a decline."""
    try:
        yield
    except stripe.InvalidRequestError as exc:
        # Real Stripe names the missing parameter; the shopper's own card id missing is a decline.
        if exc.http_status == 404 and exc.param not in ("payment_method", "source"):
            raise SavedObjectMissing(
                f"Stripe does not know an object Harbor saved for this payment (customer {payment.customer_id or '-'}, "
                f"intent {payment.payment_intent_id or '-'}): another Stripe account or a swapped key? Harbor cannot "
                f"tell whether money moved; check in Stripe's dashboard. ({_describe(exc)})") from exc
        raise


def _saved_intent(intent_id):
    try:
        return gateway.retrieve_intent(intent_id)
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            raise SavedObjectMissing(
                f"Stripe does not know the PaymentIntent {intent_id} that Harbor saved: another Stripe account or a "
                f"swapped key? Harbor cannot tell whether money moved; check in Stripe's dashboard.") from exc
        raise


def _fingerprint(intent):
    method = getattr(intent, "payment_method", None)
    card = getattr(method, "card", None) if method is not None and not isinstance(method, str) else None
    return (getattr(card, "fingerprint", None) or "") if card is not None else ""


def _confirmed(order, intent_id, known=None):
    """Confirm the saved intent if nobody has yet; return it as Stripe now has it. `known`:
    the intent this very run just created, whose state needs no second look."""
    intent = known or _saved_intent(intent_id)
    if intent.status == "requires_confirmation":
        failpoints.hit("charge.before_confirm", order.id)
        try:
            intent = gateway.confirm_intent(order.id, intent_id)
        except (stripe.CardError, stripe.InvalidRequestError) as exc:
            # Declined, or confirmed meanwhile by a concurrent run: Stripe's state decides.
            logger.info("order %s: confirm %s: %s", order.id, intent_id, exc)
            intent = _saved_intent(intent_id)
    return intent


def _settle(payment, intent):
    if intent.status == "succeeded":
        return _charged(payment, intent)
    if intent.status == "requires_payment_method":
        # Declined, or the shopper's 3-D Secure check failed. Such an intent can still be
        # confirmed with another card by whoever holds its client secret (the shopper's browser
        # has it): cancel it at Stripe before recording "failed", so that "failed" is true for
        # good. If it was confirmed meanwhile, Stripe refuses the cancel and the charge stands.
        error = intent.last_payment_error
        message = error.message if error else f"intent {intent.status}"
        intent = _cancel(payment, intent)
        if intent.status == "succeeded":
            return _charged(payment, intent)
        return record(payment, Payment.Status.FAILED, message, declined=True, intent_canceled_at=timezone.now())
    if intent.status == "canceled":
        error = intent.last_payment_error
        return record(payment, Payment.Status.FAILED, error.message if error else "intent canceled",
                      intent_canceled_at=timezone.now())
    if intent.status == "requires_action":
        return record(payment, Payment.Status.REQUIRES_ACTION,
                      "The card asks the shopper to authenticate the payment (3-D Secure).",
                      client_secret=intent.client_secret)
    raise NotSettledYet(f"payment intent {intent.id} is {intent.status}")


# Where a Payment may go from each status. Never backwards: a run paused mid-charge that
# wakes up late must not turn `refunded` back into `succeeded` (or `failed` into anything).
FORWARD = {
    Payment.Status.PENDING: {Payment.Status.REQUIRES_ACTION, Payment.Status.SUCCEEDED, Payment.Status.FAILED},
    Payment.Status.REQUIRES_ACTION: {Payment.Status.REQUIRES_ACTION, Payment.Status.SUCCEEDED,
                                     Payment.Status.FAILED},
    Payment.Status.SUCCEEDED: {Payment.Status.SUCCEEDED, Payment.Status.REFUNDED},
    Payment.Status.FAILED: {Payment.Status.FAILED},
    Payment.Status.REFUNDED: {Payment.Status.REFUNDED},
}


# Where a charge lands without going backwards (record()'s sources for SUCCEEDED).
CHARGEABLE = [source for source, targets in FORWARD.items() if Payment.Status.SUCCEEDED in targets]


def record(payment, status, message, declined=False, **fields):
    """Write a payment outcome on the Payment row, conditionally (`UPDATE ... WHERE status IN
    (statuses that may move there)`); return the outcome as a Result. If the row has already
    moved on, nothing is written and the Result says where it stands."""
    sources = [source for source, targets in FORWARD.items() if status in targets]
    last_error = "" if status == Payment.Status.SUCCEEDED else message
    fields.setdefault("client_secret", "")  # kept only while authentication is due
    if Payment.objects.filter(pk=payment.pk, status__in=sources).update(status=status, last_error=last_error,
                                                                         **fields):
        return Result(status, message, declined=declined)
    current = Payment.objects.values_list("status", flat=True).get(pk=payment.pk)
    logger.warning("payment %s: %s refused, it is %s already", payment.pk, status, current)
    return Result(current, f"payment already {current}")


def _charged(payment, intent):
    """Stripe charged the intent: record it, even over an earlier `failed` (the one move
    backwards there is: Stripe has the money, and only a refund gives it back; the Result
    says `late`, and orders/ refunds it). Never over `refunded`."""
    message = f"Charged {format_money(intent.amount, intent.currency)} ({intent.id})."
    # The usual case first, in one conditional UPDATE (every charge comes this way); only if
    # the row is no longer where a charge normally lands is it asked whether it was `failed`.
    if Payment.objects.filter(pk=payment.pk, status__in=CHARGEABLE).update(
            status=Payment.Status.SUCCEEDED, last_error="", client_secret=""):
        return Result(Payment.Status.SUCCEEDED, message)
    late = Payment.objects.filter(pk=payment.pk, status=Payment.Status.FAILED).update(
        status=Payment.Status.SUCCEEDED, last_error="", client_secret="")
    if late:
        logger.error("payment %s: Stripe charged intent %s after Harbor recorded the payment failed",
                     payment.pk, intent.id)
        return Result(Payment.Status.SUCCEEDED, message, late=True)
    return record(payment, Payment.Status.SUCCEEDED, message)  # refunded: refused, and the Result says so


def charged_late(payment, intent_id, amount, currency):
    """A webhook says Stripe charged a payment Harbor recorded failed (see _charged)."""
    return _charged(payment, SimpleNamespace(id=intent_id, amount=amount, currency=currency))


def void(payment):
    """Make sure the payment can never charge (cancel its intent at Stripe) unless it already
    has: returns SUCCEEDED if Stripe charged it after all (`late` if Harbor had recorded it
    failed), else FAILED once Stripe says the intent is canceled."""
    if payment.payment_intent_id:
        intent = _saved_intent(payment.payment_intent_id)
        if intent.status not in ("succeeded", "canceled", "processing"):
            intent = _cancel(payment, intent)
        if intent.status == "succeeded":
            return _charged(payment, intent)
        if intent.status != "canceled":
            raise NotSettledYet(f"payment intent {intent.id} is {intent.status}")
    now = timezone.now()
    if Payment.objects.filter(pk=payment.pk, status=Payment.Status.FAILED).update(intent_canceled_at=now):
        return Result(Payment.Status.FAILED, payment.last_error or "canceled")  # its own reason stands
    return record(payment, Payment.Status.FAILED, "Canceled before payment completed.", intent_canceled_at=now)


def _cancel(payment, intent):
    """Cancel the intent at Stripe; return it as Stripe has it after (canceled, or succeeded
    if a confirm got there first)."""
    try:
        return gateway.cancel_intent(intent.id, order_id=payment.order_id)
    except stripe.InvalidRequestError as exc:  # it moved meanwhile: Stripe's state decides
        logger.info("payment %s: cancel %s: %s", payment.pk, intent.id, exc)
        return _saved_intent(intent.id)


def _save_once(payment, field, value, **also):
    """Set an empty field (and `also`, with it); if a concurrent run set it first, keep (and
    return) theirs."""
    if Payment.objects.filter(Q(**{field: ""}) | Q(**{f"{field}__isnull": True}), pk=payment.pk).update(
            **{field: value}, **also):
        for name, written in {field: value, **also}.items():  # ours are in the row: no read back
            setattr(payment, name, written)
        return payment
    payment.refresh_from_db()  # theirs
    return payment


def _save_intent(payment, intent_id, may_save_intent, **also):
    """Save the intent id only if the guard allows it, in the guard's transaction (it holds
    the order's row lock): a canceled order never gets an intent confirmed."""
    with transaction.atomic():
        if may_save_intent():
            return _save_once(payment, "payment_intent_id", intent_id, **also)
    payment.refresh_from_db()
    return payment


def _cancel_quietly(intent_id):
    try:
        gateway.cancel_intent(intent_id)
    except stripe.StripeError as exc:  # an unconfirmed spare intent can never charge anyway
        logger.warning("could not cancel spare payment intent %s: %s", intent_id, exc)


def _describe(exc):
    return f"{exc.code or type(exc).__name__}: {exc.user_message or exc}"

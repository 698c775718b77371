"""orders.state.transition: the only way an order's status changes."""

import pytest

from orders.models import Order, OrderEvent, OrderStatus
from orders.state import ALLOWED, IllegalTransition, transition


@pytest.fixture
def order(db):
    return Order.objects.create(email="a@example.com", shipping_address={}, payment_method="pm_card_visa",
                                total=100, currency="usd")


def test_a_legal_transition_moves_the_order_and_logs_an_event(order):
    assert transition(order.id, "pending", "paid", message="charged", actor="fulfill_order") is True

    order.refresh_from_db()
    assert order.status == "paid"
    event = OrderEvent.objects.get(order=order)
    assert (event.from_status, event.to_status, event.message, event.actor) == ("pending", "paid", "charged",
                                                                                 "fulfill_order")


def test_an_illegal_transition_raises_and_writes_nothing(order):
    with pytest.raises(IllegalTransition):
        transition(order.id, "pending", "fulfilled")

    order.refresh_from_db()
    assert order.status == "pending" and not OrderEvent.objects.exists()


def test_a_transition_from_a_status_the_order_left_does_nothing(order):
    transition(order.id, "pending", "paid")

    assert transition(order.id, "pending", "payment_failed") is False
    order.refresh_from_db()
    assert order.status == "paid" and OrderEvent.objects.count() == 1


def test_a_refunded_order_leads_nowhere_but_to_review_when_its_refund_fails_later():
    assert ALLOWED["refunded"] == {"needs_review"}


@pytest.mark.parametrize("final", ["payment_failed", "canceled"])
def test_an_order_that_ended_uncharged_moves_only_if_stripe_charged_it_after_all(final):
    """Refunded automatically (orders/voiding.py), or to review if that refund fails."""
    assert ALLOWED[final] == {"refunded", "needs_review"}


def test_every_status_of_the_contract_is_in_the_machine():
    assert set(ALLOWED) == set(OrderStatus.values) == {
        "pending", "requires_action", "paid", "fulfilled", "payment_failed", "canceled", "refunded", "needs_review"}

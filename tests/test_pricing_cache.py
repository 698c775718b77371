"""Checkout prices shipping and tax from a cache that is never stale: one GET of the pricing's
version per checkout once warm (catalog.cache.pinned), and the values this process remembers
at that version; any change to a method or a rate moves the version on, and a Redis that lost
its data never makes a remembered price current again."""

import pytest
from django.core.cache import cache
from django.core.management import call_command

from catalog import cache as versioned
from orders import totals
from shipping.models import ShippingMethod

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    call_command("seed_catalog", stdout=open("/dev/null", "w"))


def gb_standard():
    """The cheapest method to GB for one mug, and its price as checkout would charge it."""
    line = totals.LineTotal("MUG-001", 1, 1, 1800, weight_grams=400)
    figures = totals.compute([line], country="GB", currency="usd")
    return figures.method.code, figures.shipping


class Counting:
    """Counts the cache calls made through django.core.cache.cache."""

    def __init__(self, monkeypatch):
        self.calls = []
        for name in ("get", "get_many"):
            real = getattr(cache, name)
            monkeypatch.setattr(cache, name, self.wrap(name, real))

    def wrap(self, name, real):
        def call(*args, **kwargs):
            self.calls.append(name)
            return real(*args, **kwargs)
        return call


def test_a_warm_checkout_prices_shipping_and_tax_from_one_get_and_no_query(demo, monkeypatch,
                                                                            django_assert_num_queries):
    assert gb_standard() == ("uk-standard", 600)  # warm: built from the database, remembered
    counting = Counting(monkeypatch)

    with django_assert_num_queries(0):
        assert gb_standard() == ("uk-standard", 600)

    assert counting.calls == ["get"]  # the pricing's version; the methods and rates are remembered


def test_a_method_changed_in_the_admin_is_charged_by_the_next_checkout(demo, django_capture_on_commit_callbacks):
    assert gb_standard() == ("uk-standard", 600)
    method = ShippingMethod.objects.get(code="uk-standard")
    method.price = 650
    with django_capture_on_commit_callbacks(execute=True):  # the version moves on once it commits
        method.save()

    assert gb_standard() == ("uk-standard", 650)


def test_redis_losing_its_data_never_makes_a_remembered_price_current_again(demo):
    client = cache._cache.get_client(write=True)
    client.set(cache.make_key("pricing:version"), 5)
    assert gb_standard() == ("uk-standard", 600)  # remembered at version 5
    ShippingMethod.objects.filter(code="uk-standard").update(price=700)  # no signal: no bump yet
    # Redis restarted empty (the pricing's keys gone), and then five changes were committed:
    client.delete(*client.keys(cache.make_key("pricing:*")), *client.keys(cache.make_key("shipping:*")),
                  *client.keys(cache.make_key("tax:*")))
    for _ in range(5):
        versioned._bump(versioned.PRICING)

    # Counting from 1 again would reach 5 and serve the remembered 600: a missing version
    # starts from the clock instead, above every version counted before.
    assert int(client.get(cache.make_key("pricing:version"))) > 5
    assert gb_standard() == ("uk-standard", 700)

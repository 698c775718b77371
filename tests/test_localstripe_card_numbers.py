"""The dev Stripe (localstripe, as harbor.devservices runs it) refuses a card number that is
not all digits, as Stripe does, instead of storing a card whose last4 is "42 4"."""

import requests
from django.conf import settings


def create_card(number):
    return requests.post(f"{settings.STRIPE_API_BASE}/v1/payment_methods", auth=(settings.STRIPE_SECRET_KEY, ""),
                         data={"type": "card", "card[number]": number, "card[exp_month]": "12",
                               "card[exp_year]": "34", "card[cvc]": "123"}, timeout=10)


def test_a_card_number_with_spaces_or_letters_is_refused():
    for number in ("4242 4242 4242 4", "4242-4242-4242-4", "42424242424242x2"):
        response = create_card(number)
        assert response.status_code == 402, number
        assert response.json()["error"]["code"] == "incorrect_number"


def test_the_digits_are_a_card():
    response = create_card("4242424242424242")
    assert response.status_code == 200 and response.json()["card"]["last4"] == "4242"

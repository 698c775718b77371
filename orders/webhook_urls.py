from django.urls import path

from orders.webhooks import stripe_webhook

# Mounted at /payments/ by harbor/urls.py: the address Stripe is configured with (the contract's).
urlpatterns = [path("webhooks/stripe/", stripe_webhook, name="stripe-webhook")]

"""Payments: the Stripe gateway wrapper, Payment rows and webhooks (fulfillment pipeline)."""

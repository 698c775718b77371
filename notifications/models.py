"""Notifications: receipt and failure e-mails, one row per message sent (fulfillment pipeline)."""

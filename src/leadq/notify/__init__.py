"""Delivery adapters: signed webhooks and e-mail. The outbox worker calls them."""

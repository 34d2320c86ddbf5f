"""Tier domain: support tiers, tier history, published statistics."""

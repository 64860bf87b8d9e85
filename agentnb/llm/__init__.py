"""Talking to the model: conversations, models and prices, the SDK client, record and replay."""

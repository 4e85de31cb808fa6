"""Blueprints of the gateway, one per channel Twilio or Rasa calls."""

"""Twilio's side of the gateway: request signatures and the REST client."""

"""Playing Twilio's side without Twilio: signed webhooks and a REST API double.

The simulator command and the tests both use these, on loopback only.
"""

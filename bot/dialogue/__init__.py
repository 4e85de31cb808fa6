"""The gateway's side of the Rasa dialogue: turns out, responses in."""

"""Rasa NLU components of the hotline, loaded by name from config.yml."""

"""Conformance suite for SCA consent flows: client, checks, action catalog, pytest plugin."""

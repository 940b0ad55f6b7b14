"""Conformance suite for SCA consent flows: client, checks, action catalog, pytest plugin."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sca-conformance")
except PackageNotFoundError:  # a checkout on sys.path, never installed
    __version__ = "0+unknown"

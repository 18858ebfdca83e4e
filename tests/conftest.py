"""Shared pytest configuration: every test runs offline against servers on 127.0.0.1."""

import os

# Scrapy/tldextract must never try the network, even in a test that forgets to configure it.
os.environ.setdefault("GOVWATCH_OFFLINE", "1")

"""Headless Chromium settings shared by the end-to-end tests and the load benchmark.

Debian's chromium (never a browser download); the flags keep it off the network, which this
host does not reach (without them Chromium retries refused connections at every start).
"""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

"""Plumbing: the clock, configuration, HTTP with its retry policy, threads for CPU work, encryption, leases and caches
in the store. No use case lives here."""

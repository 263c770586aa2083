"""Test-only parts that run for real on loopback: a fault-injecting proxy and a platform process."""

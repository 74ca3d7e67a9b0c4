"""Reusable Keras layers of astrokeras; each is registered and round-trips through .keras files."""

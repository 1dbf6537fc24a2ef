"""Shared helpers: image coercion and Hub I/O."""

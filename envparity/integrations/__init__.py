"""Integrations with the tools an ML platform already runs; each imports its tool only when used."""

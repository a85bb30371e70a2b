"""Probes, one per concern, and :func:`capture`, which assembles them into a Snapshot.

The modules ``packages``, ``python``, ``envvars`` and ``blas`` use the standard library only (plus
threadpoolctl, which is shipped to the child): ``snapshot --python`` runs them inside a foreign
interpreter where envparity is not installed. Keep them that way.
"""

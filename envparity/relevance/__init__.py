"""Relevance: which installed distributions can reach the model.

A baseline learns it two ways, both recorded as instance data (never in the fingerprint):

- the distributions that have a module loaded in the process that took the snapshot
  (:func:`.distributions.loaded`), when the snapshot is taken inside the training process;
- what a model artifact needs (:func:`.artifacts.inspect`): the modules its pickle streams
  reference, read from their opcodes and never executed, mapped to the installed distributions
  that own them and closed over their Requires-Dist.

:mod:`.relevant` turns a baseline's record into the relevant set the drift engine judges
packages by. Stdlib only: the start-up hook may import it.
"""

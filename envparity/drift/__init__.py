"""Drift: every difference between two environments that can change a model, as plain data.

Layout:

- :mod:`.severity` -- severity order, fail-on and :func:`~.severity.reaches` (stdlib only);
- :mod:`.rules` -- simple field rules, one data row each (section, field, severity, why, todo);
- :mod:`.packages` -- package versions, with the ML-aware table of libraries whose models or
  pickles do not survive a version change;
- :mod:`.devices` -- CPU, GPU, accelerator and BLAS/OpenMP runtimes;
- :mod:`.variables` -- environment and determinism variables, seeds and code, grouped by root
  cause (time zone, thread count, locale);
- :mod:`.measured` -- numeric probes and benchmarks;
- :mod:`.policy` -- the policy's rules (ignore globs, severity overrides, fail-on) and the reading
  and validation of ``[tool.envparity]``; ``envparity.policy.Policy`` delegates to it;
- :mod:`.engine` -- :func:`~.engine.compare`: probe errors, grouping, redaction, policy,
  ordering and the verdict, on the plain JSON dicts of a snapshot.

Nothing here imports pydantic except :mod:`.measured` when measurements are present; the
pydantic ``DriftReport`` is built by ``envparity.compare`` at the API boundary.
"""

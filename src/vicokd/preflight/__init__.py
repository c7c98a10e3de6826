"""The pre-flight check: what a run needs, checked in seconds before anything runs
(:mod:`vicokd.preflight.checks`, the library; :mod:`vicokd.preflight.hook`, the Kedro hook)."""

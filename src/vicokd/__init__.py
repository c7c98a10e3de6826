"""ViCoKD: view-aware cross-modal knowledge distillation for multi-view action recognition."""
import os

__version__ = "0.1.0"

# Idle OpenMP threads (torch's thread pool) sleep at once instead of spinning: beside a busy process,
# spinning threads wait on a descheduled one and a training step took 2-10x longer
# (benchmarks/busy_machine.py, docs/performance.md). OpenMP reads this when torch is first imported,
# so it is set before; a value already in the environment is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

"""The cores a run may use and the pools sized to them (vicokd.processes)."""
import json
import logging
import os
import subprocess
import sys
import textwrap

import pytest

from vicokd.processes import (
    Parallelism,
    beside_loaders,
    cgroup_cpu_quota,
    fit_to_cores,
    usable_cores,
)


@pytest.mark.parametrize(("content", "quota"), [("150000 100000\n", 1.5), ("max 100000\n", None),
                                                ("200000 50000", 4.0), ("garbage", None)])
def test_cgroup_quota_is_quota_over_period(tmp_path, content, quota):
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text(content)
    assert cgroup_cpu_quota(cpu_max) == quota
    assert cgroup_cpu_quota(tmp_path / "absent") is None


def test_usable_cores_is_the_affinity_capped_by_the_quota_rounded_down(tmp_path):
    affinity = len(os.sched_getaffinity(0))
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("max 100000")
    assert usable_cores(cpu_max) == affinity
    cpu_max.write_text("150000 100000")  # 1.5 CPUs: one whole core
    assert usable_cores(cpu_max) == 1
    cpu_max.write_text("50000 100000")  # half a CPU: still one
    assert usable_cores(cpu_max) == 1
    cpu_max.write_text(f"{100000 * (affinity + 3)} 100000")  # a quota above the affinity
    assert usable_cores(cpu_max) == affinity


@pytest.mark.parametrize(("asked", "cores", "fitted"), [
    ((2, 1), 2, (2, 1)),   # fits: unchanged
    ((1, 8), 2, (1, 2)),   # threads shrink to the cores
    ((2, 2), 2, (2, 1)),   # threads shrink first, processes stay
    ((4, 1), 2, (2, 1)),   # then processes
    ((0, 1), 3, (1, 1)),   # 0 workers: the calling process alone
    ((3, 4), 16, (3, 4)),
    ((3, 4), 7, (3, 2)),
])
def test_fit_to_cores_never_exceeds_the_cores(asked, cores, fitted):
    size = fit_to_cores("test", *asked, cores=cores)
    assert size == Parallelism(*fitted)
    assert size.workers * size.threads <= cores


def test_a_shrunk_request_is_logged_at_info(caplog):
    with caplog.at_level(logging.INFO, logger="vicokd.processes"):
        fit_to_cores("simulation.workers", 4, 2, cores=2)
    assert "simulation.workers: 4 process(es) × 2 thread(s) asked for, 2 core(s) usable: 2 × 1" \
        in caplog.text


def test_a_process_pinned_to_one_core_starts_a_pool_of_one_single_threaded_worker(tmp_path):
    """A subprocess pinned to one core (os.sched_setaffinity) asks for 2 workers × 2 threads: it
    gets one worker process, whose torch, OpenMP and BLAS pools have one thread."""
    (tmp_path / "probe.py").write_text(textwrap.dedent("""
        import os

        def threads():
            import torch
            from threadpoolctl import threadpool_info
            return {"pid": os.getpid(), "torch": torch.get_num_threads(),
                    "omp": os.environ["OMP_NUM_THREADS"],
                    "pools": sorted({p["num_threads"] for p in threadpool_info()})}
    """))
    script = textwrap.dedent("""
        import json, os
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        from vicokd.processes import spawned_pool, usable_cores
        import probe
        pool = spawned_pool(2, 2, what="test")
        reports = [pool.submit(probe.threads).result() for _ in range(2)]
        pool.shutdown()
        print(json.dumps({"cores": usable_cores(), "workers": pool._max_workers,
                          "reports": reports}))
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          timeout=300, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["cores"] == 1 and result["workers"] == 1
    assert len({report["pid"] for report in result["reports"]}) == 1  # one worker ran every task
    for report in result["reports"]:
        assert report["torch"] == 1 and report["omp"] == "1" and report["pools"] == [1]


@pytest.mark.parametrize(("loaders", "cores", "fitted"), [(0, 2, (0, 2)), (1, 2, (1, 1)),
                                                           (8, 2, (1, 1)), (4, 16, (4, 12))])
def test_dataloader_processes_leave_a_core_and_threads_take_the_rest(monkeypatch, loaders, cores,
                                                                      fitted):
    monkeypatch.setattr("vicokd.processes.usable_cores", lambda: cores)
    assert beside_loaders("test", loaders) == Parallelism(*fitted)


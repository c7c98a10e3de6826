"""The training loop in several processes (DDP over gloo on the CPU), with gradient accumulation,
DataLoader workers and the data-wait measurement.

Two processes are forked here and joined by environment variables, as ``torchrun`` starts them.
The compared runs distil with feature, logit and view-consistency terms and no supervision: each is
a mean over clips, so a batch split into equal micro-batches has the same gradient (the Two-way
loss is not: its sample-wise term sees only the clips of one micro-batch). Dropout is off, since its
masks are drawn per process.
"""
import math
import multiprocessing
import os
import socket
import time

import pytest
import torch
from training_helpers import (
    FEATURE,
    LOGIT,
    VIEW_CONSISTENCY,
    RandomClips,
    TinyModel,
    make_recipe,
    make_settings,
    make_supervision,
)

from vicokd.training.distributed import EpochShard, launch
from vicokd.training.loop import BEST, LAST, NonFiniteLossError, fit
from vicokd.training.objectives import Objective

SUPERVISION = make_supervision(frame=0.0, sequence=0.0)
RECIPE = make_recipe(feature=FEATURE, logit=LOGIT, view_consistency=VIEW_CONSISTENCY)
#: Weights (absolute) and losses (relative) of a run split into micro-batches differ from the
#: whole-batch run by float rounding only (measured: 3e-8 in weights, 2e-6 in the logit term; the
#: view-consistency term of these clips is ~1e-9, compared to 1e-10 absolute).
TOLERANCE = 1e-5


def models():
    """The student (dropout off) and its frozen teacher, seeded."""
    torch.manual_seed(1)
    teacher = TinyModel(with_audio=True).eval().requires_grad_(False)
    torch.manual_seed(0)
    student = TinyModel()
    student.dropout.p = 0.0
    return student, teacher


def scores_by_epoch(epoch_scores):
    """An evaluator returning ``epoch_scores[i]`` as validation sequence-level mAP at its i-th call,
    counting its calls."""
    calls = []

    def evaluate(model):
        calls.append(len(calls))
        value = epoch_scores[len(calls) - 1]
        return {"val_seq_map": value, "test_seq_map": 0.0, "val_map": 0.0, "test_map": 0.0}

    evaluate.calls = calls
    return evaluate


class Stop(Exception):
    """Interrupts training after an epoch."""


def train(run_dir, clips, evaluate, stop_after=None, **settings):
    student, teacher = models()

    def on_epoch_end(epoch):
        if epoch == stop_after:
            raise Stop

    try:
        result = fit(student, Objective(SUPERVISION, RECIPE, teacher), clips, evaluate,
                     make_settings(**settings), run_dir, seed=0, fingerprint="f",
                     on_epoch_end=on_epoch_end)
    except Stop:
        return None
    return result


def in_processes(function, count):
    """Run ``function(rank)`` in ``count`` forked processes that form one torch.distributed job, as
    ``torchrun`` would start them (``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``/``PORT``)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    def child(rank):
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE=str(count),
                          NODE_RANK="0", LOCAL_RANK=str(rank))
        torch.set_num_threads(1)  # a forked child must not enter the parent's OpenMP pool: it would hang
        function(rank)

    processes = [multiprocessing.get_context("fork").Process(target=child, args=(rank,), daemon=True)
                 for rank in range(count)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    for process in processes:
        if process.is_alive():
            process.kill()
    assert [process.exitcode for process in processes] == [0] * count


def test_two_processes_train_as_one_with_the_same_global_batch(tmp_path):
    clips = RandomClips(12)
    epoch_scores = [10.0, 30.0, 20.0]
    reference = train(tmp_path / "one", clips, scores_by_epoch(epoch_scores))

    def two_processes(stop_after):
        def run(rank):
            evaluate = scores_by_epoch(epoch_scores[:1] if stop_after else epoch_scores[1:])
            result = train(tmp_path / f"two{rank}", clips, evaluate, stop_after=stop_after,
                           devices=2, accumulate_grad_batches=2)
            torch.save({"result": result and {"state_dict": result.state_dict,
                                              "best_epoch": result.best_epoch,
                                              "history": result.history.to_dict("list")},
                        "evaluations": len(evaluate.calls)}, tmp_path / f"rank{rank}.pt")
        return run

    # per process: micro-batches of 1 clip, 2 per step: 2 × 2 × 1 = the batch of 4
    in_processes(two_processes(stop_after=1), 2)
    assert (tmp_path / "two0" / LAST).is_file() and not (tmp_path / "two1").exists()
    in_processes(two_processes(stop_after=None), 2)  # resumes at epoch 2 in both processes
    ranks = [torch.load(tmp_path / f"rank{rank}.pt", weights_only=False) for rank in (0, 1)]
    assert [rank["evaluations"] for rank in ranks] == [2, 0]  # epochs 2 and 3, in process 0 only
    assert not (tmp_path / "two1").exists()  # process 1 never writes a checkpoint
    first, second = (rank["result"] for rank in ranks)
    assert first["history"] == second["history"]
    assert first["best_epoch"] == second["best_epoch"] == reference.best_epoch == 2
    assert torch.load(tmp_path / "two0" / LAST, weights_only=True)["epoch"] == 3
    assert (tmp_path / "two0" / BEST).is_file()
    for key, value in reference.state_dict.items():
        assert torch.equal(first["state_dict"][key], second["state_dict"][key]), key
        assert torch.allclose(first["state_dict"][key], value, rtol=0, atol=TOLERANCE), key
    for column in ("loss", "loss.feature", "loss.logit", "loss.view_consistency", "vc.loss"):
        assert first["history"][column] == pytest.approx(list(reference.history[column]),
                                                          rel=TOLERANCE, abs=1e-10), column
    assert first["history"]["val_seq_map"] == epoch_scores


def test_accumulated_micro_batches_train_as_the_whole_batch(tmp_path):
    clips = RandomClips(13)  # the last step has 1 clip: a shorter accumulation
    whole = train(tmp_path / "whole", clips, scores_by_epoch([1.0, 2.0, 3.0]))
    accumulated = train(tmp_path / "accumulated", clips, scores_by_epoch([1.0, 2.0, 3.0]),
                        accumulate_grad_batches=4)
    for key, value in whole.state_dict.items():
        assert torch.allclose(accumulated.state_dict[key], value, rtol=0, atol=TOLERANCE), key
    assert accumulated.history["loss"].to_numpy() == pytest.approx(
        whole.history["loss"].to_numpy(), rel=TOLERANCE)
    assert accumulated.history["lr"].to_numpy() == pytest.approx(whole.history["lr"].to_numpy())


def test_shards_of_a_step_are_the_clips_of_one_batch():
    size, batch, processes = 13, 4, 2
    order = list(EpochShard(size, 1, 0, torch.Generator().manual_seed(5)))
    shards = [list(EpochShard(size, processes, rank, torch.Generator().manual_seed(5)))
              for rank in range(processes)]
    assert sorted(order) == list(range(size))
    assert [len(shard) for shard in shards] == [7, 7]  # 13 clips padded to 14 with the first one
    micro = batch // processes
    for step in range(math.ceil(size / batch)):
        together = [clip for shard in shards for clip in shard[step * micro:(step + 1) * micro]]
        assert sorted(together) == sorted((order + order[:1])[step * batch:(step + 1) * batch])


def test_workers_load_the_same_epochs_as_the_main_process(tmp_path):
    in_process = train(tmp_path / "main", RandomClips(8), scores_by_epoch([1.0, 2.0]), epochs=2)
    with_workers = train(tmp_path / "workers", RandomClips(8), scores_by_epoch([1.0, 2.0]), epochs=2,
                         num_workers=2)
    for key, value in in_process.state_dict.items():
        assert torch.equal(with_workers.state_dict[key], value), key
    assert with_workers.history["loss"].tolist() == in_process.history["loss"].tolist()


class SlowClips(RandomClips):
    """Clips that take ``delay`` seconds each to load."""

    delay = 0.05

    def __getitem__(self, i):
        time.sleep(self.delay)
        return super().__getitem__(i)


def test_data_wait_share_is_the_time_blocked_on_batches(tmp_path):
    fast = train(tmp_path / "fast", RandomClips(8), scores_by_epoch([1.0]), epochs=1)
    slow = train(tmp_path / "slow", SlowClips(8), scores_by_epoch([1.0]), epochs=1)
    assert 0.0 <= fast.history["data_wait_share"].iloc[0] < 1.0
    # 0.2 s of loading per batch of 4 against milliseconds of computing
    assert slow.history["data_wait_share"].iloc[0] > 0.5
    assert slow.history["data_wait_share"].iloc[0] > fast.history["data_wait_share"].iloc[0]


def test_batch_size_must_split_into_whole_micro_batches():
    assert make_settings(batch_size=12, devices=2, accumulate_grad_batches=3).micro_batch_size == 2
    with pytest.raises(ValueError, match=r"batch_size=12 is not divisible by .* 2 × 1 × 4"):
        make_settings(batch_size=12, devices=2, accumulate_grad_batches=4)


def test_several_processes_need_a_launcher():
    assert "LOCAL_RANK" not in os.environ
    with pytest.raises(ValueError, match=r"not started by a launcher: run e\.g\. `torchrun --nproc-per-node 2"):
        launch(make_settings(devices=2))


def test_an_error_in_one_process_stops_every_process(tmp_path):
    class PoisonedInProcessOne(Objective):
        def __call__(self, model, batch):
            step = super().__call__(model, batch)
            if torch.distributed.get_rank() == 1:
                step.terms["logit"] = step.terms["logit"] * float("nan")
            return step

    def failing_evaluation(model):
        raise ValueError("no validation clips")

    def run(rank, objective, evaluate):
        student, teacher = models()
        try:
            fit(student, objective(SUPERVISION, RECIPE, teacher), RandomClips(8), evaluate,
                make_settings(devices=2, epochs=1), tmp_path / "run", seed=0, fingerprint="f")
        except (NonFiniteLossError, ValueError, RuntimeError) as error:
            (tmp_path / f"error{rank}").write_text(f"{type(error).__name__}: {error}")

    in_processes(lambda rank: run(rank, PoisonedInProcessOne, scores_by_epoch([1.0])), 2)
    for rank in (0, 1):  # a term that is NaN in process 1 only stops both at the same batch
        assert "NonFiniteLossError" in (tmp_path / f"error{rank}").read_text()
        assert "'logit' is nan at epoch 1, batch 0" in (tmp_path / f"error{rank}").read_text()
    in_processes(lambda rank: run(rank, Objective, failing_evaluation), 2)
    assert (tmp_path / "error0").read_text() == "ValueError: no validation clips"
    assert (tmp_path / "error1").read_text() == (
        "RuntimeError: Process 0 failed: ValueError: no validation clips")

import json
import math

import pytest
import torch
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from training_helpers import (
    VIEW_CONSISTENCY,
    RandomClips,
    make_recipe,
    make_settings,
    make_supervision,
)

from vicokd.training import loop
from vicokd.training.loop import BEST, FINISHED, LAST, NonFiniteLossError, finished_id, fit
from vicokd.training.objectives import Objective, weighted_total
from vicokd.training.settings import TrainingSettings

SUPERVISION = make_supervision()
RECIPE = make_recipe(view_consistency=VIEW_CONSISTENCY)
SETTINGS = make_settings()


def scripted(val_maps, test_maps, frame_maps=None):
    """An evaluator returning preset mAPs per call (epoch): validation and test sequence-level mAP,
    and frame-level mAPs (by default the reverse of validation's, to tempt a wrong selection)."""
    frame_maps = frame_maps or [100.0 - v for v in val_maps]
    calls = iter(zip(val_maps, test_maps, frame_maps))

    def evaluate(model):
        val, test, frame = next(calls)
        return {"val_seq_map": val, "test_seq_map": test, "val_map": frame, "test_map": frame}

    return evaluate


def train(tmp_path, clips, model_cls, settings=SETTINGS, evaluate=None, seed=0, init_seed=0,
          **kwargs):
    torch.manual_seed(init_seed)
    model = model_cls()
    result = fit(
        model, Objective(SUPERVISION, RECIPE), clips,
        evaluate or scripted([10.0, 30.0, 20.0], [5.0, 6.0, 99.0]),
        settings, tmp_path / "run", seed=seed, fingerprint="f1", **kwargs,
    )
    return model, result


def test_history_and_best_epoch_chosen_on_validation_not_test(tmp_path, clips, tiny_model):
    model, result = train(tmp_path, clips, tiny_model)
    history = result.history
    assert list(history["epoch"]) == [1, 2, 3]
    assert {"lr", "seconds", "loss", "loss.frame", "loss.sequence", "loss.view_consistency",
            "vc.loss", "vc.confidence_weight", "vc.active_pair_share",
            "val_map", "test_map", "val_seq_map", "test_seq_map"} <= set(history.columns)
    # the loss is the weighted sum of its terms (all weights 1)
    terms = history[["loss.frame", "loss.sequence", "loss.view_consistency"]].sum(axis=1)
    assert history["loss"].to_numpy() == pytest.approx(terms.to_numpy(), rel=1e-5)
    # cosine schedule: the learning rate decreases from the initial value
    assert history["lr"].iloc[0] == pytest.approx(1e-2)
    assert history["lr"].is_monotonic_decreasing
    # the best validation sequence-level mAP wins: not test (99 at epoch 3), not frame level (epoch 1)
    assert result.best_epoch == 2 and result.best_value == 30.0
    best_on_disk = torch.load(tmp_path / "run" / BEST, weights_only=True)
    assert all(torch.equal(best_on_disk[k], v) for k, v in result.state_dict.items())
    # the final model is epoch 3, which differs from the best (epoch 2) weights
    assert not torch.equal(model.state_dict()["head.weight"], result.state_dict["head.weight"])
    assert torch.load(tmp_path / "run" / LAST, weights_only=True)["epoch"] == 3


def test_resume_after_interruption_matches_an_uninterrupted_run(tmp_path, clips, tiny_model):
    _, reference = train(tmp_path / "reference", clips, tiny_model)

    def interrupt(epoch):
        if epoch == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(tmp_path, clips, tiny_model, evaluate=scripted([10.0], [5.0]), on_epoch_end=interrupt)
    assert torch.load(tmp_path / "run" / LAST, weights_only=True)["epoch"] == 1

    seen = []
    # another initialisation of the fresh model: resuming must replace it with epoch 1's weights
    _, resumed = train(tmp_path, clips, tiny_model, evaluate=scripted([30.0, 20.0], [6.0, 99.0]),
                       init_seed=123, on_epoch_end=seen.append)
    assert seen == [2, 3]
    assert list(resumed.history["epoch"]) == [1, 2, 3]
    for key, value in reference.state_dict.items():
        assert torch.equal(resumed.state_dict[key], value), key
    assert resumed.history["loss"].to_numpy() == pytest.approx(reference.history["loss"].to_numpy())


def test_a_finished_run_is_reused_with_the_id_minted_when_it_finished(tmp_path, clips, tiny_model):
    _, first = train(tmp_path, clips, tiny_model)
    assert first.trained_epochs == 3 and first.finished_id
    assert torch.load(tmp_path / "run" / LAST, weights_only=True)["finished_id"] == first.finished_id
    seen = []
    _, again = train(tmp_path, clips, tiny_model, evaluate=scripted([], []), on_epoch_end=seen.append)
    assert seen == [] and again.trained_epochs == 0  # nothing trained, nothing evaluated
    assert again.finished_id == first.finished_id and again.best_epoch == first.best_epoch
    _, other = train(tmp_path / "other", clips, tiny_model)  # the same training elsewhere
    assert other.finished_id != first.finished_id


def test_whether_a_run_finished_is_read_without_the_training_state(tmp_path, clips, tiny_model,
                                                                    monkeypatch):
    _, first = train(tmp_path, clips, tiny_model)
    run_dir = tmp_path / "run"
    assert json.loads((run_dir / FINISHED).read_text()) == {
        "fingerprint": "f1", "epoch": 3, "finished_id": first.finished_id}
    monkeypatch.setattr(loop, "read_torch_file", not_read)
    assert finished_id(run_dir, "f1", 3) == first.finished_id
    assert finished_id(run_dir, "f2", 3) is None and finished_id(run_dir, "f1", 4) is None
    monkeypatch.undo()
    (run_dir / FINISHED).unlink()  # as a folder written before the summary existed: read once
    assert finished_id(run_dir, "f1", 3) == first.finished_id and (run_dir / FINISHED).is_file()

    def stop(epoch):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # another training in the folder: its first epoch ...
        fit(tiny_model(), Objective(SUPERVISION, RECIPE), clips, scripted([10.0], [5.0]),
            SETTINGS, run_dir, seed=0, fingerprint="f2", on_epoch_end=stop)
    assert not (run_dir / FINISHED).exists()  # ... leaves no summary of the run it replaced
    assert finished_id(run_dir, "f1", 3) is None and finished_id(run_dir, "f2", 1) is None


def not_read(*args, **kwargs):
    raise AssertionError("the training state was read")


def test_an_interrupted_run_gets_its_id_when_it_finishes(tmp_path, clips, tiny_model):
    def interrupt(epoch):
        if epoch == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(tmp_path, clips, tiny_model, evaluate=scripted([10.0], [5.0]), on_epoch_end=interrupt)
    assert torch.load(tmp_path / "run" / LAST, weights_only=True)["finished_id"] is None
    _, resumed = train(tmp_path, clips, tiny_model, evaluate=scripted([30.0, 20.0], [6.0, 99.0]))
    assert resumed.trained_epochs == 2 and resumed.finished_id


def test_checkpoint_of_another_configuration_is_not_resumed(tmp_path, clips, tiny_model):
    train(tmp_path, clips, tiny_model)
    torch.manual_seed(0)
    seen = []
    fit(tiny_model(), Objective(SUPERVISION, RECIPE), clips, scripted([1.0] * 3, [1.0] * 3),
        SETTINGS, tmp_path / "run", seed=0, fingerprint="other", on_epoch_end=seen.append)
    assert seen == [1, 2, 3]


def test_non_finite_loss_names_epoch_batch_and_term_and_keeps_last_checkpoint(
    tmp_path, clips, tiny_model
):
    class PoisonedObjective(Objective):
        def __call__(self, model, batch):
            step = super().__call__(model, batch)
            if clips.epoch == 2:
                step.terms["view_consistency"] = step.terms["view_consistency"] * float("nan")
            return step

    torch.manual_seed(0)
    with pytest.raises(NonFiniteLossError, match=r"'view_consistency' is nan at epoch 2, batch 0"):
        fit(tiny_model(), PoisonedObjective(SUPERVISION, RECIPE), clips,
            scripted([1.0] * 3, [1.0] * 3), SETTINGS, tmp_path / "run", seed=0, fingerprint="f")
    assert torch.load(tmp_path / "run" / LAST, weights_only=True)["epoch"] == 1


def test_unknown_or_mistyped_training_parameters_are_refused():
    values = make_settings().model_dump()
    with pytest.raises(ValueError, match="epoch"):
        TrainingSettings.model_validate({**values, "epoch": 3})
    with pytest.raises(ValueError, match="epochs"):
        TrainingSettings.model_validate({**values, "epochs": "ten"})
    with pytest.raises(ValueError, match="resume"):
        TrainingSettings.model_validate({**values, "resume": "false"})


def plain_pytorch_training(model, objective, clips, settings, seed):
    """The loop before Fabric, written out: Adam, cosine schedule over all steps, shuffling seeded
    with seed·100003 + epoch through a tqdm.auto bar (which starts each loader twice), one step per
    batch. Returns the mean batch loss of each epoch."""
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.learning_rate,
                                 weight_decay=settings.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=settings.epochs * math.ceil(len(clips) / settings.batch_size))
    torch.manual_seed(seed)
    losses = []
    for epoch in range(1, settings.epochs + 1):
        clips.set_epoch(epoch)
        loader = DataLoader(clips, batch_size=settings.batch_size, shuffle=True,
                            generator=torch.Generator().manual_seed(seed * 100_003 + epoch))
        model.train()
        total = 0.0
        for batch in tqdm(loader, disable=True):
            loss = weighted_total(objective.weights, objective(model, batch).terms)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item()
        losses.append(total / len(loader))
    return losses


def test_one_cpu_process_trains_exactly_as_plain_pytorch(tmp_path, tiny_model):
    clips = RandomClips(13)  # a short last batch
    model, result = train(tmp_path, clips, tiny_model, seed=3)
    torch.manual_seed(0)
    reference = tiny_model()
    losses = plain_pytorch_training(reference, Objective(SUPERVISION, RECIPE), clips, SETTINGS, 3)
    for key, value in reference.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    assert result.history["loss"].tolist() == losses


def test_checkpoints_wait_for_their_interval_and_the_last_epoch_is_always_written(
        tmp_path, clips, tiny_model):
    """With ``checkpoint_every_s`` longer than the run, only the last epoch writes ``last.pt`` and
    ``best.pt``; a run stopped before it leaves no resume state and retrains to the same weights."""
    settings = make_settings(checkpoint_every_s=3600)
    _, reference = train(tmp_path / "reference", clips, tiny_model, settings=settings)
    assert torch.load(tmp_path / "reference" / "run" / LAST, weights_only=True)["epoch"] == 3
    best = torch.load(tmp_path / "reference" / "run" / BEST, weights_only=True)
    assert all(torch.equal(best[k], v) for k, v in reference.state_dict.items())

    def interrupt(epoch):
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(tmp_path, clips, tiny_model, settings=settings, on_epoch_end=interrupt)
    assert not (tmp_path / "run" / LAST).exists() and not (tmp_path / "run" / BEST).exists()
    _, again = train(tmp_path, clips, tiny_model, settings=settings)
    assert again.best_epoch == reference.best_epoch
    assert all(torch.equal(again.state_dict[k], v) for k, v in reference.state_dict.items())

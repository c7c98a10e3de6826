"""Typed training blocks for the training tests, written out as a run table row would write them."""
from vicokd.training.recipes import Recipe, Supervision
from vicokd.training.settings import TrainingSettings


def make_supervision(frame: float = 1.0, sequence: float = 1.0, presence: float = 0.0,
                     actionness: float = 0.0, audio: bool = False) -> Supervision:
    """A supervision level with these weights (Two-way temperatures 4 and 1)."""
    return Supervision(name="level", audio=audio, frame=frame, sequence=sequence, presence=presence,
                       actionness=actionness, tp=4.0, tn=1.0)


#: Complete recipe blocks, as a run table row writes them.
FEATURE = {"weight": 1.0, "features": ["f_attn", "f_av"]}
LOGIT = {"weight": 1.0, "temperature": 4.0}
VIEW_CONSISTENCY = {"weight": 1.0, "confidence_weighting": True, "use_mask": True, "divergence": "js"}


def make_recipe(**blocks) -> Recipe:
    """A recipe from complete blocks (e.g. ``make_recipe(logit=LOGIT)``)."""
    return Recipe.model_validate(blocks)


def make_settings(**overrides) -> TrainingSettings:
    """Training settings for the loop tests (3 epochs of batch 4, lr 1e-2, CPU, no progress bar)."""
    values = dict(epochs=3, batch_size=4, learning_rate=1e-2, weight_decay=5e-4, num_frames=4,
                  accelerator="cpu", devices=1, num_nodes=1, strategy="auto", precision="bf16-mixed",
                  accumulate_grad_batches=1, gradient_checkpointing=False, num_workers=0,
                  pin_memory=True, prefetch_factor=2, num_threads=1, eval_batch_size=4,
                  cache_arrays=False, resume=True, progress=False, checkpoint_dir="runs")
    return TrainingSettings(**{**values, **overrides})

"""SpecAugment: masks are whole bands / frames set to the fill value, reproducible for a seed."""
import pytest
import torch

from vicokd.data.augment import SpecAugment


def _chunks(*shape: int) -> torch.Tensor:
    """Log-mel stand-ins that are never equal to the fill value used below (-9)."""
    return torch.rand(*shape, generator=torch.Generator().manual_seed(1)) + 1.0


def _seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_frequency_masks_are_whole_bands_set_to_the_fill_value():
    augment = SpecAugment(freq_mask_width=20, time_mask_width=0, num_freq_masks=2,
                          num_time_masks=0, fill_value=-9.0)
    log_mel = _chunks(5, 6, 40, 128)  # (V, T, L, M)
    out = augment(log_mel, _seeded(0))
    assert out.shape == log_mel.shape and out.dtype == log_mel.dtype
    masked = out == -9.0
    torch.testing.assert_close(out[~masked], log_mel[~masked])  # the rest is untouched
    band = masked.any(dim=2)  # (V, T, M): mel bins masked somewhere in a chunk ...
    assert torch.equal(masked, band[:, :, None, :].expand_as(masked))  # ... are masked at every frame
    # two bands of at most 19 bins each; the chunks draw their own masks
    assert band.sum(dim=-1).max() <= 2 * 19 and band.any()
    assert len({tuple(b.nonzero().ravel().tolist()) for b in band.reshape(30, 128)}) > 1


def test_time_masks_are_whole_frames():
    augment = SpecAugment(freq_mask_width=0, time_mask_width=8, num_freq_masks=0,
                          num_time_masks=1, fill_value=-9.0)
    out = augment(_chunks(2, 5, 3, 40, 16), _seeded(0))  # (B, V, T, L, M)
    assert out.shape == (2, 5, 3, 40, 16)
    masked = out == -9.0
    frames = masked.any(dim=-1)  # (B, V, T, L)
    assert torch.equal(masked, frames[..., None].expand_as(masked))
    assert frames.sum(dim=-1).max() <= 7 and frames.any()


def test_same_seed_same_masks_and_global_rng_untouched():
    augment = SpecAugment(freq_mask_width=24, time_mask_width=8)
    log_mel = _chunks(5, 4, 40, 128).half()
    state = torch.get_rng_state()
    first, again = augment(log_mel, _seeded(3)), augment(log_mel, _seeded(3))
    assert torch.equal(first, again) and first.dtype == torch.float16
    assert not torch.equal(first, augment(log_mel, _seeded(4)))
    assert torch.equal(torch.get_rng_state(), state)
    generator = _seeded(3)  # one generator, two calls: the second draws new masks
    assert not torch.equal(augment(log_mel, generator), augment(log_mel, generator))


def test_disabled_or_zero_masks_are_a_no_op():
    log_mel = _chunks(5, 4, 40, 128)
    off = SpecAugment(freq_mask_width=24, time_mask_width=8, enabled=False)
    assert off(log_mel, _seeded(0)) is log_mel
    none = SpecAugment(freq_mask_width=24, time_mask_width=8, num_freq_masks=0, num_time_masks=0)
    assert torch.equal(none(log_mel, _seeded(0)), log_mel)


def test_bad_shapes_and_settings_are_refused():
    augment = SpecAugment(freq_mask_width=24, time_mask_width=8)
    with pytest.raises(ValueError, match=r"\(V, T, L, M\).*\(40, 128\)"):
        augment(torch.zeros(40, 128))
    with pytest.raises(ValueError, match=">= 0"):
        SpecAugment(freq_mask_width=-1, time_mask_width=8)

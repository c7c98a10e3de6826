"""View-aware consistency: PAPER Eq. 10 and the variants that let it act.

:func:`view_consistency_loss` is Eq. 10 as the paper writes it. :func:`view_consistency` is the same
sum with four switches, each a departure from Eq. 10 that the run table may choose
(``docs/training.md``): per-class Bernoulli distributions on sigmoid scores instead of one class
distribution (the task is multi-label); normalisation by the number of active (pair, frame) entries
instead of ``N_pairs·T``; and the more confident view of each pair as a fixed (stop-gradient)
target, so that agreeing on uncertainty is not the cheap optimum.
"""
from typing import Literal

import torch

# Floor for the second argument of KL(p_i ‖ p_j): keeps the divergence finite when p_j has zeros.
_EPS = 1.0e-8

Distribution = Literal["categorical", "bernoulli"]
Divergence = Literal["js", "kl"]
Normalisation = Literal["pairs_frames", "active_entries"]
Target = Literal["symmetric", "confident_view"]


def _kl(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """KL(p ‖ q) along the last axis, natural log, with 0·log 0 = 0."""
    return (torch.xlogy(p, p) - torch.xlogy(p, q.clamp_min(_EPS))).sum(dim=-1)


def _divergence(p: torch.Tensor, q: torch.Tensor, divergence: str) -> torch.Tensor:
    """``JS(p, q)`` or ``KL(p ‖ q)`` along the last axis."""
    if divergence == "kl":
        return _kl(p, q)
    mid = 0.5 * (p + q)
    return 0.5 * _kl(p, mid) + 0.5 * _kl(q, mid)


def view_consistency(
    probs: torch.Tensor,
    masks: torch.Tensor,
    *,
    distribution: Distribution = "categorical",
    confidence_weighting: bool = True,
    use_mask: bool = True,
    divergence: Divergence = "js",
    normalisation: Normalisation = "pairs_frames",
    target: Target = "symmetric",
) -> torch.Tensor:
    """``Σ_{i<j} Σ_t w·m_i·m_j·D(p_i, p_j)`` over the view pairs and frames of a batch, normalised.

    With the defaults it is Eq. 10 (:func:`view_consistency_loss`).

    Args:
        probs: ``(B, V, T, C)`` per view and frame: a class distribution (``categorical``) or
            per-class probabilities of independent Bernoullis (``bernoulli``, e.g. sigmoid scores).
        masks: ``(B, V, T)`` visibility in {0, 1}.
        distribution: ``categorical``: D compares the class distributions; ``bernoulli``: D is
            the sum over classes of D between ``Bernoulli(p_c)`` and ``Bernoulli(q_c)``.
        confidence_weighting: ``w = max_c p_i · max_c p_j`` (detached: a weight, it does not train
            confidence down); False: ``w = 1``.
        use_mask: False: every mask is 1.
        divergence: ``js`` (``½KL(p‖m) + ½KL(q‖m)``, ``m = ½(p + q)``) or ``kl`` (``KL(p‖q)``).
        normalisation: ``pairs_frames``: each sample's sum over ``N_pairs·T``, mean over B (Eq. 10);
            ``active_entries``: the batch's sum over its number of (sample, pair, frame) entries
            with both masks 1 (0 when there is none).
        target: ``symmetric``: ``D(p_i, p_j)``, both views trained (Eq. 10); ``confident_view``:
            ``D(sg(p_a), p_b)`` with ``a`` the view of the pair whose ``max_c p`` is larger (``i``
            on a tie) as a stop-gradient target, ``b`` the other.

    Returns:
        A scalar tensor.
    """
    if probs.ndim != 4 or masks.shape != probs.shape[:3]:
        raise ValueError(
            f"view consistency expects probs (B, V, T, C) and masks (B, V, T), "
            f"got {tuple(probs.shape)} and {tuple(masks.shape)}"
        )
    for name, value, allowed in (("distribution", distribution, ("categorical", "bernoulli")),
                                 ("divergence", divergence, ("js", "kl")),
                                 ("normalisation", normalisation, ("pairs_frames", "active_entries")),
                                 ("target", target, ("symmetric", "confident_view"))):
        if value not in allowed:
            raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    _, views, frames, _ = probs.shape
    if views < 2:
        raise ValueError(f"view consistency needs at least 2 views, got {views}")
    i, j = torch.triu_indices(views, views, offset=1, device=probs.device)
    p = probs.float()
    confidence = p.detach().amax(dim=-1)  # (B, V, T)
    p_i, p_j = p[:, i], p[:, j]  # (B, pairs, T, C)
    if target == "confident_view":
        i_leads = (confidence[:, i] >= confidence[:, j]).unsqueeze(-1)
        p_i, p_j = (torch.where(i_leads, p_i, p_j).detach(), torch.where(i_leads, p_j, p_i))
    if distribution == "bernoulli":
        div = _divergence(torch.stack([p_i, 1 - p_i], dim=-1), torch.stack([p_j, 1 - p_j], dim=-1),
                          divergence).sum(dim=-1)
    else:
        div = _divergence(p_i, p_j, divergence)  # (B, pairs, T)
    active = torch.ones_like(div)
    if use_mask:
        m = masks.to(p.dtype)
        active = m[:, i] * m[:, j]
    weight = active * confidence[:, i] * confidence[:, j] if confidence_weighting else active
    total = weight * div
    if normalisation == "active_entries":
        return total.sum() / active.sum().clamp_min(1)
    return (total.sum(dim=(1, 2)) / (i.numel() * frames)).mean()


def view_consistency_loss(
    probs: torch.Tensor,
    masks: torch.Tensor,
    confidence_weighting: bool = True,
    use_mask: bool = True,
    divergence: str = "js",
) -> torch.Tensor:
    """Agreement between views where a person is visible in both (Eq. 10).

    ``L = mean_B [ 1/(N_pairs·T) Σ_{i<j} Σ_t w·m_i·m_j·D(p_i, p_j) ]`` with
    ``w = max_c p_i · max_c p_j`` (a weight: detached, so it does not train confidence down),
    ``D = JS`` (``½KL(p_i‖m) + ½KL(p_j‖m)``, ``m = ½(p_i + p_j)``) or ``KL(p_i‖p_j)``.

    Args:
        probs: ``(B, V, T, C)`` class distributions per view and frame.
        masks: ``(B, V, T)`` visibility in {0, 1}.
        confidence_weighting: False → ``w = 1`` (ablation "w/o ConfW").
        use_mask: False → every mask is 1 (ablation "w/o Mask").
        divergence: ``"js"`` or ``"kl"`` (ablation "JS→KL").
    """
    return view_consistency(probs, masks, confidence_weighting=confidence_weighting,
                            use_mask=use_mask, divergence=divergence)


@torch.no_grad()
def view_consistency_diagnostics(probs: torch.Tensor, masks: torch.Tensor) -> dict[str, float]:
    """What Eq. 10 has to act on in one batch.

    Args:
        probs: ``(B, V, T, C)`` class distributions per view and frame.
        masks: ``(B, V, T)`` visibility in {0, 1}.

    Returns:
        ``active_pair_share``: share of (view pair, frame) entries whose masks are both 1;
        ``confidence_weight``: mean of ``w = max_c p_i · max_c p_j`` over those entries (NaN when
        there are none); ``loss``: Eq. 10 itself (JS, masked, confidence-weighted).
    """
    views = probs.shape[1]
    i, j = torch.triu_indices(views, views, offset=1, device=probs.device)
    p = probs.float()
    m = masks.float()
    active = m[:, i] * m[:, j]  # (B, pairs, T)
    confidence = p.amax(dim=-1)
    weight = confidence[:, i] * confidence[:, j]
    count = active.sum()
    return {
        "active_pair_share": float(active.mean()),
        "confidence_weight": float((weight * active).sum() / count) if count > 0 else float("nan"),
        "loss": float(view_consistency_loss(p, m)),
    }

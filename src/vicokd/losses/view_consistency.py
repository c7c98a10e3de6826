"""View-aware consistency loss (PAPER Eq. 10)."""

import torch

# Floor for the second argument of KL(p_i ‖ p_j): keeps the divergence finite when p_j has zeros.
_EPS = 1.0e-8


def _kl(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """KL(p ‖ q) along the last axis, natural log, with 0·log 0 = 0."""
    return (torch.xlogy(p, p) - torch.xlogy(p, q.clamp_min(_EPS))).sum(dim=-1)


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
    if probs.ndim != 4 or masks.shape != probs.shape[:3]:
        raise ValueError(
            f"view_consistency_loss expects probs (B, V, T, C) and masks (B, V, T), "
            f"got {tuple(probs.shape)} and {tuple(masks.shape)}"
        )
    if divergence not in ("js", "kl"):
        raise ValueError(f"divergence must be 'js' or 'kl', got {divergence!r}")
    _, views, frames, _ = probs.shape
    if views < 2:
        raise ValueError(f"view consistency needs at least 2 views, got {views}")
    i, j = torch.triu_indices(views, views, offset=1, device=probs.device)
    p = probs.float()
    p_i, p_j = p[:, i], p[:, j]  # (B, pairs, T, C)
    if divergence == "js":
        mid = 0.5 * (p_i + p_j)
        div = 0.5 * _kl(p_i, mid) + 0.5 * _kl(p_j, mid)
    else:
        div = _kl(p_i, p_j)
    weight = torch.ones_like(div)
    if use_mask:
        m = masks.to(p.dtype)
        weight = weight * m[:, i] * m[:, j]
    if confidence_weighting:
        confidence = p.detach().amax(dim=-1)
        weight = weight * confidence[:, i] * confidence[:, j]
    per_sample = (weight * div).sum(dim=(1, 2)) / (i.numel() * frames)
    return per_sample.mean()


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

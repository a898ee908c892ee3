"""Grouping claims that speak to the same point, by embedding similarity (pure code).

Each group becomes one finding. Greedy and deterministic: claims are taken in id order and
join the most similar group whose centroid is close enough and which has room; groups are then
ranked by how many claims they hold that answer a yes/no question either way, then by how many
decisive (supported or contradicted) claims they hold, and by how close they are to the
question. Answers come first because a verdict is a weaker sign that a group matters: the
embedded judge contradicts background sentences by topic, and ranking by verdicts alone made
findings of them while results that answer the question were left out.
"""

from __future__ import annotations

import numpy as np


def group_claims(
    claim_ids: list[str],
    vectors: list[list[float]],
    question_vector: list[float],
    decisive: set[str],
    *,
    max_groups: int,
    max_size: int = 5,
    threshold: float = 0.55,
    partition: list[str] | None = None,
) -> list[list[str]]:
    """`partition`, when given, names each claim's side (its answer to a yes/no question):
    claims of different sides never share a group, so no finding mixes yes and no, and the
    groups of claims that answer yes or no rank first."""
    if not claim_ids:
        return []
    matrix = np.asarray(vectors, dtype=np.float32)
    sides = partition or [""] * len(claim_ids)
    groups: list[list[int]] = []
    sums: list[np.ndarray] = []
    for i, vector in enumerate(matrix):
        best, best_sim = -1, threshold
        for g, total in enumerate(sums):
            if len(groups[g]) >= max_size or sides[groups[g][0]] != sides[i]:
                continue
            centroid = total / np.linalg.norm(total)
            sim = float(centroid @ vector)
            if sim >= best_sim:
                best, best_sim = g, sim
        if best == -1:
            groups.append([i])
            sums.append(vector.copy())
        else:
            groups[best].append(i)
            sums[best] += vector
    question = np.asarray(question_vector, dtype=np.float32)

    def rank(g: int) -> tuple[int, int, float, int]:
        n_answering = sum(1 for i in groups[g] if sides[i] in ("yes", "no"))
        n_decisive = sum(1 for i in groups[g] if claim_ids[i] in decisive)
        centroid = sums[g] / np.linalg.norm(sums[g])
        return (-n_answering, -n_decisive, -round(float(centroid @ question), 6), groups[g][0])

    chosen = sorted(range(len(groups)), key=rank)[:max_groups]
    # Findings follow the order of their first claim, so the report reads in a stable order.
    return [[claim_ids[i] for i in groups[g]] for g in sorted(chosen, key=lambda g: groups[g][0])]

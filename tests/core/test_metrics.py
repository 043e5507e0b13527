"""core.metrics against references (torchmetrics, numpy restatements of the released code of
Salimans et al. and DeLiGAN, scipy) and closed forms, on fixed random inputs."""

import warnings

import numpy as np
import pytest
import torch
from scipy import linalg
from torch import nn

from core.evaluate import metrics


def random_probs(n: int, k: int, seed: int, sharpness: float = 3.0) -> np.ndarray:
    """Strictly positive rows summing to 1 (softmax of scaled Gaussian logits)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, k)) * sharpness
    e = np.exp(logits - logits.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def salimans_inception_score(preds: np.ndarray, splits: int = 10) -> tuple[float, float]:
    """The split loop of Salimans et al.'s improved-gan inception_score.py, restated."""
    scores = []
    for i in range(splits):
        part = preds[(i * preds.shape[0] // splits) : ((i + 1) * preds.shape[0] // splits), :]
        kl = part * (np.log(part) - np.log(np.expand_dims(np.mean(part, 0), 0)))
        kl = np.mean(np.sum(kl, 1))
        scores.append(np.exp(kl))
    return float(np.mean(scores)), float(np.std(scores))


def deligan_modified_inception_score(preds: np.ndarray) -> tuple[float, float, list[float]]:
    """DeLiGAN's modified inception score loop, restated (full pairwise matrix, no shortcuts)."""
    argmax = preds.argmax(axis=1)
    scores = []
    for i in range(preds.shape[1]):
        part = preds[argmax == i]
        if len(part) == 0:
            continue
        logp = np.log(part)
        self_term = np.sum(part * logp, axis=1)
        cross = np.mean(np.dot(part, np.transpose(logp)), axis=1)
        kl = np.mean(self_term - cross)
        scores.append(np.exp(kl))
    return float(np.mean(scores)), float(np.std(scores)), scores


class LogitsOf(nn.Module):
    """A torchmetrics feature module that returns logits whose softmax is the given rows."""

    def forward(self, probs: torch.Tensor) -> torch.Tensor:
        return probs.log()


def torchmetrics_is(feature: nn.Module, inputs: torch.Tensor, splits: int) -> float:
    from torchmetrics.image.inception import InceptionScore

    with warnings.catch_warnings():  # its memory note, and std() of a single split
        warnings.simplefilter("ignore")
        metric = InceptionScore(feature=feature, splits=splits)
        for chunk in inputs.split(300):
            metric.update(chunk)
        mean, _ = metric.compute()
    return float(mean)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_is_matches_torchmetrics_with_one_split(seed):
    probs = random_probs(1000, 10, seed)
    ours = metrics.inception_score(probs, splits=1).mean
    theirs = torchmetrics_is(LogitsOf(), torch.from_numpy(probs), splits=1)
    assert abs(ours - theirs) / theirs < 1e-6


def test_is_matches_torchmetrics_fed_a_classifier():
    from core.evaluate.judges import Judge

    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10)).eval()
    with torch.no_grad():  # confident, varied outputs
        net[1].weight.mul_(5)
    images = torch.rand(600, 1, 28, 28, generator=torch.Generator().manual_seed(1)) * 2 - 1

    class Logits(nn.Module):
        def forward(self, x):
            with torch.no_grad():
                return net(x).double()

    probs = Judge(net, "test", "fake").predict_proba(images)
    ours = metrics.inception_score(probs, splits=1).mean
    theirs = torchmetrics_is(Logits(), images, splits=1)
    assert ours > 2.0  # not a degenerate case
    assert abs(ours - theirs) / theirs < 1e-6


@pytest.mark.parametrize(("n", "k", "splits"), [(1000, 10, 10), (1003, 7, 10), (999, 10, 3)])
def test_is_split_protocol_matches_salimans(n, k, splits):
    probs = random_probs(n, k, seed=n + k)
    ours = metrics.inception_score(probs, splits=splits)
    mean, std = salimans_inception_score(probs, splits)
    assert ours.mean == pytest.approx(mean, rel=1e-12)
    assert ours.std == pytest.approx(std, rel=1e-9)
    assert ours.std > 0


def test_is_splits_are_in_order_not_shuffled():
    # The first half of the rows is one-hot class 0, the second half one-hot class 1: with two
    # splits in order each split is single-class (IS 1); shuffled, each split would score ~2.
    probs = np.full((100, 2), 1e-12)
    probs[:50, 0] = probs[50:, 1] = 1.0
    probs /= probs.sum(1, keepdims=True)
    assert metrics.inception_score(probs, splits=2).mean == pytest.approx(1.0, abs=1e-6)
    assert metrics.inception_score(probs, splits=1).mean == pytest.approx(2.0, rel=1e-6)


def test_is_invariants():
    uniform = np.full((500, 10), 0.1)
    assert metrics.inception_score(uniform).mean == pytest.approx(1.0, abs=1e-12)
    one_hot = np.eye(10)[np.arange(1000) % 10]  # balanced, and balanced within every split
    score = metrics.inception_score(one_hot)
    assert score.mean == pytest.approx(10.0, rel=1e-12)
    assert score.std == pytest.approx(0.0, abs=1e-9)
    # an IS lies in [1, K]
    s = metrics.inception_score(random_probs(2000, 10, 5))
    assert 1.0 <= s.mean <= 10.0


def test_is_independent_of_batch_size_of_the_judge():
    from core.evaluate.judges import Judge, JudgeArch, JudgeNet

    torch.manual_seed(0)
    net = JudgeNet(JudgeArch(1, 28, 10, widths=(8, 16), blocks=(1, 1))).eval()
    images = torch.rand(300, 1, 28, 28, generator=torch.Generator().manual_seed(2)) * 2 - 1
    judge = Judge(net, "test", "fake")
    judge.batch_size = 300
    p_full = judge.predict_proba(images)
    judge.batch_size = 7
    p_small = judge.predict_proba(images)
    assert torch.allclose(p_full, p_small, atol=1e-6)
    a = metrics.inception_score(p_full, splits=3)
    b = metrics.inception_score(p_small, splits=3)
    assert a.mean == pytest.approx(b.mean, rel=1e-5)
    ma = metrics.modified_inception_score(p_full)
    mb = metrics.modified_inception_score(p_small)
    assert ma.mean == pytest.approx(mb.mean, rel=1e-5)


@pytest.mark.parametrize("seed", [0, 1])
def test_mis_matches_deligan(seed):
    probs = random_probs(1200, 10, seed, sharpness=2.0)
    ours = metrics.modified_inception_score(probs)
    mean, std, per_class = deligan_modified_inception_score(probs)
    assert ours.mean == pytest.approx(mean, rel=1e-10)
    assert ours.std == pytest.approx(std, rel=1e-8)
    assert [v for v in ours.per_class if v is not None] == pytest.approx(per_class, rel=1e-10)
    assert sum(ours.counts) == 1200


def test_mis_skips_empty_classes_like_the_reference():
    probs = random_probs(400, 10, 3)
    probs[:, 9] = 1e-9  # class 9 never wins
    probs /= probs.sum(1, keepdims=True)
    ours = metrics.modified_inception_score(probs)
    assert ours.per_class[9] is None and ours.counts[9] == 0
    mean, _, _ = deligan_modified_inception_score(probs)
    assert ours.mean == pytest.approx(mean, rel=1e-10)


def test_mis_invariants():
    # identical samples within each class: every pairwise KL is 0 -> m-IS 1 per class
    rows = random_probs(10, 10, 4, sharpness=1.0) + 2 * np.eye(10)  # row c's argmax is c
    rows /= rows.sum(1, keepdims=True)
    probs = rows[np.arange(500) % 10]
    score = metrics.modified_inception_score(probs)
    assert score.mean == pytest.approx(1.0, abs=1e-12)
    # more spread within a class -> a higher m-IS; and it never drops below 1
    spread = metrics.modified_inception_score(random_probs(2000, 10, 6, sharpness=1.0))
    assert spread.mean > 1.0
    assert all(v >= 1.0 - 1e-12 for v in spread.per_class if v is not None)


def test_probability_input_is_checked():
    with pytest.raises(ValueError, match="sum to 1"):
        metrics.inception_score(np.ones((10, 3)))
    with pytest.raises(ValueError, match="shape"):
        metrics.modified_inception_score(np.ones(10))
    with pytest.raises(ValueError, match="splits"):
        metrics.inception_score(np.full((5, 2), 0.5), splits=6)


def test_class_fidelity():
    labels = np.arange(100) % 4
    probs = np.eye(4)[labels] * 0.9 + 0.025
    probs[labels == 2] = np.eye(4)[3] * 0.9 + 0.025  # every class-2 sample is judged class 3
    result = metrics.class_fidelity(probs, labels)
    assert result.per_class == [1.0, 1.0, 0.0, 1.0]
    assert result.mean == pytest.approx(0.75)
    assert result.counts == [25, 25, 25, 25]
    assert result.std == pytest.approx(np.std([1, 1, 0, 1]))
    with pytest.raises(ValueError, match="labels"):
        metrics.class_fidelity(probs, labels[:10])


def test_frechet_distance_closed_form_and_torchmetrics():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3000, 6)) @ rng.normal(size=(6, 6))
    b = rng.normal(size=(2500, 6)) * 1.5 + 0.7
    # reference: the usual formula with scipy's matrix square root
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(s_a @ s_b).real
    expected = ((mu_a - mu_b) ** 2).sum() + np.trace(s_a + s_b - 2 * covmean)
    assert metrics.frechet_distance(a, b) == pytest.approx(expected, rel=1e-8)
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)

    from torchmetrics.image.fid import FrechetInceptionDistance

    class Identity(nn.Module):
        num_features = 6

        def forward(self, x):
            return x

    fid = FrechetInceptionDistance(feature=Identity())
    fid.update(torch.from_numpy(a), real=True)
    fid.update(torch.from_numpy(b), real=False)
    assert metrics.frechet_distance(a, b) == pytest.approx(float(fid.compute()), rel=1e-5)


def test_frechet_distance_of_two_gaussians_is_closed_form():
    # 1-D: FD(N(m1, s1^2), N(m2, s2^2)) = (m1 - m2)^2 + (s1 - s2)^2, with sample moments
    rng = np.random.default_rng(1)
    x, y = rng.normal(1.0, 2.0, size=(5000, 1)), rng.normal(-1.0, 0.5, size=(4000, 1))
    expected = (x.mean() - y.mean()) ** 2 + (x.std(ddof=1) - y.std(ddof=1)) ** 2
    assert metrics.frechet_distance(x, y) == pytest.approx(expected, rel=1e-9)


def brute_force_precision_recall(real, fake, k):
    def radii(x):
        d = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
        return np.sort(d, axis=1)[:, k]  # column 0 is the point itself

    def coverage(q, centres, r):
        d = np.sqrt(((q[:, None, :] - centres[None, :, :]) ** 2).sum(-1))
        return float((d <= r[None, :]).any(1).mean())

    return coverage(fake, real, radii(real)), coverage(real, fake, radii(fake))


def test_precision_recall_matches_brute_force():
    rng = np.random.default_rng(2)
    real = rng.normal(size=(300, 5))
    fake = rng.normal(size=(250, 5)) * 0.6 + 0.8  # a shifted, narrower fake set
    p, r = metrics.precision_recall(real, fake, k=3, batch_size=64)
    bp, br = brute_force_precision_recall(real, fake, 3)
    assert (p, r) == (bp, br)
    assert 0.0 < r < p < 1.0  # narrow fakes: good precision, poor recall


def test_precision_recall_invariants():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 4))
    assert metrics.precision_recall(x, x.copy()) == (1.0, 1.0)
    far = x + 100.0
    assert metrics.precision_recall(x, far) == (0.0, 0.0)
    # batch size does not change the result
    y = rng.normal(size=(150, 4))
    assert metrics.precision_recall(x, y, batch_size=7) == metrics.precision_recall(x, y)


def test_nearest_distances_and_memorisation():
    rng = np.random.default_rng(4)
    train = rng.uniform(-1, 1, size=(50, 20))
    heldout = rng.uniform(-1, 1, size=(60, 20))
    d = metrics.nearest_distances(heldout, train, batch_size=16)
    full = np.sqrt(((heldout[:, None] - train[None]) ** 2).mean(-1)).min(1)
    np.testing.assert_allclose(d, full, rtol=1e-4, atol=1e-4)
    # samples that copy training images sit at distance ~0: ratio ~0, all near copies
    copies = train[rng.integers(0, 50, size=40)]
    result = metrics.memorisation(copies, heldout, train)
    assert result["ratio"] < 0.01 and result["near_copy_share"] == 1.0
    # fresh samples from the same distribution look like held-out data
    fresh = rng.uniform(-1, 1, size=(60, 20))
    result = metrics.memorisation(fresh, heldout, train)
    assert 0.8 < result["ratio"] < 1.2 and result["near_copy_share"] < 0.1


def test_within_class_diversity_against_a_brute_force_loop():
    """Each class's mean pairwise distance (every pair once) over the real one; mean over the
    classes that have both; a class collapsed to one image scores 0."""
    from core.evaluate.metrics import class_spreads, within_class_diversity

    rng = np.random.default_rng(0)
    real, real_y = rng.normal(size=(60, 5)), np.repeat(np.arange(3), 20)
    fake, fake_y = rng.normal(scale=0.5, size=(31, 5)), np.array([0] * 15 + [1] * 15 + [2])
    fake[fake_y == 1] = fake[fake_y == 1][0]  # class 1 collapsed: 15 copies of one image

    def brute(x):
        pairs = [np.linalg.norm(x[i] - x[j]) for i in range(len(x)) for j in range(i + 1, len(x))]
        return float(np.mean(pairs)) if pairs else None

    real_spreads = class_spreads(real, real_y, 3)
    assert real_spreads == pytest.approx([brute(real[real_y == c]) for c in range(3)])
    score = within_class_diversity(fake, fake_y, real_spreads)
    expected0 = brute(fake[fake_y == 0]) / real_spreads[0]
    assert score.per_class[0] == pytest.approx(expected0)
    assert score.per_class[1] == pytest.approx(0.0, abs=1e-12)
    assert score.per_class[2] is None  # one sample: no pair
    assert score.mean == pytest.approx((expected0 + 0.0) / 2)
    assert score.counts == [15, 15, 1]
    same = within_class_diversity(real, real_y, real_spreads)  # real data against itself: 1
    assert same.mean == pytest.approx(1.0) and same.std == pytest.approx(0.0, abs=1e-12)

"""Human with AI: a model decides the cases it is sure about and refers the rest to a reader (lesson 4).

Everything here works on arrays the model has already produced (NumPy, no torch), for a binary
question (label 1 = has the disease):

- :func:`fit_temperature` and :func:`calibrate`: temperature scaling, a one-number recalibration
  of the model's logits (the logit of the disease class minus that of the other class), fitted
  on validation cases by maximum likelihood;
- :func:`confidence`: how sure a probability is, ``max(p, 1 - p)`` (0.5 = a coin toss, 1 = certain);
- :func:`referred` and :func:`team_accuracy` / :func:`referral_curve`: refer a share of the cases,
  least confident first, and score the model on the rest and the reader on the referred;
- :func:`threshold_for_capacity`: the confidence threshold that sends at most a given share of
  cases to the reader;
- :class:`Reader`: a simulated reader with a sensitivity, a specificity and an automation bias
  (optionally less accurate on borderline cases);
- :class:`QualityCheck`: an input-quality check (out-of-distribution score) from training-image
  statistics;
- :func:`prevalence_weights` and :func:`shift_prior`: the same cases seen at another prevalence of
  the disease (weights), and probabilities corrected for it (a prior shift of the logits).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from scipy.ndimage import gaussian_filter
from scipy.optimize import minimize_scalar

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = [
    "TEMPERATURE_RANGE",
    "QualityCheck",
    "Reader",
    "calibrate",
    "confidence",
    "fit_temperature",
    "image_features",
    "n_referred",
    "prevalence_weights",
    "referral_curve",
    "referred",
    "shift_prior",
    "sigmoid",
    "team_accuracy",
    "threshold_for_capacity",
]

#: the temperatures :func:`fit_temperature` searches (a wider range means a model far off)
TEMPERATURE_RANGE = (0.05, 20.0)


def _vector(x: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty list of one number per case, got shape {arr.shape}.")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} holds NaN or infinite values; expected finite numbers.")
    return arr


def _labels(labels: ArrayLike, n: int, name: str = "labels") -> np.ndarray:
    y = _vector(labels, name)
    if len(y) != n:
        raise ValueError(f"{name} must have one entry per case ({n}), got {len(y)}.")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"{name} must be 0 (no disease) or 1 (disease), got values {sorted(set(y.tolist()))[:5]}.")
    return y.astype(np.int64)


def _share(share: float, name: str = "share") -> float:
    if not 0.0 <= float(share) <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, got {share!r}.")
    return float(share)


def sigmoid(z: ArrayLike) -> np.ndarray:
    """The probability of the disease from a logit (numerically safe for large logits).

    Parameters
    ----------
    z : array-like
        Logits: the logit of the disease class minus that of the other class.

    Returns
    -------
    ndarray
        ``1 / (1 + exp(-z))``, of the same shape.

    Examples
    --------
    >>> from medai_edu.referral import sigmoid
    >>> sigmoid([0.0, 2.0, -800.0])
    array([0.5       , 0.88079708, 0.        ])
    """
    z = np.asarray(z, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -z))


def calibrate(logits: ArrayLike, temperature: float = 1.0) -> np.ndarray:
    """Probabilities of the disease after dividing the logits by ``temperature``.

    Parameters
    ----------
    logits : array-like of shape (n_cases,)
        The model's logits.
    temperature : float, default=1.0
        Positive; 1 leaves the probabilities unchanged, above 1 makes them less sure.

    Returns
    -------
    ndarray of shape (n_cases,)

    Raises
    ------
    ValueError
        If ``temperature`` is not positive or ``logits`` is not a finite vector.

    Examples
    --------
    >>> from medai_edu.referral import calibrate
    >>> calibrate([2.0, -2.0], temperature=2.0)
    array([0.73105858, 0.26894142])
    """
    if not np.isfinite(temperature) or temperature <= 0:
        raise ValueError(f"temperature must be a positive number, got {temperature!r}.")
    return sigmoid(_vector(logits, "logits") / temperature)


def _nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    z = logits / temperature
    return float(np.mean(np.logaddexp(0.0, -z) * labels + np.logaddexp(0.0, z) * (1 - labels)))


def fit_temperature(logits: ArrayLike, labels: ArrayLike) -> float:
    """Temperature scaling: the temperature that maximises the likelihood of ``labels``.

    Fit it on validation cases only. The search covers :data:`TEMPERATURE_RANGE`.

    Parameters
    ----------
    logits : array-like of shape (n_cases,)
        The model's logits.
    labels : array-like of shape (n_cases,)
        1 = has the disease, 0 = not.

    Returns
    -------
    float
        Above 1 the model was overconfident, below 1 underconfident.

    Raises
    ------
    ValueError
        If ``labels`` are not 0/1, one per logit.

    Examples
    --------
    >>> from medai_edu.referral import fit_temperature
    >>> logits = [3.0, -3.0, 2.0, -2.0, 3.0, -1.0, 1.0, -2.5]
    >>> labels = [1, 0, 1, 0, 1, 1, 0, 0]  # sure of all, wrong on two
    >>> round(fit_temperature(logits, labels), 2)
    1.13
    """
    z = _vector(logits, "logits")
    y = _labels(labels, len(z))
    low, high = np.log(TEMPERATURE_RANGE[0]), np.log(TEMPERATURE_RANGE[1])
    found = minimize_scalar(lambda t: _nll(z, y, float(np.exp(t))), bounds=(low, high), method="bounded")
    return float(np.exp(found.x))


def confidence(probabilities: ArrayLike) -> np.ndarray:
    """How sure each probability is: ``max(p, 1 - p)``, from 0.5 (a coin toss) to 1 (certain).

    Parameters
    ----------
    probabilities : array-like of shape (n_cases,)
        Probabilities of the disease, in [0, 1].

    Returns
    -------
    ndarray of shape (n_cases,)

    Raises
    ------
    ValueError
        If a probability lies outside [0, 1].

    Examples
    --------
    >>> from medai_edu.referral import confidence
    >>> confidence([0.5, 0.9, 0.2])
    array([0.5, 0.9, 0.8])
    """
    p = _vector(probabilities, "probabilities")
    if p.min() < 0 or p.max() > 1:
        raise ValueError(f"probabilities must lie in [0, 1], got {p.min():g} to {p.max():g}.")
    return np.maximum(p, 1 - p)


def n_referred(n_cases: int, share: float) -> int:
    """How many of ``n_cases`` a referral share sends to the reader (rounded to the nearest case).

    Parameters
    ----------
    n_cases : int
        Number of cases.
    share : float
        Share referred, between 0 and 1.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If ``share`` is not between 0 and 1.

    Examples
    --------
    >>> from medai_edu.referral import n_referred
    >>> n_referred(200, 0.3)
    60
    """
    return int(round(_share(share) * n_cases))


def referred(confidences: ArrayLike, share: float) -> np.ndarray:
    """Which cases go to the reader: the ``share`` least confident (ties: the earlier case first).

    Parameters
    ----------
    confidences : array-like of shape (n_cases,)
        The model's confidence per case (:func:`confidence`).
    share : float
        Share of the cases referred, between 0 and 1 (:func:`n_referred` cases).

    Returns
    -------
    ndarray of bool, shape (n_cases,)
        True for a case that goes to the reader.

    Raises
    ------
    ValueError
        If ``share`` is not between 0 and 1.

    Examples
    --------
    >>> from medai_edu.referral import referred
    >>> referred([0.9, 0.6, 0.95, 0.7], share=0.5)
    array([False,  True, False,  True])
    """
    c = _vector(confidences, "confidences")
    mask = np.zeros(len(c), dtype=bool)
    mask[np.argsort(c, kind="stable")[: n_referred(len(c), share)]] = True
    return mask


def team_accuracy(model_correct: ArrayLike, reader_correct: ArrayLike, confidences: ArrayLike, share: float) -> float:
    """Accuracy of the team when the ``share`` least confident cases go to the reader.

    Parameters
    ----------
    model_correct, reader_correct : array-like of shape (n_cases,)
        Per case, whether the model and the reader are right (True/False, or the probability of
        being right, e.g. :meth:`Reader.correct_probability`).
    confidences : array-like of shape (n_cases,)
        The model's confidence per case.
    share : float
        Share of the cases referred, between 0 and 1.

    Returns
    -------
    float
        The share of cases the team gets right (expected, with probabilities).

    Raises
    ------
    ValueError
        If the three arrays differ in length or ``share`` is not between 0 and 1.

    Examples
    --------
    >>> from medai_edu.referral import team_accuracy
    >>> confidences = [0.9, 0.6, 0.95, 0.7]
    >>> team_accuracy([1, 0, 1, 0], [1, 1, 0, 1], confidences, share=0.0)  # the model alone
    0.5
    >>> team_accuracy([1, 0, 1, 0], [1, 1, 0, 1], confidences, share=0.5)  # the unsure half referred
    1.0
    """
    m = _vector(model_correct, "model_correct")
    r = _vector(reader_correct, "reader_correct")
    if not len(m) == len(r) == len(_vector(confidences, "confidences")):
        raise ValueError(
            f"model_correct, reader_correct and confidences need one entry per case, got {len(m)}, {len(r)} "
            f"and {len(np.asarray(confidences))}."
        )
    to_reader = referred(confidences, share)
    return float(np.where(to_reader, r, m).mean())


def referral_curve(
    model_correct: ArrayLike, reader_correct: ArrayLike, confidences: ArrayLike, shares: Sequence[float] | np.ndarray
) -> np.ndarray:
    """:func:`team_accuracy` at each referral share (0 = the model alone, 1 = the reader alone).

    Parameters
    ----------
    model_correct, reader_correct, confidences : array-like of shape (n_cases,)
        As in :func:`team_accuracy`.
    shares : sequence of float
        Referral shares, each between 0 and 1.

    Returns
    -------
    ndarray of shape (len(shares),)

    Raises
    ------
    ValueError
        As :func:`team_accuracy`.

    Examples
    --------
    >>> from medai_edu.referral import referral_curve
    >>> referral_curve([1, 0, 1, 0], [1, 1, 0, 1], [0.9, 0.6, 0.95, 0.7], [0.0, 0.5, 1.0])
    array([0.5 , 1.  , 0.75])
    """
    return np.array([team_accuracy(model_correct, reader_correct, confidences, s) for s in shares])


def threshold_for_capacity(confidences: ArrayLike, capacity: float) -> float:
    """The highest confidence threshold that refers at most ``capacity`` (a share) of these cases.

    Cases with a confidence *below* the threshold go to the reader. Choose it on validation cases;
    on new cases the share referred can differ (that is the point of checking it).

    Parameters
    ----------
    confidences : array-like of shape (n_cases,)
        The model's confidence per case.
    capacity : float
        The largest share of cases the reader can take, between 0 and 1.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``capacity`` is not between 0 and 1.

    Examples
    --------
    >>> from medai_edu.referral import threshold_for_capacity
    >>> threshold_for_capacity([0.9, 0.6, 0.95, 0.7], capacity=0.5)  # refers 0.6 and 0.7
    0.9
    """
    c = np.sort(_vector(confidences, "confidences"))
    k = int(np.floor(_share(capacity, "capacity") * len(c) + 1e-9))
    return float(c[k]) if k < len(c) else float(np.nextafter(c[-1], np.inf))


def prevalence_weights(labels: ArrayLike, prevalence: float) -> np.ndarray:
    """Per case, a weight that makes these cases count as a population with ``prevalence`` of the disease.

    Diseased cases are weighted by prevalence / their share, the others likewise.

    Parameters
    ----------
    labels : array-like of shape (n_cases,)
        1 = has the disease, 0 = not; both must occur.
    prevalence : float
        The population's share of diseased cases, strictly between 0 and 1.

    Returns
    -------
    ndarray of shape (n_cases,)

    Raises
    ------
    ValueError
        If ``labels`` are not 0/1 with both present, or ``prevalence`` is not strictly between 0 and 1.

    Examples
    --------
    >>> from medai_edu.referral import prevalence_weights
    >>> prevalence_weights([1, 1, 0, 0], prevalence=0.1)
    array([0.2, 0.2, 1.8, 1.8])
    """
    y = _labels(labels, len(np.asarray(labels)))
    share = y.mean()
    if not 0 < share < 1:
        raise ValueError(f"labels must hold both diseased (1) and other (0) cases, got a diseased share of {share:g}.")
    if not 0 < prevalence < 1:
        raise ValueError(f"prevalence must lie strictly between 0 and 1, got {prevalence!r}.")
    return np.where(y == 1, prevalence / share, (1 - prevalence) / (1 - share))


def shift_prior(logits: ArrayLike, prevalence: float, trained_prevalence: float = 0.5) -> np.ndarray:
    """Logits corrected for a disease prevalence other than the training data's.

    Adds the change in the prior's log-odds (Saerens et al., Neural Comput 2002).

    Parameters
    ----------
    logits : array-like of shape (n_cases,)
        The model's logits.
    prevalence : float
        The disease's prevalence where the model is used, strictly between 0 and 1.
    trained_prevalence : float, default=0.5
        The prevalence in the training data.

    Returns
    -------
    ndarray of shape (n_cases,)

    Examples
    --------
    >>> from medai_edu.referral import shift_prior
    >>> shift_prior([0.0, 2.0], prevalence=0.1)  # log(0.1 / 0.9) added
    array([-2.19722458, -0.19722458])
    """
    odds = np.log(prevalence / (1 - prevalence)) - np.log(trained_prevalence / (1 - trained_prevalence))
    return _vector(logits, "logits") + odds


@dataclass(frozen=True)
class Reader:
    """A simulated reader: right on a diseased case with probability ``sensitivity``, on a case
    without disease with probability ``specificity``, each case independently of the others and of
    the model.

    ``automation_bias``: on a referred case the reader is shown the AI's suggested answer. When
    it differs from the reader's own reading, the reader switches to the AI's answer with this
    probability, whether the AI is right or wrong (the reader cannot tell). So a wrong AI
    suggestion is followed on a share ``automation_bias`` of the cases where the reader would have
    been right. 0 = the reader ignores the AI, 1 = the reader always agrees with it.

    Parameters
    ----------
    sensitivity, specificity : float, default=0.80, 0.85
        The reader's own accuracy on diseased and on other cases, between 0 and 1.
    automation_bias : float, default=0.0
        Between 0 and 1, as above.
    borderline_accuracy : float, optional
        Accuracy on borderline cases (see :meth:`own_accuracy`); None: the same as on every case.

    Raises
    ------
    ValueError
        If a rate is not between 0 and 1.

    Examples
    --------
    >>> from medai_edu.referral import Reader
    >>> reader = Reader(sensitivity=0.8, specificity=0.9, automation_bias=0.5)
    >>> labels = [1, 1, 0, 0]
    >>> reader.own_accuracy(labels)
    array([0.8, 0.8, 0.9, 0.9])
    >>> reader.correct_probability(labels, ai_answers=[1, 0, 0, 1])  # the AI is wrong on cases 2 and 4
    array([0.9 , 0.4 , 0.95, 0.45])
    >>> reader.read(labels, seed=0)
    array([1, 1, 0, 0])
    """

    sensitivity: float = 0.80
    specificity: float = 0.85
    automation_bias: float = 0.0
    #: accuracy on borderline cases (None: the same as on every case); see :meth:`own_accuracy`
    borderline_accuracy: float | None = None

    def __post_init__(self) -> None:
        for name in ("sensitivity", "specificity", "automation_bias"):
            _share(getattr(self, name), name)
        if self.borderline_accuracy is not None:
            _share(self.borderline_accuracy, "borderline_accuracy")

    def own_accuracy(self, labels: ArrayLike, borderline: ArrayLike | None = None) -> np.ndarray:
        """Per case, the probability that the reader's own reading (before any AI suggestion) is right.

        With ``borderline_accuracy`` set and a ``borderline`` mask given (True = a case that is hard
        for anyone, e.g. a disease severity where the two groups overlap), the reader is right on
        those cases with ``borderline_accuracy`` and more often on the others, so that the
        sensitivity and specificity over these cases stay as stated: the reader's errors then fall
        where the model's do, instead of independently of the case.

        Parameters
        ----------
        labels : array-like of shape (n_cases,)
            1 = has the disease, 0 = not.
        borderline : array-like of bool, shape (n_cases,), optional
            True for a borderline case.

        Returns
        -------
        ndarray of shape (n_cases,)

        Raises
        ------
        ValueError
            If the stated sensitivity or specificity cannot be kept with ``borderline_accuracy``.
        """
        y = _labels(labels, len(np.asarray(labels)))
        own = np.where(y == 1, self.sensitivity, self.specificity).astype(np.float64)
        if self.borderline_accuracy is None or borderline is None:
            return own
        hard = np.asarray(borderline, dtype=bool)
        if hard.shape != y.shape:
            raise ValueError(f"borderline must have one entry per case ({len(y)}), got shape {hard.shape}.")
        for label, rate, name in ((1, self.sensitivity, "sensitivity"), (0, self.specificity, "specificity")):
            group = y == label
            n, n_hard = int(group.sum()), int((group & hard).sum())
            if n_hard == 0:
                continue
            rest = (rate * n - self.borderline_accuracy * n_hard) / (n - n_hard) if n_hard < n else rate
            if n_hard == n or not 0.0 <= rest <= 1.0:
                raise ValueError(
                    f"a {name} of {rate} cannot be kept with accuracy {self.borderline_accuracy} on {n_hard} of {n} "
                    "borderline cases; choose a borderline accuracy closer to it."
                )
            own[group & hard], own[group & ~hard] = self.borderline_accuracy, rest
        return own

    def correct_probability(
        self, labels: ArrayLike, ai_answers: ArrayLike | None = None, borderline: ArrayLike | None = None
    ) -> np.ndarray:
        """Per case, the probability that the reader's final answer is right.

        Parameters
        ----------
        labels : array-like of shape (n_cases,)
            1 = has the disease, 0 = not.
        ai_answers : array-like of shape (n_cases,), optional
            The AI's suggestions shown (0/1); None: the reader reads alone.
        borderline : array-like of bool, optional
            As in :meth:`own_accuracy`.

        Returns
        -------
        ndarray of shape (n_cases,)
        """
        own = self.own_accuracy(labels, borderline)
        if ai_answers is None:
            return own
        y = _labels(labels, len(own))
        ai_right = _labels(ai_answers, len(y), "ai_answers") == y
        b = self.automation_bias
        # AI right: a reader who was wrong switches to it; AI wrong: a reader who was right switches away
        return np.where(ai_right, own + (1 - own) * b, own * (1 - b))

    def read(
        self, labels: ArrayLike, ai_answers: ArrayLike | None = None, seed: int = 0, borderline: ArrayLike | None = None
    ) -> np.ndarray:
        """One simulated reading session: the reader's final answers (0/1), drawn with ``seed``.

        Parameters
        ----------
        labels, ai_answers, borderline
            As in :meth:`correct_probability`.
        seed : int, default=0
            Seed of the draw.

        Returns
        -------
        ndarray of int, shape (n_cases,)
        """
        y = _labels(labels, len(np.asarray(labels)))
        right = np.random.default_rng(seed).random(len(y)) < self.correct_probability(y, ai_answers, borderline)
        return np.where(right, y, 1 - y)


def image_features(images: ArrayLike) -> np.ndarray:
    """Three numbers per image that a new scanner or protocol changes.

    The log of the intensity spread (standard deviation), of the fine detail (standard deviation of
    the image minus a blurred copy, sigma 1 pixel) and of the edge strength (mean gradient size of
    that blurred copy).

    Parameters
    ----------
    images : array-like of shape (N, H, W) or (N, 1, H, W)

    Returns
    -------
    ndarray of shape (N, 3)

    Raises
    ------
    ValueError
        If ``images`` is not a non-empty stack of that shape.

    Examples
    --------
    >>> import numpy as np
    >>> from medai_edu.referral import image_features
    >>> scans = np.random.default_rng(0).random((2, 16, 16))
    >>> image_features(scans).shape
    (2, 3)
    >>> (image_features(5 * scans) - image_features(scans)).round(3)  # more contrast: each up by log(5)
    array([[1.609, 1.609, 1.609],
           [1.609, 1.609, 1.609]])
    """
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 4 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 3 or x.shape[0] == 0:
        raise ValueError(f"images must be a stack [N, H, W] or [N, 1, H, W], got shape {x.shape}.")
    parts = []
    for start in range(0, len(x), 256):  # in chunks: a few images' temporary arrays at a time
        chunk = x[start : start + 256]
        smooth = gaussian_filter(chunk, (0, 1, 1), mode="nearest")
        rows, cols = np.gradient(smooth, axis=(1, 2))
        parts.append(
            np.stack(
                [chunk.std(axis=(1, 2)), (chunk - smooth).std(axis=(1, 2)), np.hypot(rows, cols).mean(axis=(1, 2))],
                axis=1,
            )
        )
    feats = np.concatenate(parts)
    return np.log(np.maximum(feats, 1e-8)).astype(np.float64)


@dataclass
class QualityCheck:
    """An input-quality check: how far an image's :func:`image_features` lie from the training images'
    (Mahalanobis distance: 0 = a typical training image; about 1.5 on average for training images).

    :meth:`fit` learns the training images' mean and covariance (training data only);
    :meth:`set_threshold` places the threshold at a quantile of clean validation images' scores
    (0.99: about 1 in 100 clean scans is flagged); :meth:`flags` says which scans to refer.

    Parameters
    ----------
    mean : ndarray of shape (3,)
        The training images' mean features (set by :meth:`fit`).
    inverse_covariance : ndarray of shape (3, 3)
        The inverse of their covariance (set by :meth:`fit`).
    threshold : float, default=inf
        Scores above it are flagged (set by :meth:`set_threshold`).

    Examples
    --------
    >>> import numpy as np
    >>> from medai_edu.referral import QualityCheck
    >>> rng = np.random.default_rng(0)
    >>> check = QualityCheck().fit(rng.random((20, 16, 16))).set_threshold(rng.random((20, 16, 16)))
    >>> check.flags(np.stack([rng.random((16, 16)), 5 * rng.random((16, 16))]))  # the second: more contrast
    array([False,  True])
    """

    mean: np.ndarray = field(default_factory=lambda: np.zeros(0))
    inverse_covariance: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    threshold: float = float("inf")

    def fit(self, training_images: ArrayLike) -> QualityCheck:
        """Learn the mean and covariance of the training images' :func:`image_features`.

        Parameters
        ----------
        training_images : array-like of shape (N, H, W) or (N, 1, H, W)
            At least 4 training images.

        Returns
        -------
        QualityCheck
            This check, fitted.

        Raises
        ------
        ValueError
            If fewer than 4 images are given.
        """
        f = image_features(training_images)
        if len(f) < 4:
            raise ValueError(f"fit the quality check on at least 4 training images, got {len(f)}.")
        self.mean = f.mean(axis=0)
        self.inverse_covariance = np.linalg.inv(np.cov(f, rowvar=False))
        return self

    def score(self, images: ArrayLike) -> np.ndarray:
        """Out-of-distribution score per image (higher = less like the training images).

        Parameters
        ----------
        images : array-like of shape (N, H, W) or (N, 1, H, W)

        Returns
        -------
        ndarray of shape (N,)

        Raises
        ------
        RuntimeError
            If the check is not fitted yet.
        """
        if self.mean.size == 0:
            raise RuntimeError("the quality check is not fitted yet: call fit(training_images) first.")
        d = image_features(images) - self.mean
        return np.sqrt(np.einsum("ni,ij,nj->n", d, self.inverse_covariance, d))

    def set_threshold(self, validation_images: ArrayLike, quantile: float = 0.99) -> QualityCheck:
        """Place the threshold at ``quantile`` of clean validation images' scores.

        Parameters
        ----------
        validation_images : array-like of shape (N, H, W) or (N, 1, H, W)
            Clean validation images (not the training images).
        quantile : float, default=0.99
            About ``1 - quantile`` of clean scans will be flagged.

        Returns
        -------
        QualityCheck
            This check, with its threshold set.
        """
        self.threshold = float(np.quantile(self.score(validation_images), _share(quantile, "quantile")))
        return self

    def flags(self, images: ArrayLike) -> np.ndarray:
        """True for scans whose score is above the threshold (refer them; do not trust the model).

        Parameters
        ----------
        images : array-like of shape (N, H, W) or (N, 1, H, W)

        Returns
        -------
        ndarray of bool, shape (N,)
        """
        return self.score(images) > self.threshold

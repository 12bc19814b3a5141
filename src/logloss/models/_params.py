"""Hyperparameters declared with their constraints, checked into a typed frozen dataclass.

Each estimator names a :class:`Params` subclass whose fields are its ``__init__``
parameters; each field carries the check of its value (:func:`checked`), and
``Params.of(estimator)`` checks every one (in ``fit``, scikit-learn's contract) and
returns the checked values as typed attributes. Checks between parameters sit in
``__post_init__``; values derived from several parameters are properties.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from .._validation import (
    check_bool,
    check_callback,
    check_choice,
    check_compute_dtype,
    check_int,
    check_scalar,
)
from ._data import check_class_weight_param

P = TypeVar("P", bound="Params")


def checked(check: Callable[..., Any], **options: Any) -> Any:
    """A field whose value is ``check(value, name, **options)`` of the estimator's attribute."""
    return field(metadata={"check": functools.partial(check, **options)})


def number(**bounds: Any) -> Any:
    """A real number within `bounds` (:func:`logloss._validation.check_scalar`'s)."""
    return checked(check_scalar, hyperparameter=True, **bounds)


def integer(low: int = 1, allow_none: bool = False) -> Any:
    return checked(check_int, low=low, allow_none=allow_none)


def choice(options: tuple) -> Any:
    return checked(check_choice, choices=options)


def boolean() -> Any:
    return checked(check_bool)


def _as_given(value: Any, name: str) -> Any:
    return value


def _dtype_or_none(value: Any, name: str) -> Any:
    return None if value is None else check_compute_dtype(value)


def as_given() -> Any:
    """A field kept as it is (checked where it is used, e.g. a random state)."""
    return checked(_as_given)


# in [0, 1): a momentum, a decay, a label smoothing
UNIT = dict(low=0.0, high=1.0, high_inclusive=False)
# in (0, 1): a fraction of the rows
OPEN_UNIT = dict(low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
POSITIVE = dict(low=0.0, low_inclusive=False)
NON_NEGATIVE = dict(low=0.0)


@dataclass(frozen=True)
class Params:
    """Checked hyperparameters; subclasses declare the fields."""

    @classmethod
    def of(cls: type[P], estimator: Any) -> P:
        """Check the estimator's hyperparameters (in declaration order)."""
        return cls(
            **{f.name: f.metadata["check"](getattr(estimator, f.name), f.name) for f in fields(cls)}
        )


@dataclass(frozen=True)
class IterativeParams(Params):
    """What every iterative fit has."""

    max_iter: int = integer()
    tol: float = number(**NON_NEGATIVE)
    verbose: int = integer(low=0)
    callback: Callable | None = checked(check_callback)


@dataclass(frozen=True)
class TrainingParams(IterativeParams):
    """What the estimators trained on labelled data (linear, MLP) share."""

    solver: str = as_given()  # each subclass declares its own choices
    batch_size: int | None = integer(allow_none=True)
    momentum: float = number(**UNIT)
    early_stopping: bool = boolean()
    validation_fraction: float = number(**OPEN_UNIT)
    n_iter_no_change: int = integer()
    class_weight: Any = checked(check_class_weight_param)
    warm_start: bool = boolean()
    random_state: Any = as_given()
    dtype: Any = checked(_dtype_or_none)

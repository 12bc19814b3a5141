"""Tables in, design matrices and model files out: what ``logloss fit``/``predict`` run.

- :mod:`~logloss.tables.files`: read CSV, TSV or Parquet (by suffix; ``-`` is
  standard input) with pyarrow into pandas, whole or in blocks of rows; write them.
- :mod:`~logloss.tables.columns`: feature columns, the target's classes, the
  stratified held-out split (as row indices, so no copy of the table is made).
- :mod:`~logloss.tables.preprocess`: :class:`Preprocessor` standardises numeric
  columns (missing values become the training median), one-hot encodes text columns
  (:mod:`~logloss.tables.encoders`), hashes those with too many levels
  (:mod:`~logloss.tables.hashing`) and turns free text into TF-IDF features
  (:mod:`~logloss.tables.text`), straight into one float64 matrix, dense or CSR
  (:mod:`~logloss.tables.design`); its state is plain JSON, which is how a model file
  carries it.
- :mod:`~logloss.tables.training`, :mod:`~logloss.tables.checkpoint` and
  :mod:`~logloss.tables.fit_run`: the fit workflow, with checkpoints and resuming.
- :mod:`~logloss.tables.prediction` and :mod:`~logloss.tables.scoring`: predicting
  with a model file, and scoring the probabilities any model wrote into a table.
- :mod:`~logloss.tables.transformer`: the same preprocessing as a scikit-learn
  transformer (``logloss.TablePreprocessor``); :mod:`~logloss.tables.loading`:
  ``logloss.load``/``logloss.save``, which give a model file written by
  ``logloss fit`` back as one pipeline. Both import scikit-learn, so they are
  imported by name, not here.

Every mistake in the data is a ``ValueError`` (or an ``OSError``) whose message
names the file or column and what is wrong with it, so the command line can print
it as one sentence. pandas, pyarrow, scikit-learn and rich are imported inside the
functions.
"""

from __future__ import annotations

from .checkpoint import CheckpointPlan, check_resumable, read_checkpoint
from .columns import Target, choose_features, closest_names, encode_target, train_test_rows
from .files import FORMATS, check_writable, read_table, read_table_blocks, table_format, write_table
from .fit_run import FitJob, FitOutcome, FitSettings, run_fit
from .options import OptionError
from .prediction import (
    BoundaryData,
    FeatureSlice,
    boundary_data,
    predict_file,
    predict_table,
    preprocessor_of,
)
from .preprocess import Preprocessor, TooManyCategoriesError, TransformReport
from .scoring import ScoringInputs, read_scoring_inputs, score_file, scoring_inputs
from .training import (
    Prepared,
    base_estimator,
    calibrate_prepared,
    fit_prepared,
    make_estimator,
    model_metadata,
    prepare_training,
    score_splits,
)

__all__ = [
    "FORMATS",
    "BoundaryData",
    "CheckpointPlan",
    "FeatureSlice",
    "FitJob",
    "FitOutcome",
    "FitSettings",
    "OptionError",
    "Prepared",
    "Preprocessor",
    "ScoringInputs",
    "Target",
    "TooManyCategoriesError",
    "TransformReport",
    "base_estimator",
    "boundary_data",
    "calibrate_prepared",
    "check_resumable",
    "check_writable",
    "choose_features",
    "closest_names",
    "encode_target",
    "fit_prepared",
    "make_estimator",
    "model_metadata",
    "predict_file",
    "predict_table",
    "prepare_training",
    "preprocessor_of",
    "read_checkpoint",
    "read_scoring_inputs",
    "read_table",
    "read_table_blocks",
    "run_fit",
    "score_file",
    "score_splits",
    "scoring_inputs",
    "table_format",
    "train_test_rows",
    "write_table",
]

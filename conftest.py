"""Collection rules for the whole tree (tests/ and the doctests of src/logloss)."""

import importlib.util

# logloss.torch is an optional extra: its doctests need PyTorch
collect_ignore_glob = [] if importlib.util.find_spec("torch") else ["src/logloss/torch/*"]

"""The tutorial: a guided demo and five explained questions, with numbers computed on the spot.

- :mod:`~logloss.tutorial.demo`: :func:`~logloss.tutorial.demo.run_demo`, the tour
  ``logloss demo`` runs (steps 1-5), and :mod:`~logloss.tutorial.demo_estimators`
  (steps 6-8, logloss's estimators);
- :mod:`~logloss.tutorial.explain`: the five answers ``logloss explain`` prints, and
  :mod:`~logloss.tutorial.explain_figures`, their figures;
- :mod:`~logloss.tutorial.descent`: the plain gradient descent both of them run.

Nothing is imported here: Matplotlib, scikit-learn and rich load when a tutorial runs.
"""

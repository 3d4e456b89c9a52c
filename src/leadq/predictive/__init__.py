"""Predictive scoring: learn from a company's own history which leads convert, and say why.

Pure parts (columns, leakage, features, scorer, evaluation) take data frames and arrays; the
file and database readers sit in ``exports`` and ``leadq.services.predictive.files``.
"""

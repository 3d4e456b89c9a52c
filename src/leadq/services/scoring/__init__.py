"""Scoring: the workspace's scoring-model versions and which one is active, rescoring a lead on
each change and everyone on a schedule, previewing a draft model, backtesting models over past
leads as of the moment of each decision, and scoring CSV or Parquet files without a database."""

"""Rules scoring: the model document, the per-lead evaluator and the vectorised engine."""

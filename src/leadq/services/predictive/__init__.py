"""Predictive scoring as use cases: reading the workspace's history point in time, training and
loading model directories, scoring files, and the registry of workspace models with champion,
challenger and rollback."""

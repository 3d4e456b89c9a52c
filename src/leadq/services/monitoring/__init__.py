"""Scores that keep themselves honest: shift and calibration checks of the live models."""

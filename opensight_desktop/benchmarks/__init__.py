"""Measured figures (``opensight-desktop bench``); never asserted as timings in tests."""

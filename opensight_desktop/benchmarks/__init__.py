"""Measured figures (``opensight-desktop bench``, ``python -m opensight_desktop.gui.bench``);
never asserted as timings in tests.

Why this is in the package: ``bench`` is a documented command and must work from an
installed wheel as from a source checkout, so all it runs lives here - the measuring code,
the processes it measures (``measure_*``, run with ``python -m``) and its inputs: synthetic
camera-like photos (``synthetic``, their EXIF from ``camera_exif``) and random weights for a
machine with no model (``random_model``). Those are benchmark inputs, not test fixtures;
what only the tests use (damaged EXIF, hostile files, checkpoint layouts, fault injection)
is under ``tests/``. Every run works in a data folder of its own (``scratch_home``): a
benchmark never changes the user's models, settings or signing key.
"""

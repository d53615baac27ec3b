"""OpenSight Desktop: offline image-forensics workstation.

The engine (case, evidence, metadata, detector, pipeline, report) never imports Qt;
``cli`` and ``gui`` are two thin front ends over it.
"""

__version__ = "0.1.0"
APP_NAME = "opensight-desktop"

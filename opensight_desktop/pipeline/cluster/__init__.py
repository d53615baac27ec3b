"""Analysis on a Ray cluster, with this workstation as the one writer of the case.

What runs where:

- this process (``source.ClusterSource``): picks the items, writes every result through
  ``AnalysisJob`` as a local run does, and watches a driver process;
- the driver process (``driver``): the only process here that imports Ray. Ray ends a
  driver that loses its cluster for good, so that ending must not be the workstation's;
- the nodes (``node.NodeWorker`` actors): read each original read-only at the mapped
  path, check its SHA-256, decode, preprocess and run the detector with the same code as a
  local run, on weights shipped once per node and verified before use.

``import ray`` happens only in the driver and on the nodes: the application runs without
the ``cluster`` extra installed, and says what to install when a cluster is asked for.
"""

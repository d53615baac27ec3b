"""Hash sets shared by all cases: known files to set aside (NSRL), alert sets that matter.

They live in the data directory (``paths.data_dir()/hashsets``), one SQLite file per set
plus a registry, and are looked up by an index, never scanned. This package knows nothing
of cases: ``case.hashset_match`` records what matched in a case.
"""

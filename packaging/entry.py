"""Entry point of the frozen (PyInstaller) application."""

import multiprocessing

# must run first: import workers started with "spawn" re-enter this executable
multiprocessing.freeze_support()

from opensight_desktop.launcher import main  # noqa: E402

raise SystemExit(main())

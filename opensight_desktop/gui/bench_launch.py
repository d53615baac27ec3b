"""One launch for the GUI benchmark (``python -m opensight_desktop.gui.bench_launch``):
builds and shows the main window, then prints ``shown`` on the first event-loop turn and
whether torch was imported by then."""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer

from opensight_desktop.gui.app import create_app
from opensight_desktop.gui.main_window import MainWindow


def main() -> int:
    app = create_app()
    window = MainWindow()
    window.show()

    def shown() -> None:
        print("shown", flush=True)
        print("torch-loaded" if "torch" in sys.modules else "torch-not-loaded", flush=True)
        app.quit()

    QTimer.singleShot(0, shown)
    app.exec()
    return 0


if __name__ == "__main__":
    sys.exit(main())

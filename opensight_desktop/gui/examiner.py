"""Who is working: asked once per session when a case opens, so that audit entries name
the examiner who made each change (not only the computer account)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)


class ExaminerDialog(QDialog):
    def __init__(self, default: str, case_examiner: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Examiner")
        self.setMinimumWidth(440)
        layout = QVBoxLayout(self)
        note = QLabel(
            "Who is working on the case? The audit log names this examiner with every "
            f"change made in this session. The case's examiner is {case_examiner or '(none)'}."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        self.name = QLineEdit(default)
        self.name.setPlaceholderText("Examiner's name")
        layout.addWidget(self.name)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


def ask_examiner(parent: QWidget | None, default: str, case_examiner: str) -> str | None:
    """The name entered (blank: the case's examiner); None if the question was cancelled."""
    dialog = ExaminerDialog(default, case_examiner, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.name.text().strip()

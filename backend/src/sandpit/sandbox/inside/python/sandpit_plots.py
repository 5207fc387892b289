"""A matplotlib backend whose show() hands each open figure to Sandpit as a PNG.

Runs inside the sandbox (MPLBACKEND=module://sandpit_plots). In a run, the
server reads PNGs from the descriptor in SANDPIT_PLOT_FD: each image is a
4-byte big-endian length and the PNG bytes. Elsewhere (a terminal), show()
saves figure_<n>.png in the working directory and says so. savefig() works
as with any non-interactive backend.
"""

from __future__ import annotations

import io
import os
import struct

from matplotlib._pylab_helpers import Gcf
from matplotlib.backend_bases import _Backend
from matplotlib.backends.backend_agg import FigureCanvasAgg, FigureManagerBase

FigureCanvas = FigureCanvasAgg
FigureManager = FigureManagerBase

_saved = 0


def _plot_fd() -> int | None:
    value = os.environ.get("SANDPIT_PLOT_FD", "")
    if not value.isdigit():
        return None
    try:
        os.fstat(int(value))
    except OSError:
        return None
    return int(value)


def _show_all() -> None:
    global _saved  # noqa: PLW0603 - one counter per interpreter, for file names
    fd = _plot_fd()
    for manager in Gcf.get_all_fig_managers():
        buffer = io.BytesIO()
        manager.canvas.figure.savefig(buffer, format="png", dpi=100)
        data = buffer.getvalue()
        if fd is not None:
            try:
                os.write(fd, struct.pack(">I", len(data)) + data)
            except OSError:
                fd = None
        if fd is None:
            _saved += 1
            name = f"figure_{_saved}.png"
            with open(name, "wb") as handle:
                handle.write(data)
            print(f"[plot saved as {name}]")
    Gcf.destroy_all()


@_Backend.export
class _BackendSandpit(_Backend):
    FigureCanvas = FigureCanvasAgg
    FigureManager = FigureManagerBase

    @staticmethod
    def show(*_args: object, **_kwargs: object) -> None:
        # export() makes this the module's show(), which pyplot.show() calls.
        _show_all()

"""PNG previews of a deck, rendered by LibreOffice (pptx -> pdf) and poppler (pdf -> png).

Both are system packages, not Python ones; :func:`preview_available` says whether they are here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from deck_builder.errors import DeckBuilderError, PreviewUnavailableError

#: seconds one conversion may take (LibreOffice needs ~1 s for a small deck, more when cold)
TIMEOUT_S = 120
_INSTALL = "install it: apt-get install libreoffice-impress-nogui poppler-utils"


def preview_available() -> bool:
    """True when both soffice (LibreOffice) and pdftoppm (poppler) are on PATH."""
    return shutil.which("soffice") is not None and shutil.which("pdftoppm") is not None


def render_preview(pptx: Path, out_dir: Path, *, dpi: int = 60,
                   first: int | None = None) -> list[Path]:
    """Render ``pptx`` to ``out_dir/page-1.png``, ``page-2.png``, ... and return them in slide
    order; only the first ``first`` slides when given.

    Earlier ``page-N.png`` files in ``out_dir`` are replaced, so the list is exactly this deck.
    Each call uses its own LibreOffice profile: two conversions sharing one interfere.
    """
    soffice, pdftoppm = shutil.which("soffice"), shutil.which("pdftoppm")
    if soffice is None or pdftoppm is None:
        raise PreviewUnavailableError("LibreOffice is not installed, so no preview was made",
                                      fix=_INSTALL, path=pptx)
    if not pptx.is_file():
        raise DeckBuilderError(f"cannot preview {pptx}: no such file",
                               fix="pass the path of an existing .pptx", path=pptx)
    with tempfile.TemporaryDirectory(prefix="outtask-preview-") as tmp:
        work = Path(tmp)
        profile = (work / "lo-profile").as_uri()
        converted = _run([soffice, f"-env:UserInstallation={profile}", "--headless",
                          "--convert-to", "pdf", "--outdir", str(work / "pdf"),
                          str(pptx.resolve())], pptx, "LibreOffice")
        pdfs = list((work / "pdf").glob("*.pdf"))
        if not pdfs:
            raise DeckBuilderError(f"LibreOffice wrote no PDF for {pptx}: {_tail(converted)}",
                                   fix="open the deck in PowerPoint to check it is not damaged",
                                   path=pptx)
        pages = work / "png"
        pages.mkdir()
        limit = ["-l", str(first)] if first is not None else []
        _run([pdftoppm, "-png", "-r", str(dpi), *limit, str(pdfs[0]), str(pages / "page")],
             pptx, "pdftoppm")
        out_dir.mkdir(parents=True, exist_ok=True)
        for stale in out_dir.glob("page-*.png"):
            if _page_number(stale) is not None:
                stale.unlink()
        rendered = sorted((p for p in pages.glob("page-*.png") if _page_number(p) is not None),
                          key=_page_number)
        # pdftoppm pads numbers to the page count (page-01.png); callers get page-1.png
        return [Path(shutil.move(p, out_dir / f"page-{_page_number(p)}.png")) for p in rendered]


def _page_number(png: Path) -> int | None:
    match = re.fullmatch(r"page-(\d+)\.png", png.name)
    return int(match.group(1)) if match else None


def _tail(done: subprocess.CompletedProcess[str]) -> str:
    return (done.stderr or done.stdout or "no output").strip()[-800:]


def _run(command: list[str], pptx: Path, tool: str) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise DeckBuilderError(f"{tool} took over {TIMEOUT_S} s on {pptx}, so no preview was made",
                               fix="retry; if it hangs again, open the deck to check it",
                               path=pptx) from None
    if done.returncode != 0:
        raise DeckBuilderError(
            f"{tool} failed on {pptx} (exit {done.returncode}): {_tail(done)}",
            fix="check the deck opens in PowerPoint, then retry", path=pptx)
    return done

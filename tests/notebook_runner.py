"""Run the course notebook's code cells in a real Jupyter kernel with ``%load_ext sockviz``.

Started by tests/test_notebook.py on the lab's client host; prints one JSON
line per cell (its execution count and outputs). The cells are the seed's
own, taken from the seed file (the notebook as text).
"""

from __future__ import annotations

import json
import sys


def seed_cells(text: str) -> list[str]:
    """The code of each ``In [None]:`` cell: the longest run of paragraphs that is Python."""
    cells = []
    for block in text.split("In [None]:\n")[1:]:
        parts = block.split("\n\n")
        for n in range(len(parts), 0, -1):
            code = "\n\n".join(parts[:n]).strip()
            try:
                compile(code, "cell", "exec")
            except SyntaxError:
                continue
            cells.append(code)
            break
    return cells


def main() -> int:
    import nbformat
    from nbclient import NotebookClient

    with open(sys.argv[1], encoding="utf-8") as f:
        seed = f.read()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%load_ext sockviz")]
    nb.cells += [nbformat.v4.new_code_cell(code) for code in seed_cells(seed)]
    NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True).execute()
    for cell in nb.cells:
        outputs = []
        for out in cell.outputs:
            if out.output_type == "stream":
                outputs.append({"kind": "stream", "text": out.text})
            elif out.output_type in ("display_data", "execute_result"):
                outputs.append({"kind": out.output_type, "html": out.data.get("text/html", ""),
                                "text": out.data.get("text/plain", "")})
            elif out.output_type == "error":
                outputs.append({"kind": "error", "text": f"{out.ename}: {out.evalue}"})
        print(json.dumps({"source": cell.source, "count": cell.execution_count,
                          "outputs": outputs}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

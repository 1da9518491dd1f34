"""How fast does the capture reader stream a classic pcap file?

Writes a synthetic 1,000,000-packet pcap (64-byte to 1514-byte frames) to a
temporary directory, reads it back with ``sockviz.capfile.reader`` and prints
records per second and the peak resident memory.  Run from the project root:

    python benchmarks/capfile_speed.py [--packets N]
"""

from __future__ import annotations

import argparse
import resource
import struct
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from sockviz.capfile.reader import open_capture

_SIZES = (64, 590, 74, 1514, 60, 128, 1500, 66)  # a mix of ACKs, DNS and full frames


def _records(count: int) -> Iterator[bytes]:
    """pcap records, one at a time, so the file is never held in memory."""
    record = struct.Struct("<IIII").pack
    frames = [bytes(i % 256 for i in range(size)) for size in _SIZES]
    start = 1_700_000_000
    for i in range(count):
        data = frames[i % len(frames)]
        yield record(start + i // 1000, (i % 1000) * 1000, len(data), len(data)) + data


def write_pcap(path: Path, count: int) -> None:
    with open(path, "wb", buffering=1 << 20) as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for rec in _records(count):
            f.write(rec)


def peak_rss_mib() -> float:
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sockviz-bench-") as tmp:
        path = Path(tmp) / "synthetic.pcap"
        try:
            t0 = time.perf_counter()
            write_pcap(path, args.packets)
            size = path.stat().st_size
            print(
                f"wrote {args.packets:,} packets, {size / 2**20:.0f} MiB, "
                f"in {time.perf_counter() - t0:.2f} s; peak RSS {peak_rss_mib():.1f} MiB"
            )
            t0 = time.perf_counter()
            count = 0
            total = 0
            with open_capture(path) as reader:
                for frame in reader:
                    count += 1
                    total += frame.wirelen
                problem = reader.problem
            elapsed = time.perf_counter() - t0
            assert count == args.packets, (count, problem)
            assert problem is None, problem
            print(
                f"read  {count:,} packets in {elapsed:.2f} s: {count / elapsed:,.0f} records/s, "
                f"{size / elapsed / 2**20:.0f} MiB/s; peak RSS {peak_rss_mib():.1f} MiB"
            )
        finally:
            path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()

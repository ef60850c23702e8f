"""Cost of the errata certificates (verification/errata.py), which run whenever a report is written.

Prints, for every erratum of the toolkit, the seconds of one certify() call (after one warm-up call that pays the
sympy / mpmath imports) and its share of the whole, measured side by side in one run.

    .venv/bin/python benchmarks/bench_certificates.py
"""

import time

from verification import registry


def main() -> None:
    registry.load_all()
    errata = [(c.name, c.erratum) for c in registry.select(None) if c.erratum is not None and c.erratum.certify]
    errata[0][1].certify()  # warm-up: imports
    seconds = {}
    for name, e in errata:
        t = time.perf_counter()
        e.certify()
        seconds[name] = time.perf_counter() - t
    total = sum(seconds.values())
    for name, s in sorted(seconds.items(), key=lambda kv: -kv[1]):
        print(f"{name:<60} {s:8.3f} s  {s / total:6.1%}")
    print(f"{'all ' + str(len(seconds)) + ' certificates':<60} {total:8.3f} s")


if __name__ == "__main__":
    main()

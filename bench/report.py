"""How every benchmark reports a target: met or MISSED, never weakened."""

from __future__ import annotations


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0.95, 0.99) of the values, nearest-rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Targets:
    def __init__(self) -> None:
        self.missed: list[str] = []

    def check(self, name: str, met: bool, text: str) -> None:
        print(f"target: {text} → {'met' if met else 'MISSED'}")
        if not met:
            self.missed.append(name)

    def exit_code(self) -> int:
        """1 when a target was missed (the output says which), else 0."""
        if self.missed:
            print("TARGET MISSED: " + ", ".join(self.missed))
            return 1
        return 0

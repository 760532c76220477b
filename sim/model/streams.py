"""Named random streams.

Every source of randomness in a replication has its own numpy Generator, looked up by name
and spawned from one SeedSequence per (base seed, replication number). The same name gives
the same stream in every scenario, so scenarios share common random numbers; no stream is
ever shared between two purposes and there is no global seed.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream_key(name: str) -> int:
    """A stable integer for a stream name (the same on every machine and Python run)."""
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """The named random streams of one replication (base seed, replication number)."""

    def __init__(self, base_seed: int, replication: int):
        if base_seed < 0 or replication < 0:
            raise ValueError("seed and replication number must be non-negative")
        self.base_seed = int(base_seed)
        self.replication = int(replication)
        self._cache: dict[str, np.random.Generator] = {}

    def get(self, name: str) -> np.random.Generator:
        """The generator of the stream ``name`` (created on first use, then reused)."""
        gen = self._cache.get(name)
        if gen is None:
            seq = np.random.SeedSequence(
                entropy=self.base_seed, spawn_key=(self.replication, stream_key(name))
            )
            gen = np.random.Generator(np.random.PCG64(seq))
            self._cache[name] = gen
        return gen

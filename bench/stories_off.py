"""searchapp's CLI with finding stories taken out: the "before" that
bench/stories_cost.py measures the current code against, in one checkout.

    .venv/bin/python bench/stories_off.py rebuild --corpus C --index DIR

No article is fingerprinted (no shingles, signature or band keys: empty ones,
as a body too short to have any), the build's clustering step finds no
stories, and datasketch (with SciPy) is never imported. What is left of
stories runs on empty data (a build's story table and columns are empty,
every article alone): a few microseconds an article, counted against "off".
"""
from __future__ import annotations

import sys

import numpy as np

from searchapp.engine import stories


def switch_off() -> None:
    """Replace the story work of this process (and the workers it forks)."""
    def init(self, *args, **kwargs) -> None:
        self.num_perm, self.bands, self.rows = stories.NUM_PERM, 1, 1

    def text(self, body, outlet=None, words=None):
        return stories.Text(np.empty(0, np.uint64), frozenset(), outlet)

    def band_keys(self, signatures):
        return np.zeros((len(np.atleast_2d(signatures)), self.bands), np.uint64)

    stories.Fingerprints.__init__ = init
    stories.Fingerprints.text = text
    stories.Fingerprints.band_keys = band_keys
    stories.cluster = lambda *args, **kwargs: stories.Stories()


if __name__ == "__main__":
    switch_off()
    from searchapp.cli import main

    sys.exit(main())

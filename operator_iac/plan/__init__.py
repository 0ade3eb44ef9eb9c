"""Pure planning: normalise, diff (the only deepdiff import), the frozen Plan value; no I/O.

- ``builder.build_plan``: (declarations, snapshot, options) -> ``model.Plan``
- ``model``: the Plan and its parts, JSON round trip with checksum
- ``identity``: which remote agent each key stands for (markers, adoption)
- ``selection``: ``--target`` / ``--exclude`` and dependencies
- ``compare``, ``normalise``, ``refs``: both sides reduced to one comparable shape
- ``diff``: field changes with human paths, prompt line diffs
- ``hashing``, ``marker``: content hashes and the ownership marker
- ``risks``: risk flags
- ``writes``: the pure pieces of a write (body, staleness checks, read-back verification)
"""

"""Using a trained student on new recordings: sliding-window frame scores, action segments,
timelines, segment-level detection mAP, and the exported model with its loader.

:mod:`vicokd.inference.exported` (the loader of an exported student) and the modules it reads
(:mod:`~vicokd.inference.windows`, :mod:`~vicokd.inference.segments`) import nothing else of the
project, so a deployment needs only torch, numpy and pandas.
"""

"""Spoken benchmark builders (sWUGGY, sBLIMP, spoken StoryCloze, SALMon-style) writing pair manifests.

``spokenlm benchmarks build NAME`` → :func:`spokenlm.benchmarks.build.build_benchmark`.
"""

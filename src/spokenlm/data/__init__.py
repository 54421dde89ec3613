"""Corpora (lhotse manifests), corpus builders and token shards."""

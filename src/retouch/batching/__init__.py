"""Batches: one tool over many photos, in local worker processes or on a Ray cluster (``retouch.batch``)."""

"""Scoring: the judges (judges.py, judge_training.py), the metrics (metrics.py), scoring a model
into metrics.json (scoring.py), and the report with the paper's claims (report.py, claims.py,
plots.py)."""

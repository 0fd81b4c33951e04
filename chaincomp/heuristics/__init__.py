"""The paper's heuristics (GBP-CR, GCA, tuning of c) and the baselines."""

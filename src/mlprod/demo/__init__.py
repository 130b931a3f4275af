"""``mlprod demo``: the whole lifecycle of a model in one command.

On a synthetic credit-scoring data set with a deliberately injected bias:
data validated and versioned, two models trained, reported on (fairness,
explanations, behaviour) and registered with lineage, promoted through
gates (the biased model refused, the fixed one passed), served behind a
guard with an audit trail, watched for drift, and one prediction traced
back to the model version and the data that decided it.

This package sits on the top layer with the CLI: it may import every other
mlprod package, and nothing imports it.
"""

from mlprod.demo._run import DemoResult, run_demo

__all__ = ["DemoResult", "run_demo"]

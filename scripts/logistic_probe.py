"""The bar a few-photo default must clear: scikit-learn's logistic regression (its defaults: L2,
C = 1, lbfgs) on the raw embeddings of each split's training photos, scored on its test photos.

Reads {"labels": [...], "embeddings": [[...1280 numbers], ...], "splits": [{"train": [...],
"test": [...]}, ...]} on stdin and writes the test accuracy of each split, in order, as JSON.
Run by the few-photo test and benchmark (crates/headstart-core/tests/support) in the Python
that scripts/setup.sh makes.
"""
import json
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression

given = json.load(sys.stdin)
labels = np.array(given["labels"])
embeddings = np.array(given["embeddings"], dtype=np.float64)
accuracies = []
for split in given["splits"]:
    train, test = split["train"], split["test"]
    probe = LogisticRegression(max_iter=5000).fit(embeddings[train], labels[train])
    accuracies.append(float(probe.score(embeddings[test], labels[test])))
json.dump(accuracies, sys.stdout)

"""detection_metrics and roc_curve against scikit-learn (a test dependency: setup.py's dev extras)."""

import numpy as np
import pytest
import sklearn.metrics as skm

from keras_cutmix.ood import detection_metrics, roc_curve


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("sizes", [(500, 300), (37, 1000), (1, 5)])
def test_matches_sklearn(tied, sizes):
    rng = np.random.default_rng(sum(sizes) + tied)
    in_scores, out_scores = rng.normal(1.0, 1.0, sizes[0]), rng.normal(0.0, 1.5, sizes[1])
    if tied:
        in_scores, out_scores = np.round(in_scores), np.round(out_scores)
    scores = np.concatenate([in_scores, out_scores])
    is_in = np.concatenate([np.ones(len(in_scores)), np.zeros(len(out_scores))])
    result = detection_metrics(in_scores, out_scores)
    assert result["auroc"] == pytest.approx(skm.roc_auc_score(is_in, scores), abs=1e-12)
    assert result["aupr_in"] == pytest.approx(skm.average_precision_score(is_in, scores), abs=1e-12)
    assert result["aupr_out"] == pytest.approx(
        skm.average_precision_score(1 - is_in, -scores), abs=1e-12)
    sk_fpr, sk_tpr, _ = skm.roc_curve(is_in, scores, drop_intermediate=False)
    fpr, tpr = roc_curve(in_scores, out_scores)
    np.testing.assert_allclose(fpr, sk_fpr, rtol=0, atol=1e-15)
    np.testing.assert_allclose(tpr, sk_tpr, rtol=0, atol=1e-15)

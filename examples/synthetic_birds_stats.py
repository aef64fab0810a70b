"""Sanity statistics of the embedded "synthetic_birds" data (no training of a network).

    python examples/synthetic_birds_stats.py  # ~50 s on 2 busy CPU cores (20 s of CPU)

Draws the default splits (3000 train from seed (0, 0), 1000 test from seed
(0, 1): the same examples the tfds builder stores) and prints class balance,
box-area distribution, truncation and occlusion rates, the head's share of the
object, and how well each region alone names the class: a nearest-class-mean
and a least-squares linear classifier, fitted on the training split and scored
on the test split, on hand-computed colour features (mean and standard
deviation of R, G, B) of (a) the visible head (the discriminative part),
(b) the visible body without the head, (c) the background. Examples whose
region is empty (head hidden or cut off) get zero features: they count.

What it printed here (the numbers in `synthetic_birds_generator`'s docstring):
head 0.949 (nearest class mean) / 0.935 (linear), body without head 0.300 /
0.426, background 0.102 / 0.092 (chance 0.10).
"""

import numpy as np

from keras_cutmix.data import synthetic_birds_generator as gen


def region_features(images, regions, chunk=250):
    """Mean and standard deviation of R, G, B over each image's region: float64 [n, 6]."""
    features = []
    for start in range(0, len(images), chunk):
        pixels = images[start:start + chunk].astype(np.float32)
        weight = regions[start:start + chunk, :, :, None].astype(np.float32)
        count = np.maximum(weight.sum((1, 2), dtype=np.float64), 1.0)
        mean = (pixels * weight).sum((1, 2), dtype=np.float64) / count
        var = ((pixels - mean[:, None, None]) ** 2 * weight).sum((1, 2), dtype=np.float64) / count
        features.append(np.concatenate([mean, np.sqrt(var)], 1))
    return np.concatenate(features)


def nearest_class_mean_accuracy(train_x, train_y, test_x, test_y):
    """Accuracy of the nearest class mean (Euclidean, features standardised on train)."""
    mu, sd = train_x.mean(0), train_x.std(0) + 1e-9
    train_x, test_x = (train_x - mu) / sd, (test_x - mu) / sd
    means = np.stack([train_x[train_y == k].mean(0) for k in range(gen.NUM_CLASSES)])
    distance = ((test_x[:, None] - means[None]) ** 2).sum(-1)
    return float((distance.argmin(1) == test_y).mean())


def linear_accuracy(train_x, train_y, test_x, test_y, ridge=1e-3):
    """Accuracy of a ridge least-squares fit to one-hot labels (features standardised on train)."""
    mu, sd = train_x.mean(0), train_x.std(0) + 1e-9
    design = lambda x: np.concatenate([(x - mu) / sd, np.ones((len(x), 1))], 1)
    a = design(train_x)
    targets = np.eye(gen.NUM_CLASSES)[train_y]
    weights = np.linalg.solve(a.T @ a + ridge * np.eye(a.shape[1]), a.T @ targets)
    return float(((design(test_x) @ weights).argmax(1) == test_y).mean())


def split_statistics(data):
    """Balance, areas, truncation, occlusion and part share of one generated split."""
    amodal, mask, part, occluder = (data[k] for k in ("amodal_mask", "mask", "part_mask",
                                                      "occluder_mask"))
    n = len(mask)
    bbox = data["bbox"]
    area = (bbox[:, 2] - bbox[:, 0]) * (bbox[:, 3] - bbox[:, 1])
    truncated = (amodal[:, 0].any(1) | amodal[:, -1].any(1)
                 | amodal[:, :, 0].any(1) | amodal[:, :, -1].any(1))
    hidden = (amodal & occluder).reshape(n, -1).sum(1) / amodal.reshape(n, -1).sum(1)
    occluded = hidden > 0
    part_share = part.reshape(n, -1).sum(1) / mask.reshape(n, -1).sum(1)
    clean = ~truncated & ~occluded
    return {
        "n": n,
        "class_counts": np.bincount(data["label"], minlength=gen.NUM_CLASSES).tolist(),
        "box_area_min_p10_p50_p90_max": np.percentile(area, [0, 10, 50, 90, 100]).round(3).tolist(),
        "box_area_histogram_5_15_25_35_45_60": np.histogram(
            area, [0.05, 0.15, 0.25, 0.35, 0.45, 0.6001])[0].tolist(),
        "truncated_rate": float(truncated.mean()),
        "occluded_rate": float(occluded.mean()),
        "hidden_share_of_occluded_p50_p90_max": np.percentile(
            hidden[occluded], [50, 90, 100]).round(3).tolist(),
        "head_invisible_rate": float((part.reshape(n, -1).sum(1) == 0).mean()),
        "head_share_clean_mean_max": [float(part_share[clean].mean()), float(part_share[clean].max())],
        "head_share_all_mean_max": [float(part_share.mean()), float(part_share.max())],
    }


def region_accuracies(train, test):
    """Nearest-class-mean and linear accuracies of the head, body-without-head and background."""
    results = {}
    for name, region in [
            ("part (visible head)", lambda d: d["part_mask"]),
            ("body without head", lambda d: d["mask"] & ~d["part_mask"]),
            ("background", lambda d: ~d["amodal_mask"] & ~d["occluder_mask"])]:
        train_x = region_features(train["image"], region(train))
        test_x = region_features(test["image"], region(test))
        args = (train_x, train["label"], test_x, test["label"])
        results[name] = {"nearest_class_mean": nearest_class_mean_accuracy(*args),
                         "linear": linear_accuracy(*args)}
    return results


def main():
    train = gen.generate_split((0, 0), 3000)
    test = gen.generate_split((0, 1), 1000)
    for name, data in (("train", train), ("test", test)):
        print(name)
        for key, value in split_statistics(data).items():
            print(f"  {key}: {value}")
    print(f"part share of the whole object in the unit frame (min, max): "
          f"{gen.part_fraction_bounds()}")
    print("test accuracy of colour features (chance 0.10):")
    for name, scores in region_accuracies(train, test).items():
        print(f"  {name:22s} nearest class mean {scores['nearest_class_mean']:.3f}   "
              f"linear {scores['linear']:.3f}")


if __name__ == "__main__":
    main()

"""Pure NumPy generator of the "synthetic_birds" images: CUB-like on purpose (no TensorFlow).

`synthetic_shapes` names its class by the whole silhouette, so any map that covers the object is right. Fine-grained
birds share one kind of body and a few small parts (crown, throat, wing bar) tell them apart; a CAM then locks onto
those parts (Zhou et al. 2016), the effect CutMix is said to reduce (Yun et al. 2019, supplementary Section B). This
generator builds that situation in, with the design fixed before any model was trained on it:

* **Body, shared by every class.** A "bird" in its own frame (`u` forward, `v` up, unit = half the body
  length `L`): an ellipse body (semi-axes 1 and `b`, `b` uniform in `BODY_B`), a wedge tail behind it, a
  disc head (centre `(0.92, 0.30)`, radius 0.32) with an eye, and a beak. Wing (a darker ellipse), eye
  and beak are class-agnostic decoration.
* **The discriminative part: the head.** Its colour is the class's (`HEAD_COLOURS`, +-12 per channel of
  per-image jitter and the image noise). It covers 12-17% of the whole object's pixels (never more than
  20%; `part_fraction_bounds` measures it) and alone identifies the class.
* **Weak, noisy cues on the rest of the body.** Body colour `(1 - alpha) * drab + alpha * cue`: a drab
  random colour (saturation 0-0.3, value 0.3-0.75), `alpha` uniform in `BODY_CUE_ALPHA` (0.1-0.35), the
  cue colour the class's head colour with probability `BODY_CUE_RELIABILITY` (0.7), else a uniformly
  random class's (which may be the right one). Grey per-pixel noise (uniform, standard deviation 14) on
  body and wing; uniform noise of deviation 5 per channel on the whole image.
* **Background: no class cues.** `synthetic_generator`'s background, drawn independently of the label.
* **Pose and size.** Rotation uniform in +-35 degrees, facing left or right, body aspect `b`, position
  uniform; size chosen so that a conservative box of the in-image object covers a fraction of the image
  drawn uniformly in 7-75% (capped so that the object fits); examples whose visible tight box is outside
  5-60% of the image are redrawn (same label).
* **Truncation.** With probability `TRUNCATION_PROB` (0.25) the object is pushed over one random border by
  15-40% of its box extent on that axis (and may then be larger than the image on that axis).
* **Occlusion.** With probability `OCCLUSION_PROB` (0.3) a straight "branch" (a dark brown band, half-width 0.12-0.25
  `L`, random angle, through a random point on the body's axis) is drawn over the bird and the background.

`mask` holds the VISIBLE object pixels (in the image, not under the branch) and `bbox` is its tight box,
tfds-normalised like `caltech_birds2011`'s: a truncated object's box stops at the border, and a branch
that hides an end of the bird shrinks the box (what an annotator sees); `generate_batch` lists the
masks kept for tests and statistics.

Images are 128x128: a stride-8 network (a small CAM model with three 2x downsamplings) gives a 16x16 CAM (an
8x8 map would quantise boxes to 16 pixels); build with `image_size=256` for a stride-16 one (ResNet-50 with
`last_stride=1`; four times the CPU). The smallest birds (box 5% of the image, L about 15 pixels) have heads
about 10 pixels wide, more than one 8-pixel CAM cell.

Measured on the default splits (3000 train from seed (0, 0), 1000 test from (0, 1);
`python examples/synthetic_birds_stats.py`, nothing trained): classes exactly balanced (300 / 100 each); visible box
area min / p10 / median / p90 / max 5.0 / 9.7 / 27.2 / 40.4 / 56.0% of the image (train); truncated 25.3% (train) /
23.0% (test), occluded 29.1% / 30.9%, of which a median 22% (p90 41%) of the object is hidden; head invisible (cut
off or hidden) 3.0% / 2.7%; head share of whole, unoccluded birds 14.4% on average, 16.7% at most (of a cut or partly
hidden bird's visible part: up to 36%). Colour features (mean and deviation of R, G, B) of one region, fitted on
train, test accuracy (chance 10%): visible head 94.9% (nearest class mean) / 93.5% (linear); body without head
30.0% / 42.6%; background 10.2% / 9.2%. Generating the 4000 examples takes about 16 s of CPU here.

Everything is drawn from the `numpy.random.Generator` passed in (float32 arithmetic), so the same seed
gives the same bytes on the same NumPy build.
"""

import numpy as np

from keras_cutmix.data import synthetic_generator

HEAD_COLOURS = np.array([(220, 30, 30), (245, 140, 20), (240, 225, 40), (40, 190, 60), (40, 210, 220),
                         (40, 70, 220), (130, 50, 200), (230, 60, 190), (245, 245, 245), (20, 20, 20)], np.float32)
CLASS_NAMES = ("red_headed", "orange_headed", "yellow_headed", "green_headed", "cyan_headed",
               "blue_headed", "purple_headed", "magenta_headed", "white_headed", "black_headed")
NUM_CLASSES = len(CLASS_NAMES)
IMAGE_SIZE = 128
BODY_B = (0.45, 0.65)  # Body ellipse semi-minor axis, in units of L.
HEAD_CENTRE = (0.92, 0.30)
HEAD_RADIUS = 0.32
BODY_CUE_ALPHA = (0.1, 0.35)
BODY_CUE_RELIABILITY = 0.7
BODY_NOISE = 14.0
HEAD_JITTER = 12.0
IMAGE_NOISE = 5.0
MAX_ROTATION_DEGREES = 35.0
TARGET_BOX_FRACTION = (0.07, 0.75)
BOX_FRACTION = (0.05, 0.60)  # Visible tight box, fraction of the image area.
TRUNCATION_PROB = 0.25
TRUNCATION_FRACTION = (0.15, 0.40)
OCCLUSION_PROB = 0.3
OCCLUDER_HALF_WIDTH = (0.12, 0.25)  # In units of L.
# Conservative object rectangle in the unit frame: u in [-1.55, 1.45], |v| <= 0.65.
_RECT_U, _RECT_V = (-1.55, 1.45), (-0.65, 0.65)
_CHUNK = 256


def _unit_parts(u, v, b):
    """Boolean masks of the bird's pieces in its unit frame (broadcasting arrays)."""
    body = u * u + (v / b) ** 2 <= 1.0
    tail = (u >= -1.55) & (u <= -0.75) & (np.abs(v + 0.05) <= 0.06 + 0.3 * (-0.75 - u) / 0.8)
    hu, hv = u - HEAD_CENTRE[0], v - HEAD_CENTRE[1]
    head = hu * hu + hv * hv <= HEAD_RADIUS**2
    beak = (u >= 1.18) & (u <= 1.45) & (np.abs(hv) <= 0.09 * (1.45 - u) / 0.27)
    wing = ((u + 0.1) / 0.6) ** 2 + ((v - 0.05) / (0.55 * b)) ** 2 <= 1.0
    eye = (hu - 0.1) ** 2 + (hv - 0.06) ** 2 <= 0.06**2
    return {"body": body, "tail": tail, "head": head, "beak": beak, "wing": wing, "eye": eye}


def part_fraction_bounds(resolution=1200):
    """Head area over the whole object area in the unit frame, at the extreme body aspects.

    Args:
        resolution: Grid points per unit length. Defaults to 1200.

    Returns:
        `(fraction at BODY_B[1], fraction at BODY_B[0])`: the smallest and the
        largest part fraction (the ratio falls as the body widens).
    """
    u, v = np.meshgrid(np.arange(-1.6, 1.5, 1.0 / resolution), np.arange(-0.7, 0.7, 1.0 / resolution), sparse=True)
    fractions = []
    for b in (BODY_B[1], BODY_B[0]):
        p = _unit_parts(u, v, b)
        whole = p["body"] | p["tail"] | p["head"] | p["beak"]
        fractions.append(float(p["head"].sum() / whole.sum()))
    return tuple(fractions)


def _pose(rng, n, size):
    """Draws scale, rotation, facing and centre of `n` birds (centre may push them over a border)."""
    b = rng.uniform(*BODY_B, n).astype(np.float32)
    theta = np.deg2rad(rng.uniform(-MAX_ROTATION_DEGREES, MAX_ROTATION_DEGREES, n))
    facing = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    cos, sin = np.cos(theta), np.sin(theta)
    # Pixel offsets (dy, dx) of the conservative rectangle's corners for L = 1.
    cu = np.array([_RECT_U[0], _RECT_U[0], _RECT_U[1], _RECT_U[1]])[None]
    cv = np.array([_RECT_V[0], _RECT_V[1], _RECT_V[0], _RECT_V[1]])[None]
    cdx = facing[:, None] * cu * cos[:, None] + cv * sin[:, None]
    cdy = facing[:, None] * cu * sin[:, None] - cv * cos[:, None]
    extent = np.stack([cdy.max(1) - cdy.min(1), cdx.max(1) - cdx.min(1)], 1)  # [n, 2] for L = 1
    truncated = rng.random(n) < TRUNCATION_PROB
    axis = rng.integers(0, 2, n)  # 0: pushed over the top or bottom border, 1: left or right.
    side = rng.integers(0, 2, n)  # 0: top or left, 1: bottom or right.
    over_fraction = rng.uniform(*TRUNCATION_FRACTION, n)
    rows = np.arange(n)
    target = rng.uniform(*TARGET_BOX_FRACTION, n) * size * size
    in_image = np.where(truncated, 1.0 - over_fraction, 1.0)  # Share of the box left in the image.
    length = np.sqrt(target / (in_image * extent.prod(1)))
    # The object fits the image; a truncated one only needs its in-image part to fit on the pushed axis.
    fits = 0.98 * size / extent.max(1)
    fits_truncated = 0.98 * size / np.maximum(extent[rows, 1 - axis], (1.0 - over_fraction) * extent[rows, axis])
    length = np.minimum(length, np.where(truncated, fits_truncated, fits))
    lo = -np.stack([cdy.min(1), cdx.min(1)], 1) * length[:, None]  # Centre's smallest in-image value.
    hi = size - np.stack([cdy.max(1), cdx.max(1)], 1) * length[:, None]
    centre = lo + rng.random((n, 2)) * np.maximum(hi - lo, 0.0)
    over = over_fraction * extent[rows, axis] * length
    pushed = np.where(side == 0, lo[rows, axis] - over, hi[rows, axis] + over)
    centre[rows, axis] = np.where(truncated, pushed, centre[rows, axis])
    return {"b": b, "cos": cos, "sin": sin, "facing": facing, "length": length, "cy": centre[:, 0], "cx": centre[:, 1]}


def _unit_coordinates(pose, grid):
    """Unit-frame coordinates `(u, v)` [n, H, W] of every pixel centre."""
    yy, xx = grid
    f32 = lambda a: np.asarray(a, np.float32)[:, None, None]
    dy, dx = yy[None] - f32(pose["cy"]), xx[None] - f32(pose["cx"])
    cos, sin, length = f32(pose["cos"]), f32(pose["sin"]), f32(pose["length"])
    u = f32(pose["facing"]) * (dx * cos + dy * sin) / length
    v = (dx * sin - dy * cos) / length
    return u, v


def _occluder(rng, n, pose, grid):
    """Branch masks [n, H, W] (all False where no branch is drawn)."""
    yy, xx = grid
    present = rng.random(n) < OCCLUSION_PROB
    along = rng.uniform(-0.8, 0.8, n) * pose["length"] * pose["facing"]
    py = pose["cy"] + along * pose["sin"]
    px = pose["cx"] + along * pose["cos"]
    phi = rng.uniform(0.0, np.pi, n)
    half = rng.uniform(*OCCLUDER_HALF_WIDTH, n) * pose["length"]
    f32 = lambda a: np.asarray(a, np.float32)[:, None, None]
    dist = np.abs((yy[None] - f32(py)) * f32(np.cos(phi)) - (xx[None] - f32(px)) * f32(np.sin(phi)))
    return (dist < f32(half)) & f32(present).astype(bool)


def _colours(rng, labels):
    """Head, body and beak colours [n, 3] of the birds."""
    n = len(labels)
    head = HEAD_COLOURS[labels] + rng.uniform(-HEAD_JITTER, HEAD_JITTER, (n, 3)).astype(np.float32)
    random_class = rng.integers(0, NUM_CLASSES, n)
    cue = np.where(rng.random(n) < BODY_CUE_RELIABILITY, labels, random_class)
    alpha = rng.uniform(*BODY_CUE_ALPHA, (n, 1)).astype(np.float32)
    drab = synthetic_generator._random_colours(rng, n, saturation=(0.0, 0.3), value=(0.3, 0.75))
    body = (1.0 - alpha) * drab + alpha * HEAD_COLOURS[cue]
    beak = rng.uniform(150.0, 200.0, (n, 1)).astype(np.float32) * np.float32([1.0, 0.9, 0.5])
    return head, body, beak


def _uniform_noise(rng, shape, std):
    """Zero-mean uniform noise of standard deviation `std` (ten times cheaper than normal)."""
    half_width = np.float32(std * np.sqrt(3.0))
    return (rng.random(shape, dtype=np.float32) * 2.0 - 1.0) * half_width


def _draw(rng, labels, image_size):
    """Draws one attempt per label (no rejection); returns the generate_batch dict."""
    n, size = len(labels), float(image_size)
    grid = synthetic_generator._pixel_grid(image_size)
    image = synthetic_generator._background(rng, n, grid, size)
    pose = _pose(rng, n, size)
    occluder = _occluder(rng, n, pose, grid)
    head_colour, body_colour, beak_colour = _colours(rng, labels)
    u, v = _unit_coordinates(pose, grid)
    p = _unit_parts(u, v, pose["b"].astype(np.float32)[:, None, None])
    amodal = p["body"] | p["tail"] | p["head"] | p["beak"]
    # One colour table per image, indexed by region: 0 body, 1 wing, 2 head, 3 eye, 4 beak.
    table = np.stack([body_colour, 0.7 * body_colour, head_colour,
                      np.full_like(head_colour, 250.0), beak_colour], 1)
    region = np.select([p["beak"], p["eye"], p["head"], p["wing"]], [4, 3, 2, 1], 0).astype(np.int8)
    bird = np.take_along_axis(table, region.reshape(n, -1, 1).astype(np.intp), 1)
    bird = bird.reshape(image.shape)
    mottle = _uniform_noise(rng, (n, image_size, image_size, 1), BODY_NOISE)
    bird += np.where((region <= 1)[..., None], mottle, np.float32(0.0))
    np.copyto(image, bird, where=amodal[..., None])
    branch = rng.uniform(60.0, 110.0, (n, 1, 1, 1)).astype(np.float32) * np.float32([1.0, 0.7, 0.4])
    np.copyto(image, np.broadcast_to(branch, image.shape), where=occluder[..., None])
    image += _uniform_noise(rng, image.shape, IMAGE_NOISE)
    mask = amodal & ~occluder
    empty = ~mask.reshape(n, -1).any(1)
    mask[empty, 0, 0] = True  # Placeholder so boxes compute; such examples are redrawn.
    bbox = synthetic_generator._tight_boxes(mask, size).astype(np.float32)
    mask[empty, 0, 0] = False
    return {
        "image": np.clip(np.round(image), 0, 255).astype(np.uint8),
        "label": labels.astype(np.int64),
        "bbox": bbox,
        "mask": mask,
        "part_mask": p["head"] & ~occluder,
        "amodal_mask": amodal,
        "occluder_mask": occluder,
    }


def generate_batch(rng, n, *, image_size=IMAGE_SIZE):
    """Draws `n` examples at once (balanced labels come from `generate_split`).

    Examples whose visible tight box covers less than 5% or more than 60% of
    the image (or nothing) are redrawn, with the same label, until none is left.

    Args:
        rng: A `numpy.random.Generator`; all randomness comes from it.
        n: Number of examples, a positive int.
        image_size: Height and width in pixels. Defaults to 128.

    Returns:
        A dict with `image` uint8 [n, S, S, 3], `label` int64 [n], `bbox` float32 [n, 4] (normalised
        `[ymin, xmin, ymax, xmax]`, the tight box of `mask`), and bool [n, S, S] `mask` (visible object), `part_mask`
        (visible head), `amodal_mask` (object in the image, occluded or not) and `occluder_mask` (the branch).

    Raises:
        ValueError: if `n < 1` or `image_size < 32`.
    """
    synthetic_generator._check_sizes(n, image_size, 32)
    labels = rng.integers(0, NUM_CLASSES, int(n))
    return _generate(rng, labels, int(image_size))


def _generate(rng, labels, image_size):
    batch = _draw(rng, labels, image_size)
    while True:
        bbox = batch["bbox"]
        fraction = (bbox[:, 2] - bbox[:, 0]) * (bbox[:, 3] - bbox[:, 1])
        redo = np.flatnonzero(~batch["mask"].reshape(len(labels), -1).any(1)
                              | (fraction < BOX_FRACTION[0]) | (fraction > BOX_FRACTION[1]))
        if not len(redo):
            return batch
        again = _draw(rng, labels[redo], image_size)
        for key in batch:
            batch[key][redo] = again[key]


def iterate_split(seed, n, *, image_size=IMAGE_SIZE):
    """Yields the examples of `generate_split` in chunks of at most 256 (less memory).

    Args:
        seed: An int or a sequence of ints, passed to `numpy.random.default_rng`.
        n: Number of examples.
        image_size: Height and width in pixels. Defaults to 128.

    Yields:
        Dicts like `generate_batch`'s.
    """
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(int(n)) % NUM_CLASSES)  # Balanced: see generate_split.
    for start in range(0, int(n), _CHUNK):
        yield _generate(rng, labels[start:start + _CHUNK], int(image_size))


def generate_split(seed, n, *, image_size=IMAGE_SIZE):
    """Draws `n` examples deterministically from `seed`, with balanced labels.

    Args:
        seed: An int or a sequence of ints (e.g. `(seed, split_index)`), passed to `numpy.random.default_rng`.
        n: Number of examples.
        image_size: Height and width in pixels. Defaults to 128.

    Returns:
        The dict of `generate_batch`, with `n` examples; each class appears `n // NUM_CLASSES` or one more times.
    """
    chunks = list(iterate_split(seed, n, image_size=image_size))
    return {key: np.concatenate([c[key] for c in chunks]) for key in chunks[0]}

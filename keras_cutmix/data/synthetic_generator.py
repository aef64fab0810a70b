"""Pure NumPy generator of the "synthetic_shapes" images (no TensorFlow).

Every image holds one *target* object whose shape gives the label, drawn on a cluttered background (a smooth colour
field, random lines, pixel noise) with 0 to 3 smaller *distractor* objects. Colour, texture, position, scale, aspect
ratio and rotation are random and independent of the label, so only the shape tells the classes apart. How well a CNN
learns it, per mixing method: see `examples/compare_methods.py` and the README's mini reproduction.

The rule that keeps the label well defined:

* distractors have the shape of a class *other* than the target's,
* a distractor's scale is at most `DISTRACTOR_MAX_RATIO` (0.5) times the
  target's, so the target is always the largest object,
* distractors are drawn first and the target last, so the target is never
  occluded, and it lies fully inside the image (distractors may be cut off).

The box is the tight box of the target's pixels, normalised like tfds:
`[ymin, xmin, ymax, xmax]` with pixel rows `r0..r1` covering `[r0 / H, (r1 + 1) / H]`.

`generate_novel_batch` (near-out-of-distribution images for `keras_cutmix.ood`) and `generate_scenes` (the
"synthetic_detection" scenes) reuse these parts and leave `generate_batch`'s draws unchanged. Everything is
drawn from the `numpy.random.Generator` passed in, so the same seed gives the same images (bit for bit with the
same NumPy build; another BLAS may move a rare pixel by one level).
"""

import numpy as np

CLASS_NAMES = ("circle", "square", "triangle", "diamond", "plus", "ring", "x_cross", "frame", "star", "crescent")
NUM_CLASSES = len(CLASS_NAMES)
# Shapes of no class, the targets of `generate_novel_batch`; their shape ids follow the classes': NUM_CLASSES + index.
NOVEL_SHAPE_NAMES = ("heart", "hexagon", "arrow", "half_disc")
IMAGE_SIZE = 64
TARGET_SCALE = (9.0, 22.0)  # Radius in pixels of the shape's unit disc.
DISTRACTOR_MIN_SCALE = 3.5
DISTRACTOR_MAX_RATIO = 0.5
MAX_ROTATION_DEGREES = 15.0  # Keeps square/diamond and plus/x_cross apart.
_CHUNK = 256  # Examples drawn at once by generate_split.
# The largest target, stretched, with its 1-pixel margin on both sides (48 let sizes 48, 49 fail in rng.uniform).
MIN_IMAGE_SIZE = int(np.ceil(2 * (TARGET_SCALE[1] * np.sqrt(1.15) + 1.0)))  # 50


def _shape_mask(shape_id, u, v):
    """Masks of one shape in unit coordinates; every shape fits the unit disc."""
    r2 = u * u + v * v
    au, av = np.abs(u), np.abs(v)
    if shape_id == 0:  # circle
        return r2 <= 0.95**2
    if shape_id == 1:  # square
        return np.maximum(au, av) <= 0.68
    if shape_id == 2:  # triangle, apex up
        return (u <= 0.55) & (av <= (u + 0.95) * (0.8 / 1.5))
    if shape_id == 3:  # diamond
        return au + av <= 0.95
    if shape_id == 4:  # plus
        return ((au <= 0.3) & (av <= 0.9)) | ((av <= 0.3) & (au <= 0.9))
    if shape_id == 5:  # ring
        return (r2 <= 0.95**2) & (r2 >= 0.5**2)
    if shape_id == 6:  # x_cross: the plus turned by 45 degrees
        p, q = np.abs(u + v) / np.sqrt(2.0), np.abs(u - v) / np.sqrt(2.0)
        return ((p <= 0.28) & (q <= 0.9)) | ((q <= 0.28) & (p <= 0.9))
    if shape_id == 7:  # frame: a hollow square
        m = np.maximum(au, av)
        return (m <= 0.68) & (m >= 0.38)
    if shape_id == 8:  # star: five rounded points
        phi = np.arctan2(u, v)
        return np.sqrt(r2) <= 0.95 * (0.62 + 0.38 * np.cos(5.0 * phi))
    if shape_id == 9:  # crescent
        return (r2 <= 0.95**2) & (u * u + (v - 0.45) ** 2 > 0.75**2)
    return _novel_shape_mask(shape_id - NUM_CLASSES, u, v)


def _novel_shape_mask(novel_id, u, v):
    """Masks of the novel (out-of-distribution) shapes; `u` points down, `v` right."""
    au, av = np.abs(u), np.abs(v)
    if novel_id == 0:  # heart: (x^2 + y^2 - 1)^3 <= x^2 y^3, point down
        x, y = v / 0.68, 0.08 - u / 0.68
        return (x * x + y * y - 1.0) ** 3 <= x * x * y**3
    if novel_id == 1:  # hexagon, flat top, corners on the 0.95 circle
        half_height = 0.95 * np.sqrt(3.0) / 2.0
        return (au <= half_height) & (np.sqrt(3.0) * av + au <= 2.0 * half_height)
    if novel_id == 2:  # arrow pointing right: a shaft and a triangular head
        shaft = (au <= 0.2) & (v >= -0.9) & (v <= 0.1)
        head = (v >= 0.1) & (au <= (0.9 - v) * 0.8)
        return shaft | head
    if novel_id == 3:  # half_disc: a disc cut by a horizontal chord below its centre
        return (u * u + v * v <= 0.95**2) & (u <= 0.3)
    raise ValueError(f"Expected a shape id in [0, {NUM_CLASSES + len(NOVEL_SHAPE_NAMES)}). "
                     f"Received: shape_id={novel_id + NUM_CLASSES}")


def _draw_masks(shape_ids, cy, cx, scale, rng, grid):
    """Boolean masks [n, H, W] of randomly rotated and stretched shapes."""
    n = len(shape_ids)
    yy, xx = grid
    aspect = np.sqrt(rng.uniform(0.85, 1.15, n)).astype(np.float32)
    theta = np.deg2rad(rng.uniform(-MAX_ROTATION_DEGREES, MAX_ROTATION_DEGREES, n))
    cos, sin = (t.astype(np.float32)[:, None, None] for t in (np.cos(theta), np.sin(theta)))
    sy, sx = (scale * aspect)[:, None, None], (scale / aspect)[:, None, None]
    dy = yy[None] - cy.astype(np.float32)[:, None, None]
    dx = xx[None] - cx.astype(np.float32)[:, None, None]
    u = (dy * cos + dx * sin) / sy
    v = (dx * cos - dy * sin) / sx
    masks = np.zeros((n,) + yy.shape, dtype=bool)
    for shape_id in np.unique(shape_ids):
        idx = shape_ids == shape_id
        masks[idx] = _shape_mask(int(shape_id), u[idx], v[idx])
    return masks


def _random_colours(rng, n, saturation, value):
    """RGB colours [n, 3] in [0, 255] from random hues (HSV to RGB)."""
    h = rng.uniform(0.0, 6.0, n)
    s, v = rng.uniform(*saturation, n), rng.uniform(*value, n)
    c = v * s
    x = c * (1.0 - np.abs(h % 2.0 - 1.0))
    zeros = np.zeros(n)
    table = np.stack([
        np.stack([c, x, zeros], -1), np.stack([x, c, zeros], -1),
        np.stack([zeros, c, x], -1), np.stack([zeros, x, c], -1),
        np.stack([x, zeros, c], -1), np.stack([c, zeros, x], -1),
    ], 1)
    rgb = table[np.arange(n), np.floor(h).astype(int)] + (v - c)[:, None]
    return (255.0 * rgb).astype(np.float32)


def _texture(texture, period, psi, grid):
    """Where [n, H, W] the base colour shows: solid, stripes, checker or dots."""
    yy, xx = grid
    if texture == 0:
        return np.ones((len(period),) + yy.shape, dtype=bool)
    if texture == 1:
        phase = yy * np.cos(psi) + xx * np.sin(psi)
        return (phase / period) % 1.0 < 0.5
    if texture == 2:
        cell = np.floor(period / 2)
        return (np.floor(yy / cell) + np.floor(xx / cell)) % 2 == 0
    oy, ox = (yy % period) - period / 2, (xx % period) - period / 2
    return oy * oy + ox * ox > (period / 3.5) ** 2


def _paint(image, idx, shape_ids, cy, cx, scale, rng, grid):
    """Paints one textured shape into each image `image[idx]`; returns the masks."""
    n = len(idx)
    masks = _draw_masks(shape_ids, cy, cx, scale, rng, grid)
    base = _random_colours(rng, n, saturation=(0.55, 1.0), value=(0.6, 1.0))
    dark = base * rng.uniform(0.3, 0.6, (n, 1)).astype(np.float32)
    textures = rng.integers(0, 4, n)
    period = rng.uniform(4.0, 8.0, (n, 1, 1)).astype(np.float32)
    psi = rng.uniform(0.0, np.pi, (n, 1, 1)).astype(np.float32)
    use_base = np.zeros_like(masks)
    for texture in np.unique(textures):
        sel = textures == texture
        use_base[sel] = _texture(texture, period[sel], psi[sel], grid)
    whole = len(idx) == len(image)
    target = image if whole else image[idx]
    np.copyto(target, dark[:, None, None], where=masks[..., None])
    np.copyto(target, base[:, None, None], where=(masks & use_base)[..., None])
    if not whole:
        image[idx] = target
    return masks


def _background(rng, n, grid, size):
    """Cluttered backgrounds [n, H, W, 3]: smooth low-saturation colour field and lines."""
    yy, xx = grid
    coarse = rng.uniform(-40.0, 40.0, (n, 4, 4, 3))
    coarse += rng.uniform(50.0, 200.0, (n, 1, 1, 1)) + rng.uniform(-20.0, 20.0, (n, 1, 1, 3))
    knots = np.linspace(0.0, size, 4)
    weights = np.maximum(0.0, 1.0 - np.abs(yy[:, :1] - knots[None]) / (size / 3.0))
    weights = weights.astype(np.float32)  # [H, 4] tent interpolation
    cols = np.matmul(weights, coarse.astype(np.float32))  # [n, 4, W, 3]: along x
    image = np.matmul(weights, cols.reshape(n, 4, -1)).reshape(n, len(weights), len(weights), 3)
    mean = coarse.mean((1, 2), keepdims=True).astype(np.float32) * 0.4
    for _ in range(3):  # Random thin lines across the image.
        py, px = rng.uniform(0, size, (2, n, 1, 1)).astype(np.float32)
        phi = rng.uniform(0.0, np.pi, (n, 1, 1)).astype(np.float32)
        width = rng.uniform(0.6, 1.6, (n, 1, 1)).astype(np.float32)
        line = np.abs((yy - py) * np.cos(phi) - (xx - px) * np.sin(phi)) < width
        colour = rng.uniform(0.0, 153.0, (n, 1, 1, 3)).astype(np.float32) + mean
        np.copyto(image, colour, where=line[..., None])
    return image


def _check_sizes(n, image_size, min_image_size=MIN_IMAGE_SIZE):
    """Raises the ValueError of the generators (here and in the birds and caption generators)."""
    if int(n) < 1:
        raise ValueError(f"Expected n >= 1. Received: n={n}")
    if image_size < min_image_size:
        raise ValueError(f"Expected image_size >= {min_image_size}. Received: image_size={image_size}")


def _pixel_grid(image_size):
    """Pixel-centre coordinates `(yy, xx)`, float32 [S, S] each."""
    return tuple(g.astype(np.float32) + 0.5 for g in np.mgrid[0:image_size, 0:image_size])


def _tight_boxes(mask, size):
    """Tight boxes [..., 4] of non-empty masks [..., H, W], normalised by `size` (tfds convention), float64."""
    rows, cols = mask.any(-1), mask.any(-2)
    first = lambda m: np.argmax(m, -1)
    last = lambda m: m.shape[-1] - 1 - np.argmax(m[..., ::-1], -1)
    return np.stack([first(rows), first(cols), last(rows) + 1, last(cols) + 1], -1) / size


def _compose(rng, shape_ids, labels, distractor_shapes, image_size):
    """Background, distractors, then the target of shape `shape_ids` [n]: the dict of `generate_batch`.

    `distractor_shapes(idx)` draws the shape ids of the distractors of images `idx`.
    """
    n = len(shape_ids)
    size = float(image_size)
    grid = _pixel_grid(image_size)
    scale = rng.uniform(*TARGET_SCALE, n).astype(np.float32)
    image = _background(rng, n, grid, size)
    num_distractors = rng.integers(0, 4, n)
    for slot in range(3):
        idx = np.flatnonzero(slot < num_distractors)
        if not len(idx):
            continue
        other = distractor_shapes(idx)
        d_scale = rng.uniform(DISTRACTOR_MIN_SCALE, DISTRACTOR_MAX_RATIO * scale[idx])
        dy, dx = rng.uniform(0.0, size, (2, len(idx)))
        _paint(image, idx, other, dy, dx, d_scale.astype(np.float32), rng, grid)
    margin = scale * np.sqrt(1.15) + 1.0  # The stretched unit disc stays inside the image.
    cy = rng.uniform(margin, size - margin)
    cx = rng.uniform(margin, size - margin)
    mask = _paint(image, np.arange(n), shape_ids, cy, cx, scale, rng, grid)
    image += rng.standard_normal(image.shape, dtype=np.float32) * 5.0
    return {"image": np.clip(np.round(image), 0, 255).astype(np.uint8), "label": labels.astype(np.int64),
            "bbox": _tight_boxes(mask, size).astype(np.float32), "mask": mask}


def generate_batch(rng, n, *, image_size=IMAGE_SIZE):
    """Draws `n` examples at once.

    Args:
        rng: A `numpy.random.Generator`; all randomness comes from it.
        n: Number of examples, a positive int.
        image_size: Height and width in pixels. Defaults to 64.

    Returns:
        A dict with `image` uint8 [n, S, S, 3], `label` int64 [n], `bbox` float32 [n, 4] (normalised
        `[ymin, xmin, ymax, xmax]`) and `mask` bool [n, S, S] (the target object's pixels, all visible).
    """
    _check_sizes(n, image_size)
    labels = rng.integers(0, NUM_CLASSES, n)
    other_class = lambda idx: (labels[idx] + rng.integers(1, NUM_CLASSES, len(idx))) % NUM_CLASSES
    return _compose(rng, labels, labels, other_class, image_size)


def generate_novel_batch(rng, n, *, image_size=IMAGE_SIZE):
    """Draws `n` near-out-of-distribution images: a target of no class.

    Drawn as `generate_batch` draws, with distractors of any of the 10 classes, but the target (the
    largest object) has one of the shapes of `NOVEL_SHAPE_NAMES`, which a classifier of the classes never saw.

    Args:
        rng: A `numpy.random.Generator`; all randomness comes from it.
        n: Number of examples, a positive int.
        image_size: Height and width in pixels. Defaults to 64.

    Returns:
        The dict of `generate_batch`, where `label` int64 [n] is the index of
        the target's shape in `NOVEL_SHAPE_NAMES` (not a class).
    """
    _check_sizes(n, image_size)
    novel = rng.integers(0, len(NOVEL_SHAPE_NAMES), n)
    any_class = lambda idx: rng.integers(0, NUM_CLASSES, len(idx))
    return _compose(rng, NUM_CLASSES + novel, novel, any_class, image_size)


def generate_example(rng, *, image_size=IMAGE_SIZE):
    """Draws one example; see `generate_batch` for the fields (without the batch axis)."""
    batch = generate_batch(rng, 1, image_size=image_size)
    return {key: value[0] for key, value in batch.items()}


def generate_split(seed, n, *, image_size=IMAGE_SIZE):
    """Draws `n` examples deterministically from `seed`.

    Args:
        seed: An int or a sequence of ints (e.g. `(seed, split_index)`), passed to `numpy.random.default_rng`.
        n: Number of examples.
        image_size: Height and width in pixels. Defaults to 64.

    Returns:
        The dict of `generate_batch`, with `n` examples.
    """
    rng = np.random.default_rng(seed)
    chunks = [generate_batch(rng, min(_CHUNK, n - start), image_size=image_size) for start in range(0, n, _CHUNK)]
    return {key: np.concatenate([c[key] for c in chunks]) for key in chunks[0]}


# Detection scenes ("synthetic_detection"): several labelled objects, any class, any size.
SCENE_IMAGE_SIZE = 128
SCENE_NUM_OBJECTS = (3, 8)
SCENE_SCALE = (3.5, 26.0)  # Radius in pixels at 128, drawn log-uniformly: many small objects.
SCENE_MAX_OCCLUDED = 0.5  # Difficult: more than half of the object hidden by later objects,
SCENE_MIN_SIDE = 1.0 / 16.0  # or its visible box's shorter side under 1/16 of the image (8 px at 128).


def generate_scenes(rng, n, *, image_size=SCENE_IMAGE_SIZE):
    """Draws `n` detection scenes: 3 to 8 labelled objects of the 10 classes per image.

    Backgrounds, colours, textures, rotations and noise are drawn as in `generate_batch`. Each object has a random
    class, a log-uniform scale (radius 3.5 to 26 pixels at 128, scaled with `image_size`) and a centre anywhere in
    the image (so it may be cut off); later objects occlude earlier ones. A box is the tight box of the object's
    *visible* pixels; an object with none is dropped. An object is difficult when more than half of its pixels inside
    the image are hidden by later objects, or its box's shorter side is under 1/16 of the image (8 pixels at 128).

    Args:
        rng: A `numpy.random.Generator`; all randomness comes from it.
        n: Number of images, a positive int.
        image_size: Height and width in pixels. Defaults to 128.

    Returns:
        A dict with `image` uint8 [n, S, S, 3], `num_objects` int64 [n], and, padded to 8 objects per image, `bbox`
        float32 [n, 8, 4] (normalised `[ymin, xmin, ymax, xmax]`, zeros for padding), `label` int64 [n, 8] (-1 for
        padding), `is_difficult` bool [n, 8] and `mask` bool [n, 8, S, S] (each object's visible pixels).
    """
    _check_sizes(n, image_size, 32)
    size, slots = float(image_size), SCENE_NUM_OBJECTS[1]
    grid = _pixel_grid(image_size)
    image = _background(rng, n, grid, size)
    count = rng.integers(SCENE_NUM_OBJECTS[0], SCENE_NUM_OBJECTS[1] + 1, n)
    labels = np.full((n, slots), -1, np.int64)
    painted = np.zeros((n, slots, image_size, image_size), bool)
    low, high = np.log(np.array(SCENE_SCALE) * size / SCENE_IMAGE_SIZE)
    for slot in range(slots):
        idx = np.flatnonzero(slot < count)
        labels[idx, slot] = rng.integers(0, NUM_CLASSES, len(idx))
        scale = np.exp(rng.uniform(low, high, len(idx))).astype(np.float32)
        cy, cx = rng.uniform(0.0, size, (2, len(idx)))
        painted[idx, slot] = _paint(image, idx, labels[idx, slot], cy, cx, scale, rng, grid)
    image += rng.standard_normal(image.shape, dtype=np.float32) * 5.0
    visible, covered = painted.copy(), painted[:, -1].copy()
    for slot in range(slots - 2, -1, -1):  # Hidden by the objects painted after it.
        visible[:, slot] &= ~covered
        covered |= painted[:, slot]
    area, shown = painted.sum((2, 3)), visible.sum((2, 3))
    bbox = _tight_boxes(visible, size)
    side = np.minimum(bbox[..., 2] - bbox[..., 0], bbox[..., 3] - bbox[..., 1])
    difficult = (shown < (1.0 - SCENE_MAX_OCCLUDED) * area) | (side < SCENE_MIN_SIDE)
    keep = shown > 0  # Padding slots and fully hidden objects go; the others move to the front.
    order = np.argsort(~keep, 1, kind="stable")
    take = lambda a: np.take_along_axis(a, order.reshape(order.shape + (1,) * (a.ndim - 2)), 1)
    keep = take(keep)
    return {
        "image": np.clip(np.round(image), 0, 255).astype(np.uint8),
        "num_objects": keep.sum(1).astype(np.int64),
        "bbox": np.where(keep[..., None], take(bbox), 0.0).astype(np.float32),
        "label": np.where(keep, take(labels), -1),
        "is_difficult": take(difficult) & keep,
        "mask": take(visible),
    }

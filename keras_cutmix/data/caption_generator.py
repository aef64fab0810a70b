"""Pure NumPy generator of captioned scenes for the "synthetic_captions" data set (no TensorFlow).

Every 64x64 image holds 2 or 3 solid-coloured objects of the synthetic_shapes classes (distinct shapes,
distinct colours of `COLOUR_NAMES`, each "small" or "large": radius 6-8 or 11-13 pixels) on a plain grey
background, each in its own cell of a 2x2 grid, so that the first two, in neighbouring cells, are
unambiguously above, below, left of or right of each other. Each image comes with `NUM_CAPTIONS` (5)
references from distinct templates with random synonyms ("large"/"big", "left of"/"to the left of"):

    a large red star above a small blue circle
    a little blue circle below a big red star
    there is a red star and a blue circle

A third object is named at the end of every caption ("... and a green ring"). Every caption names each
object's colour and shape, so a model that ignores the image can only learn the grammar. Everything is
drawn from the `numpy.random.Generator` passed in: the same seed gives the same images and captions.
"""

import numpy as np

from keras_cutmix.data import synthetic_generator

IMAGE_SIZE = 64
NUM_CAPTIONS = 5
MAX_OBJECTS = 3
# One word per class of synthetic_shapes (x_cross is a "cross", plus a "plus").
SHAPE_WORDS = ("circle", "square", "triangle", "diamond", "plus",
               "ring", "cross", "frame", "star", "crescent")
COLOUR_NAMES = ("red", "green", "blue", "yellow", "purple", "orange", "white")
COLOURS = np.array([(220, 30, 30), (30, 170, 50), (40, 70, 230), (235, 215, 30),
                    (140, 40, 190), (245, 135, 20), (245, 245, 245)], np.float32)
SIZE_WORDS = (("small", "little"), ("large", "big"))
SIZE_RADIUS = ((6.0, 8.0), (11.0, 13.0))  # Radius in pixels at 64, small and large.
RELATIONS = ("above", "below", "left of", "right of")
RELATION_WORDS = (("above",), ("below",), ("left of", "to the left of"), ("right of", "to the right of"))
_INVERSE = (1, 0, 3, 2)
# Templates over {a}, {b}: the first two objects ("a large red star", article included), {rel} the relation of a to
# b, {inv} that of b to a; {a_} and {b_} without the size word.
_TEMPLATES = (
    "{a} {rel} {b}",
    "{b} {inv} {a}",
    "there is {a_} and {b_}",
    "{a_} is {rel} {b_}",
    "a picture of {a} {rel} {b}",
    "{b_} {inv} {a_}",
    "an image with {b} and {a}",
)
# Cells of the 2x2 grid as (row, col); neighbouring pairs of cells and the relation of the first to the second.
_CELLS = ((0, 0), (0, 1), (1, 0), (1, 1))
_PAIRS = tuple((i, j) for i in range(4) for j in range(4)
               if i != j and abs(_CELLS[i][0] - _CELLS[j][0]) + abs(_CELLS[i][1] - _CELLS[j][1]) == 1)


def _relation(cell_a, cell_b):
    (ra, ca), (rb, cb) = _CELLS[cell_a], _CELLS[cell_b]
    if ca == cb:
        return 0 if ra < rb else 1
    return 2 if ca < cb else 3


def _describe(rng, shape, colour, size, with_size=True):
    """ "a large red star", "an orange circle": article, size word (if `with_size`), colour, shape."""
    words = [str(rng.choice(SIZE_WORDS[size]))] if with_size else []
    words += [COLOUR_NAMES[colour], SHAPE_WORDS[shape]]
    return ("an " if words[0][0] in "aeiou" else "a ") + " ".join(words)


def _captions(rng, shapes, colours, sizes, relation):
    """NUM_CAPTIONS distinct references of one scene."""
    captions = []
    for template in rng.permutation(len(_TEMPLATES))[:NUM_CAPTIONS]:
        a, a_ = (_describe(rng, shapes[0], colours[0], sizes[0], s) for s in (True, False))
        b, b_ = (_describe(rng, shapes[1], colours[1], sizes[1], s) for s in (True, False))
        rel = rng.choice(RELATION_WORDS[relation])
        inv = rng.choice(RELATION_WORDS[_INVERSE[relation]])
        text = _TEMPLATES[template].format(a=a, b=b, a_=a_, b_=b_, rel=rel, inv=inv)
        if len(shapes) == 3:
            text += " and " + _describe(rng, shapes[2], colours[2], sizes[2], rng.random() < 0.5)
        captions.append(text)
    return captions


def generate_captioned_scenes(rng, n, *, image_size=IMAGE_SIZE):
    """Draws `n` captioned scenes.

    Args:
        rng: A `numpy.random.Generator`; all randomness comes from it.
        n: Number of images, a positive int.
        image_size: Height and width in pixels (positions and radii scale with it). Defaults to 64.

    Returns:
        A dict with `image` uint8 [n, S, S, 3], `captions` (a list of `n` lists of `NUM_CAPTIONS` strings),
        `num_objects` int64 [n] (2 or 3), and per object, padded to 3 with -1: `shape` (class id of
        synthetic_shapes), `colour` (index in `COLOUR_NAMES`), `size` (0 small, 1 large) int64 [n, 3], `center`
        float32 [n, 3, 2] (y, x in pixels, -1 for padding) and `relation` int64 [n] (index in `RELATIONS`:
        object 0 relative to object 1).

    Raises:
        ValueError: if `n` < 1 or `image_size` < 32.
    """
    synthetic_generator._check_sizes(n, image_size, 32)
    n, size = int(n), float(image_size)
    unit = size / IMAGE_SIZE
    grid = synthetic_generator._pixel_grid(image_size)
    num_objects = rng.integers(2, MAX_OBJECTS + 1, n)
    shape = np.stack([rng.permutation(synthetic_generator.NUM_CLASSES)[:MAX_OBJECTS] for _ in range(n)])
    colour = np.stack([rng.permutation(len(COLOUR_NAMES))[:MAX_OBJECTS] for _ in range(n)])
    obj_size = rng.integers(0, 2, (n, MAX_OBJECTS))
    pair = rng.integers(0, len(_PAIRS), n)
    third = np.array([rng.choice([c for c in range(4) if c not in _PAIRS[p]]) for p in pair])
    cells = np.stack([np.array(_PAIRS)[pair, 0], np.array(_PAIRS)[pair, 1], third], 1)

    radius = rng.uniform(*np.array(SIZE_RADIUS)[obj_size].transpose(2, 0, 1)) * unit
    margin = radius * np.sqrt(1.15) + unit  # The stretched shape stays inside its cell.
    half = size / 4.0
    jitter = rng.uniform(-1.0, 1.0, (2, n, MAX_OBJECTS)) * np.maximum(half - margin, 0.0)
    rows, cols = np.array(_CELLS)[cells].transpose(2, 0, 1)
    cy, cx = (2 * rows + 1) * half + jitter[0], (2 * cols + 1) * half + jitter[1]

    grey = rng.uniform(70.0, 130.0, n).astype(np.float32)
    image = np.broadcast_to(grey[:, None, None, None], (n, image_size, image_size, 3)).copy()
    for k in range(MAX_OBJECTS):
        idx = np.flatnonzero(k < num_objects)
        masks = synthetic_generator._draw_masks(shape[idx, k], cy[idx, k], cx[idx, k],
                                                radius[idx, k].astype(np.float32), rng, grid)
        sub = image[idx]
        np.copyto(sub, COLOURS[colour[idx, k]][:, None, None], where=masks[..., None])
        image[idx] = sub
    image += rng.standard_normal(image.shape, dtype=np.float32) * 4.0

    relation = np.array([_relation(*_PAIRS[p]) for p in pair])
    captions = [_captions(rng, shape[i, :m], colour[i, :m], obj_size[i, :m], relation[i])
                for i, m in enumerate(num_objects)]
    present = np.arange(MAX_OBJECTS)[None] < num_objects[:, None]
    pad = lambda values: np.where(present, values, -1).astype(np.int64)
    center = np.where(present[..., None], np.stack([cy, cx], -1), -1.0).astype(np.float32)
    return {
        "image": np.clip(np.round(image), 0, 255).astype(np.uint8),
        "captions": captions,
        "num_objects": num_objects.astype(np.int64),
        "shape": pad(shape), "colour": pad(colour), "size": pad(obj_size),
        "center": center, "relation": relation.astype(np.int64),
    }

"""Writes wsolevaluation metadata folders for tests, in the real layout (`metadata/ILSVRC/test/`).

    write_metadata(folder, [("val/ILSVRC2012_val_00000001.JPEG", 65, (500, 375), [(111, 108, 441, 193)])])

Four files, one image per line (one box per line in `localization.txt`), comma-separated, no trailing
newline, as wsolevaluation ships them; sizes are `(width, height)`, boxes `(x0, y0, x1, y1)` pixels with
corners included. Written by hand here, independently of `keras_cutmix.data.wsol_metadata`, which reads them.
"""

import os


def write_metadata(folder, images):
    """Writes `image_ids.txt`, `class_labels.txt`, `image_sizes.txt` and `localization.txt` in `folder`.

    Args:
        folder: Folder to create (parents included) or fill.
        images: `(path, label, (width, height), [(x0, y0, x1, y1), ...])` per image, in order.

    Returns:
        `folder` as a string.
    """
    os.makedirs(folder, exist_ok=True)
    files = {
        "image_ids.txt": [path for path, *_ in images],
        "class_labels.txt": [f"{path},{label}" for path, label, *_ in images],
        "image_sizes.txt": [f"{path},{w},{h}" for path, _, (w, h), _ in images],
        "localization.txt": [f"{path},{x0},{y0},{x1},{y1}" for path, *_, boxes in images
                             for x0, y0, x1, y1 in boxes],
    }
    for name, lines in files.items():
        with open(os.path.join(folder, name), "w") as f:
            f.write("\n".join(lines))  # No trailing newline, like wsolevaluation's files.
    return str(folder)

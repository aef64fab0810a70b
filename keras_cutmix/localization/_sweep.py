"""Best box IoU at every threshold level of uint8 maps, in one pass per map (the engine of `max_box_acc`).

wsolevaluation thresholds a uint8 map at each CAM threshold and runs OpenCV's `findContours`, about 1,000
times per map. A uint8 map has at most 255 foreground sets `image > level` (level 0..254), and as the level
falls regions only grow and merge. So one sweep from the top level down, adding the pixels of each level and
merging 8-connected regions with a union-find, gives every region's bounding box at every level; a second
sweep from the bottom up over the background (4-connected, the dual of 8-connected foreground) gives the
holes, whose contours OpenCV also returns (`RETR_TREE`); it runs only on the maps that have a hole at some
level (`maps_with_holes`), few among smooth maps. All maps of a chunk are swept together, so each
NumPy call handles one level of every map at once.

What OpenCV returns, checked against `cv2.findContours` on random binary images: one outer contour per
8-connected foreground region, whose bounding rect is the region's pixel box, and one contour per hole (a
4-connected background region that does not reach the image border), whose bounding rect is the hole's
pixel box grown by one pixel on every side.
"""

import numpy as np
import scipy.sparse
import scipy.sparse.csgraph

NUM_LEVELS = 255  # Foreground `image > level` for level 0..254; level 255 is always empty.
_BIG = np.iinfo(np.int64).max


def wsol_iou(boxes, gt_boxes, gt_valid):
    """wsolevaluation's IoU (`calculate_multiple_iou`, `+ 1` areas), best over each row's valid gt boxes.

    Args:
        boxes: int64 [n, 4] x0y0x1y1 (inclusive, wsolevaluation's convention).
        gt_boxes: int64 [n, K, 4] x0y0x1y1, the gt boxes of each row's image.
        gt_valid: bool [n, K], which gt boxes are real (the rest is padding).

    Returns:
        float64 [n]: the best IoU of each box over its valid gt boxes.
    """
    a = boxes[:, None, :]
    inter = (np.maximum(0, np.minimum(a[..., 2], gt_boxes[..., 2]) - np.maximum(a[..., 0], gt_boxes[..., 0]) + 1)
             * np.maximum(0, np.minimum(a[..., 3], gt_boxes[..., 3]) - np.maximum(a[..., 1], gt_boxes[..., 1]) + 1))
    area_a = (a[..., 2] - a[..., 0] + 1) * (a[..., 3] - a[..., 1] + 1)
    area_b = (gt_boxes[..., 2] - gt_boxes[..., 0] + 1) * (gt_boxes[..., 3] - gt_boxes[..., 1] + 1)
    denominator = area_a + area_b - inter
    degenerate = denominator <= 0
    ious = inter / np.where(degenerate, 1, denominator)
    ious[degenerate | ~gt_valid] = 0.0
    return ious.max(axis=1) if ious.shape[1] else np.zeros(len(boxes))


class _UnionFind:
    """Regions of one sweep over a padded flat pixel array: parent links, boxes, areas, live roots."""

    def __init__(self, num_pixels, ys, xs):
        self.parent = np.arange(num_pixels)
        self.box = np.stack([ys, xs, ys, xs])  # Inclusive pixel box [4, P] of each root: y0, x0, y1, x1.
        self.area = np.zeros(num_pixels)  # Area of the polygon through the outer boundary's pixel centres.
        self.first = np.arange(num_pixels)  # The region's first pixel in raster order.
        self.border = np.zeros(num_pixels, dtype=bool)
        self.live_mask = np.zeros(num_pixels, dtype=bool)
        self.live = np.zeros(0, dtype=np.int64)
        self._slot = np.zeros(num_pixels, dtype=np.int64)
        self._is_new = np.zeros(num_pixels, dtype=bool)

    def find(self, pixels):
        roots = self.parent[pixels]
        while True:
            up = self.parent[roots]
            if np.array_equal(up, roots):
                break
            roots = up
        self.parent[pixels] = roots  # Path compression.
        return roots

    def add(self, new, neighbours):
        """Adds pixels `new` whose neighbours in the set are `neighbours` [len(new), k] (-1: none).

        Returns:
            The roots whose region changed (new or grown).
        """
        has = neighbours >= 0
        sources = np.broadcast_to(new[:, None], neighbours.shape)[has]
        targets = self.find(neighbours[has])
        self._is_new[new] = True
        old_roots = targets[~self._is_new[targets]]
        self._is_new[new] = False
        nodes = np.concatenate([old_roots, new])  # Old roots first, so they stay roots: short parent chains.
        order = np.arange(len(nodes))
        self._slot[nodes] = order
        nodes = nodes[self._slot[nodes] == order]  # Unique, without sorting.
        self._slot[nodes] = np.arange(len(nodes))
        graph = scipy.sparse.csr_matrix(
            (np.ones(len(sources), dtype=np.int8), (self._slot[sources], self._slot[targets])),
            shape=(len(nodes), len(nodes)))
        count, labels = scipy.sparse.csgraph.connected_components(graph, directed=True, connection="weak")
        reps = np.empty(count, dtype=np.int64)
        reps[labels[::-1]] = nodes[::-1]  # The first node of each region becomes its root.
        box = np.empty((4, count), dtype=np.int64)
        for row, ufunc, init in ((0, np.minimum, _BIG), (1, np.minimum, _BIG), (2, np.maximum, -1),
                                 (3, np.maximum, -1)):
            box[row] = init
            ufunc.at(box[row], labels, self.box[row, nodes])
        area = np.bincount(labels, weights=self.area[nodes], minlength=count)
        first = np.full(count, _BIG)
        np.minimum.at(first, labels, self.first[nodes])
        border = np.bincount(labels, weights=self.border[nodes], minlength=count) > 0
        self.parent[nodes] = reps[labels]
        self.live_mask[nodes] = False
        self.live = self.live[self.live_mask[self.live]]
        self.live = np.concatenate([self.live, reps])
        self.live_mask[reps] = True
        self.box[:, reps] = box
        self.area[reps] = area
        self.first[reps] = first
        self.border[reps] = border
        return reps


def _padded(images):
    """Flattens uint8 maps [B, H, W] with a one-pixel frame of -1 (never foreground, always background).

    Returns:
        (values int16 [P], map index [P], image row [P], image column [P] (-1 and H or W on the frame),
        the non-frame pixels sorted by value, where each value's pixels start in that list [257]).
    """
    num_maps, height, width = images.shape
    hp, wp = height + 2, width + 2
    padded = np.full((num_maps, hp, wp), -1, dtype=np.int16)
    padded[:, 1:-1, 1:-1] = images
    values = padded.ravel()
    flat = np.arange(values.size)
    interior = flat[values >= 0]
    interior = interior[np.argsort(values[interior], kind="stable")]
    starts = np.concatenate([[0], np.cumsum(np.bincount(values[interior], minlength=256))])
    return values, flat // (hp * wp), (flat % (hp * wp)) // wp - 1, flat % wp - 1, interior, starts


def level_scores(images, gt_boxes, gt_valid, multi_contour):
    """Best wsolevaluation IoU at every level of every uint8 map.

    Args:
        images: uint8 [B, H, W], the quantised maps.
        gt_boxes: int64 [B, K, 4] x0y0x1y1 gt boxes (wsolevaluation's convention), padded.
        gt_valid: bool [B, K].
        multi_contour: True: best IoU over all contours' boxes (MaxBoxAccV2); False: the box of the region
            whose outer contour has the largest polygon area (MaxBoxAcc), see `_add_polygon_areas`.

    Returns:
        float64 [B, NUM_LEVELS]: at level L, the best IoU of the boxes of the foreground `image > L`; where
        that foreground is empty, the IoU of wsolevaluation's fallback box [0, 0, 0, 0].
    """
    num_maps, height, width = images.shape
    wp = width + 2
    values, map_of, ys, xs, interior, starts = _padded(images)
    num_pixels = values.size

    def pixels_at(value):
        return interior[starts[value]:starts[value + 1]]

    def best_iou(boxes, roots):
        return wsol_iou(boxes, gt_boxes[map_of[roots]], gt_valid[map_of[roots]])

    scores = np.zeros((num_maps, NUM_LEVELS))
    root_iou = np.zeros(num_pixels)
    offsets8 = np.array([-wp - 1, -wp, -wp + 1, -1, 1, wp - 1, wp, wp + 1])
    regions = _UnionFind(num_pixels, ys, xs)
    inside = np.zeros(num_pixels, dtype=bool)
    blocks = np.zeros(num_pixels, dtype=np.int8)  # Foreground pixels in the 2x2 block anchored at each pixel.
    for level in range(NUM_LEVELS - 1, -1, -1):
        new = pixels_at(level + 1)
        if len(new):
            inside[new] = True
            neighbours = new[:, None] + offsets8
            neighbours = np.where(inside[neighbours], neighbours, -1)
            changed = regions.add(new, neighbours)
            y0, x0, y1, x1 = regions.box[:, changed]
            boxes = np.stack([x0, y0, np.minimum(x1 + 1, width - 1), np.minimum(y1 + 1, height - 1)], axis=1)
            root_iou[changed] = best_iou(boxes, changed)
            if not multi_contour:
                _add_polygon_areas(regions, blocks, new, wp)
        live = regions.live
        if multi_contour:
            np.maximum.at(scores[:, level], map_of[live], root_iou[live])
        elif len(live):
            # Largest first; on ties the last region in raster order, which OpenCV lists first.
            order = np.lexsort((-regions.first[live], -regions.area[live], map_of[live]))
            ordered = live[order]
            first = np.concatenate([[True], map_of[ordered][1:] != map_of[ordered][:-1]])
            scores[map_of[ordered[first]], level] = root_iou[ordered[first]]
    if multi_contour:
        holed = maps_with_holes(images)  # Most smooth maps have no hole at any level: skip their sweep.
        if holed.any():
            hole_scores = level_scores_of_holes(images[holed], gt_boxes[holed], gt_valid[holed])
            scores[holed] = np.maximum(scores[holed], hole_scores)
    fallback = wsol_iou(np.zeros((num_maps, 4), dtype=np.int64), gt_boxes, gt_valid)
    empty = np.arange(NUM_LEVELS)[None, :] >= images.reshape(num_maps, -1).max(axis=1)[:, None]
    return np.where(empty, fallback[:, None], scores)


def _add_polygon_areas(regions, blocks, new, wp):
    """Adds the area that pixels `new` bring to their regions' outer polygons (OpenCV's `contourArea`).

    The polygon through the centres of a region's boundary pixels (8-connected tracing) covers every 2x2
    block of pixel centres whose 4 pixels are in the region, and half of every block with 3 of them (the
    diagonal step cuts it in two). Holes are not added back, so a region with holes gets less than OpenCV's
    outer contour area.
    """
    anchors = (new[:, None] - np.array([0, 1, wp, wp + 1])).ravel()
    np.add.at(blocks, anchors, 1)
    unique, index, repeats = np.unique(anchors, return_index=True, return_counts=True)
    after = blocks[unique].astype(np.int64)
    gain = 0.5 * (np.maximum(after - 2, 0) - np.maximum(after - repeats - 2, 0))
    np.add.at(regions.area, regions.find(new[index // 4]), gain)


def maps_with_holes(images):
    """Which uint8 maps [B, H, W] have a hole at some level: an interior regional-minimum plateau.

    A hole at level L (a 4-connected region of `image <= L` off the border) holds a plateau of its minimum
    value whose 4-neighbours are all higher; conversely such a plateau off the border is a hole at its own
    value. So a map has holes at some level exactly when a 4-connected plateau of equal values, off the
    border, has no strictly lower 4-neighbour.
    """
    num_maps, height, width = images.shape
    flat = np.arange(images.size).reshape(images.shape)
    values = images.astype(np.int16)
    right = values[:, :, :-1] == values[:, :, 1:]
    down = values[:, :-1, :] == values[:, 1:, :]
    sources = np.concatenate([flat[:, :, :-1][right], flat[:, :-1, :][down]])
    targets = np.concatenate([flat[:, :, 1:][right], flat[:, 1:, :][down]])
    graph = scipy.sparse.csr_matrix((np.ones(len(sources), dtype=np.int8), (sources, targets)),
                                    shape=(images.size, images.size))
    count, plateau = scipy.sparse.csgraph.connected_components(graph, directed=True, connection="weak")
    lower = np.zeros(images.shape, dtype=bool)
    lower[:, :, 1:] |= values[:, :, :-1] < values[:, :, 1:]
    lower[:, :, :-1] |= values[:, :, 1:] < values[:, :, :-1]
    lower[:, 1:, :] |= values[:, :-1, :] < values[:, 1:, :]
    lower[:, :-1, :] |= values[:, 1:, :] < values[:, :-1, :]
    border = np.zeros(images.shape, dtype=bool)
    border[:, [0, -1], :] = True
    border[:, :, [0, -1]] = True
    excluded = np.bincount(plateau, weights=(lower | border).ravel(), minlength=count) > 0
    map_of_plateau = np.zeros(count, dtype=np.int64)
    map_of_plateau[plateau] = flat.ravel() // (height * width)
    holed = np.zeros(num_maps, dtype=bool)
    holed[map_of_plateau[~excluded]] = True
    return holed


def level_scores_of_holes(images, gt_boxes, gt_valid):
    """Best IoU over the holes' contour boxes at each level: background `image <= L`, 4-connected."""
    num_maps, height, width = images.shape
    wp = width + 2
    values, map_of, ys, xs, interior, starts = _padded(images)
    num_pixels = values.size

    def best_iou(boxes, roots):
        return wsol_iou(boxes, gt_boxes[map_of[roots]], gt_valid[map_of[roots]])

    scores = np.zeros((num_maps, NUM_LEVELS))
    root_iou = np.zeros(num_pixels)
    regions = _UnionFind(num_pixels, ys, xs)
    inside = values < 0  # The padding frame: background at every level, one region per map, on the border.
    frame = np.flatnonzero(inside)
    regions.parent[frame] = frame[np.searchsorted(map_of[frame], map_of[frame])]
    regions.border[frame] = True
    offsets4 = np.array([-wp, -1, 1, wp])
    for level in range(NUM_LEVELS):
        new = interior[starts[level]:starts[level + 1]]
        if len(new):
            inside[new] = True
            neighbours = new[:, None] + offsets4
            neighbours = np.where(inside[neighbours], neighbours, -1)
            changed = regions.add(new, neighbours)
            holes = changed[~regions.border[changed]]
            y0, x0, y1, x1 = regions.box[:, holes]
            boxes = np.stack([x0 - 1, y0 - 1, np.minimum(x1 + 2, width - 1), np.minimum(y1 + 2, height - 1)],
                             axis=1)
            root_iou[changed] = 0.0
            root_iou[holes] = best_iou(boxes, holes)
        live = regions.live
        np.maximum.at(scores[:, level], map_of[live], root_iou[live])
    return scores
